"""The OANDA adapter under the fake v20's seeded chaos, seed after seed.

Per seed: a fake v20 server in chaos mode (random delays, 429s with
Retry-After, 5xx, lost answers to writes, dropped price streams: see
tests/fakes/oanda_v20_faults.py) and one adapter run through a fixed
script of orders: market buys and sells, a limit order modified then
cancelled, a held bracket whose stop-loss then fills, a price stream read.
A seed passes when, at the end:

* every ``ORDER_FILL`` of our orders at the venue was reported exactly once;
* no client order id was sent twice (one order-create per id, replacements
  aside);
* the adapter's positions equal the venue's open trades, and no order is
  left working;
* no call raised (``OrderOutcomeUnknown`` is counted, not a failure, only
  if the fill it hid was still reported).

    python bench/oanda_chaos.py --seeds 100      # by hand
    python bench/oanda_chaos.py --smoke          # 3 seeds (CI smoke)
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import arguments, table, write_result
from live_trading.brokers.oanda import OANDABroker, OANDAConfig
from live_trading.domain.orders import Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import OrderType, Side
from live_trading.engine.ports import OrderOutcomeUnknown
from tests.fakes.oanda_v20 import FakeOANDA, FakeOANDAServer

ACC = "bench"


async def wait_until(predicate, timeout_s: float = 15.0) -> bool:
    for _ in range(int(timeout_s / 0.02)):
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return False


async def script(broker: OANDABroker, fake: FakeOANDA, reports: list, unknown: list) -> None:
    """The orders of one seed (see the module docs)."""

    async def submit(request: OrderRequest) -> None:
        try:
            await broker.submit_order(request)
        except OrderOutcomeUnknown as error:
            unknown.append(error.client_order_id)

    for n, side in enumerate([Side.BUY, Side.SELL, Side.BUY, Side.BUY, Side.SELL]):
        await submit(OrderRequest(f"LT-{ACC}-m{n}", ACC, "USD-CAD", side, 1_000 * (n + 1)))
    await submit(
        OrderRequest(
            f"LT-{ACC}-l1", ACC, "USD-CAD", Side.BUY, 2_000, OrderType.LIMIT, limit_price=1.2000
        )
    )
    await broker.modify_order(f"LT-{ACC}-l1", limit_price=1.2100)
    await broker.cancel_order(f"LT-{ACC}-l1")
    entry = f"LT-{ACC}-e1"
    await submit(
        OrderRequest(entry, ACC, "USD-CAD", Side.BUY, 3_000, OrderType.LIMIT, limit_price=1.3500)
    )
    await submit(
        OrderRequest(
            f"{entry}-SL",
            ACC,
            "USD-CAD",
            Side.SELL,
            3_000,
            OrderType.STOP,
            stop_price=1.3300,
            parent_client_order_id=entry,
        )
    )
    await submit(
        OrderRequest(
            f"{entry}-TP",
            ACC,
            "USD-CAD",
            Side.SELL,
            3_000,
            OrderType.LIMIT,
            limit_price=1.3900,
            parent_client_order_id=entry,
        )
    )
    fake.set_price("USD_CAD", 1.34990, 1.35000)  # the entry fills
    await wait_until(
        lambda: any(isinstance(r, Execution) and r.client_order_id == entry for r in reports)
    )
    await wait_until(
        lambda: any(
            o["type"] == "STOP_LOSS" and o["state"] == "PENDING" for o in list(fake.orders.values())
        )
    )
    fake.set_price("USD_CAD", 1.32900, 1.32920)  # through the stop
    await wait_until(
        lambda: any(
            isinstance(r, OrderCancelled) and r.client_order_id == f"{entry}-TP" for r in reports
        )
    )
    async for _ in broker.stream_prices(["USD-CAD"]):
        break


def check(broker_positions, venue_positions, fake: FakeOANDA, reports: list) -> list[str]:
    """The invariants of the module docs; the list of what broke."""
    problems = []
    ours = [
        t
        for t in fake.transactions
        if t["type"] == "ORDER_FILL" and (t.get("clientOrderID") or "").startswith(f"LT-{ACC}-")
    ]
    reported = Counter(r.execution_id for r in reports if isinstance(r, Execution))
    missing = [t["id"] for t in ours if reported[t["id"]] != 1]
    if missing:
        problems.append(f"fills not reported exactly once: {missing}")
    creates = Counter(
        (t.get("clientExtensions") or {}).get("id")
        for t in fake.transactions
        if t["type"].endswith("_ORDER")
        and t.get("reason") != "REPLACEMENT"
        and (t.get("clientExtensions") or {}).get("id")
    )
    twice = [cid for cid, n in creates.items() if n > 1]
    if twice:
        problems.append(f"sent twice: {twice}")
    if broker_positions != venue_positions:
        problems.append(f"positions {broker_positions} != venue {venue_positions}")
    working = [o["id"] for o in fake.orders.values() if o["state"] == "PENDING"]
    if working:
        problems.append(f"orders left working: {working}")
    return problems


async def run_seed(seed: int, rate: float) -> dict:
    server = FakeOANDAServer(FakeOANDA(), log_level="critical").start()  # lost answers log
    fake = server.fake
    fake.set_price("USD_CAD", 1.36990, 1.37010)
    fake.faults.start_chaos(seed, rate)
    broker = OANDABroker(
        OANDAConfig(
            account_id=fake.account_id,
            api_key=fake.token,
            base_url=server.url,
            poll_interval_s=0.05,
            heartbeat_timeout_s=1.0,
            reconnect_delay_s=0.05,
            retry_backoff_s=0.02,
            timeout_s=2.0,
            clock_skew_s=0.0,
        )
    )
    reports: list = []
    unknown: list = []

    async def collect(report) -> None:
        reports.append(report)

    broker.set_listener(collect)
    started = time.perf_counter()
    try:
        await broker.connect()
        await asyncio.wait_for(script(broker, fake, reports, unknown), 120)
        await asyncio.sleep(0.5)  # the last reports
        fake.faults.clear()
        problems = check(
            await broker.positions(ACC), await broker.account_positions(), fake, reports
        )
    except Exception as error:  # noqa: BLE001 - a failed seed, reported
        problems = [f"{type(error).__name__}: {error}"]
    finally:
        await broker.disconnect()
        server.stop()
    faults = Counter(kind for kind, *_ in fake.faults.injected)
    return {
        "seed": seed,
        "ok": not problems,
        "problems": "; ".join(problems),
        "faults": sum(faults.values()),
        **{f"n_{k}": v for k, v in faults.items()},
        "unknown": len(unknown),
        "seconds": time.perf_counter() - started,
    }


async def main() -> int:
    args = arguments(
        __doc__.splitlines()[0],
        seeds=(int, 100, "how many seeds"),
        rate=(float, 0.25, "chance a request misbehaves"),
    )
    logging.basicConfig(level=logging.ERROR)
    seeds = 3 if args.smoke else args.seeds
    rows = [await run_seed(seed, args.rate) for seed in range(1, seeds + 1)]
    passed = sum(r["ok"] for r in rows)
    print(
        table(
            [r for r in rows if not r["ok"]] or rows[-3:],
            [
                "seed",
                "ok",
                "faults",
                "n_429",
                "n_5xx",
                "n_delay",
                "n_lose",
                "unknown",
                "seconds",
                "problems",
            ],
            title="OANDA adapter under chaos",
        )
    )
    print(f"\n{passed}/{seeds} seeds passed; {sum(r['faults'] for r in rows)} faults injected")
    write_result(
        "oanda_chaos",
        {"smoke": args.smoke, "seeds": seeds, "rate": args.rate, "passed": passed, "rows": rows},
        args.json,
    )
    return 0 if passed == seeds else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
