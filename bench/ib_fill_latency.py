"""Fill -> journal latency through the IB adapter, commissions late.

``python bench/ib_fill_latency.py [--smoke] [--bars B] [--commission-delay S]``

The whole engine (runner, MomentumStrategy on the shipped USD-CAD hourly
file, order manager, journal on the embedded store with an fsync per
commit) trades through :class:`~live_trading.brokers.ibkr.IBKRBroker` and
the real ib_async client, against the fake TWS of tests/fakes/tws_server.py
driven along each bar's price path. Every commission report comes
``--commission-delay`` seconds after its execution (IB: usually ms, at
times seconds). The clock starts when the fake TWS writes an
``execDetails`` on the socket and stops when the journal append holding
its ``ORDER_FILLED`` has committed. A fill must not wait for its
commission: target p99 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, arguments, percentiles, replay_dir, table, verdict, write_result

sys.path.insert(0, str(ROOT))

from live_trading.bootstrap import open_services
from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig
from live_trading.config import Settings
from live_trading.domain.orders import Execution
from live_trading.engine.specs import OperationCreate
from tests.contract.driven_market import DrivenMarket
from tests.fakes.tws_server import FakeTWS

TARGET_P99_MS = 50.0


class StampedTWS(FakeTWS):
    """The fake TWS, noting when each execution's execDetails is written."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.sent_at: dict[str, float] = {}

    def _send_exec(self, conn, req_id, ex) -> None:
        super()._send_exec(conn, req_id, ex)
        if req_id == -1:
            self.sent_at.setdefault(ex.exec_id, time.perf_counter())


class Driver:
    """Trades the fake TWS along the bars; waits for the fills' journaling."""

    def __init__(self, fake: StampedTWS, journaled: dict[str, float]) -> None:
        self.fake, self.journaled = fake, journaled

    async def trade_at(self, price: float) -> None:
        fills = self.fake.trade_at(price)
        for _ in range(2000):
            if all(f.exec_id in self.journaled for f in fills):
                return
            await asyncio.sleep(0.001)
        raise TimeoutError("fills not journaled within 2 s")


def watch_adapter(broker: IBKRBroker, delivered: dict[str, float]) -> None:
    """When the adapter hands each fill to the engine's listener."""
    listener = broker._listener

    async def timed(report) -> None:
        if isinstance(report, Execution):
            delivered.setdefault(report.execution_id, time.perf_counter())
        await listener(report)

    broker.set_listener(timed)


def watch_journal(services, journaled: dict[str, float]) -> None:
    record = services.journal.record

    async def timed_record(operation_id, events, **kw):
        records = await record(operation_id, events, **kw)
        now = time.perf_counter()
        for r in records:
            if r.action_type == "ORDER_FILLED":
                journaled.setdefault(r.action_data["execution_id"], now)
        return records

    services.journal.record = timed_record


async def scenario(bars: int, commission_delay_s: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-ibfill-"))
    fake = StampedTWS()
    fake.default_behaviour = "rest"
    fake.adversary.commission, fake.adversary.commission_delay_s = "late", commission_delay_s
    port = await fake.start()
    journaled: dict[str, float] = {}
    settings = Settings(
        data_dir=work / "var",
        mongodb_url=None,
        replay_speed=0.0,
        replay_data_dir=replay_dir(bars, work),
        trading_worker_enabled=False,
        trade_log_dir=work / "logs",
    )
    broker = IBKRBroker(IBKRConfig(port=port, client_id=11, reconnect_backoff_s=(0.05,)))
    services = await open_services(
        settings, sync_on_commit=True, broker=broker, market=DrivenMarket(Driver(fake, journaled))
    )
    watch_journal(services, journaled)
    delivered: dict[str, float] = {}
    try:
        await services.start()
        watch_adapter(broker, delivered)
        await services.engine.create_operation(
            OperationCreate(
                asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 hour"]
            ),
            source="bench",
        )
        await services.engine.wait_idle()
    finally:
        await services.close()
        await fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    latencies = [journaled[e] - fake.sent_at[e] for e in fake.sent_at if e in journaled]
    adapter = [delivered[e] - fake.sent_at[e] for e in fake.sent_at if e in delivered]
    return {
        "bars": bars,
        "commission_delay_s": commission_delay_s,
        "fills": len(fake.executions),
        "fills_journaled": len(latencies),
        "fill_to_journal_ms": percentiles(latencies, 1000),
        "fill_to_engine_listener_ms": percentiles(adapter, 1000),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        bars=(int, 400, "bars of the replay"),
        commission_delay=(float, 1.0, "seconds from a fill to its commission"),
    )
    bars = 120 if args.smoke else args.bars
    result = asyncio.run(scenario(bars, args.commission_delay))
    p99 = result["fill_to_journal_ms"]["p99"]
    result["target_p99_ms"] = TARGET_P99_MS
    result["verdict"] = verdict(p99, TARGET_P99_MS, at_most=True)
    stats = result["fill_to_journal_ms"]
    adapter = result["fill_to_engine_listener_ms"]
    print(
        table(
            [
                {
                    "bars": bars,
                    "fills": result["fills"],
                    "journaled": result["fills_journaled"],
                    "adapter p50 ms": adapter["p50"],
                    "adapter p99 ms": adapter["p99"],
                    "p50 ms": stats["p50"],
                    "p90 ms": stats["p90"],
                    "p99 ms": p99,
                    "max ms": stats["max"],
                    "commission delay s": args.commission_delay,
                    "target": result["verdict"],
                }
            ],
            [
                "bars",
                "fills",
                "journaled",
                "adapter p50 ms",
                "adapter p99 ms",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "commission delay s",
                "target",
            ],
            f"fill -> journal through the IB adapter (target p99 <= {TARGET_P99_MS:g} ms)",
        )
    )
    if not args.smoke or args.json:  # a smoke run keeps the committed result
        write_result("ib_fill_latency", {**result, "smoke": args.smoke}, args.json)


if __name__ == "__main__":
    main()
