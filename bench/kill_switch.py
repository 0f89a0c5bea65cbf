"""Kill switch: 100 operations with open positions, flat and paused in seconds.

``python bench/kill_switch.py [--smoke] [--operations 100] [--concurrency 1,32] [--broker-ms 50]``

Each scenario opens the engine on a new embedded store (fsync per commit, as
in production) and creates ``--operations`` operations (MomentumStrategy on
the shipped USD-CAD hourly file, the first 120 bars, paper broker): each ends
its replay with a SHORT open and its stop-loss and take-profit working. Every
broker order call (submit, cancel) is made ``--broker-ms`` slower, a venue's
round trip. Then one press of the kill switch with the scenario's
concurrency (``KILL_SWITCH_CONCURRENCY``), and, while it runs, a second
press, which must join it.

Reported per concurrency: the press's wall time (press to answer, every
operation done), each operation's time to flat (press to the journal entry of
its exit's fill, from the journal's own timestamps), the journal entries
written, and checks: every operation paused and flat, one
``RISK_RULE_TRIGGERED`` per operation (the second press journaled nothing).
Target (issue 15): 100 operations flat and paused within 2 s plus one broker
round trip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bson import ObjectId

from _common import (
    ServerProfile,
    arguments,
    cpu_seconds,
    percentiles,
    replay_dir,
    round_trips,
    table,
    verdict,
    write_result,
)
from live_trading.bootstrap import Services, open_services
from live_trading.config import Settings
from live_trading.engine.specs import OperationCreate

BARS_WITH_OPEN_SHORT = 120  # the first 120 USD-CAD hours end with a SHORT open
TARGET_S = 2.0


def slow_broker(services: Services, latency_s: float) -> None:
    """Make every order call at the broker ``latency_s`` slower (a venue)."""
    broker = services.engine.deps.broker
    for name in (
        "submit_order",
        "submit_orders",
        "submit_bracket",
        "cancel_order",
        "cancel_orders",
    ):
        call = getattr(broker, name, None)
        if call is None:
            continue

        async def delayed(*args: Any, _call=call, **kwargs: Any) -> Any:
            await asyncio.sleep(latency_s)
            return await _call(*args, **kwargs)

        setattr(broker, name, delayed)


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of process ``pid`` so far (Linux /proc)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def open_book(operations: int, work: Path, concurrency: int) -> Services:
    settings = Settings(
        data_dir=work / "var",
        mongodb_url=None,
        replay_speed=0.0,
        replay_data_dir=replay_dir(BARS_WITH_OPEN_SHORT, work),
        trading_worker_enabled=False,
        trade_log_dir=work / "logs",
        kill_switch_concurrency=concurrency,
    )
    services = await open_services(settings, sync_on_commit=True)
    await services.start()
    spec = OperationCreate(asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 hour"])
    for _ in range(operations):
        await services.engine.create_operation(spec, source="bench")
    await services.engine.wait_idle()
    return services


async def press_twice(services: Services) -> tuple[Any, bool, float]:
    """Press, and press again while the first runs; returns the run, whether
    the second joined, and the first press's wall time (s)."""
    started = time.perf_counter()
    first = asyncio.create_task(services.engine.kill_switch(source="bench"))
    await asyncio.sleep(0)  # the first press has begun
    second = asyncio.create_task(services.engine.kill_switch(source="bench/again"))
    (run, _), wall = await first, time.perf_counter() - started
    (again, joined) = await second
    assert again is run
    return run, joined, wall


async def checks(services: Services, ids: list[str], pressed_at) -> dict[str, Any]:
    journal = services.store.db["journal"]
    to_flat, fired, flat_and_paused = [], 0, 0
    for op in ids:
        state = await services.journal.state(op)
        flat_and_paused += state.status == "paused" and state.position is None
        query = {"operation_id": ObjectId(op), "timestamp": {"$gte": pressed_at}}
        entries = await journal.find(query).sort("sequence_number", 1).to_list(None)
        fired += sum(e["action_type"] == "RISK_RULE_TRIGGERED" for e in entries)
        fills = [e["timestamp"] for e in entries if e["action_type"] == "ORDER_FILLED"]
        if fills:
            to_flat.append((fills[-1] - pressed_at).total_seconds())
    return {
        "flat_and_paused": flat_and_paused,
        "risk_rule_entries": fired,
        "time_to_flat_s": percentiles(to_flat),
    }


async def scenario(operations: int, concurrency: int, broker_ms: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-kill-"))
    services = await open_book(operations, work, concurrency)
    try:
        ids = list(services.engine.runners)
        opened = sum([(await services.journal.state(op)).position is not None for op in ids])
        rt = await round_trips(services.store, 50)
        slow_broker(services, broker_ms / 1000)
        before = await services.store.db["journal"].count_documents({})
        pressed_at = (await services.store.db.command("hello"))["localTime"]
        profile = ServerProfile(services.store, work / "server.txt")
        server_cpu, engine_cpu = process_cpu(profile.pid), cpu_seconds()
        with profile:
            run, joined, wall = await press_twice(services)
        server_cpu, engine_cpu = process_cpu(profile.pid) - server_cpu, cpu_seconds() - engine_cpu
        server_top = profile.top(8)
        after = await services.store.db["journal"].count_documents({})
        found = await checks(services, ids, pressed_at.replace(tzinfo=run.started_at.tzinfo))
    finally:
        await services.close()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "operations": operations,
        "concurrency": concurrency,
        "broker_ms": broker_ms,
        "positions_open_before": opened,
        "wall_s": wall,
        "second_press_joined": joined,
        "presses": run.presses,
        "outcomes": {o: sum(r.outcome == o for r in run.results) for o in ("flat", "closing")},
        "journal_entries": after - before,
        "insert_round_trip_ms": rt["insert_ms"]["p50"],
        "engine_cpu_s": engine_cpu,
        "store_cpu_s": server_cpu,
        "store_profile_top": server_top,
        **found,
    }


def report(results: list[dict[str, Any]]) -> str:
    rows = [
        {
            "ops": r["operations"],
            "concurrency": r["concurrency"],
            "broker ms": r["broker_ms"],
            "open before": r["positions_open_before"],
            "press s": r["wall_s"],
            "flat p50 s": r["time_to_flat_s"]["p50"],
            "flat max s": r["time_to_flat_s"]["max"],
            "flat+paused": r["flat_and_paused"],
            "rule entries": r["risk_rule_entries"],
            "joined": r["second_press_joined"],
            "entries": r["journal_entries"],
            "engine CPU s": r["engine_cpu_s"],
            "store CPU s": r["store_cpu_s"],
            "insert RT ms": r["insert_round_trip_ms"],
        }
        for r in results
    ]
    lines = [table(rows, list(rows[0]), "kill switch: one press, a second joins it")]
    for r in results:
        budget = TARGET_S + r["broker_ms"] / 1000
        met = verdict(r["wall_s"], budget, at_most=True)
        lines.append(
            f"concurrency {r['concurrency']}: {r['operations']} operations flat and paused in "
            f"{r['wall_s']:.2f} s; target <= {budget:.2f} s: {met}"
        )
    if len(results) > 1:
        ratio = results[0]["wall_s"] / results[-1]["wall_s"]
        lines.append(f"speed-up of the last over the first: {ratio:.1f}x")
    return "\n".join(lines)


def main() -> None:
    args = arguments(
        __doc__.splitlines()[0],
        operations=(int, 100, "operations with an open position"),
        concurrency=(str, "1,32", "KILL_SWITCH_CONCURRENCY values, comma-separated"),
        broker_ms=(float, 50.0, "added to every order call at the broker (ms)"),
    )
    operations = 5 if args.smoke else args.operations
    results = []
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        results.append(asyncio.run(scenario(operations, concurrency, args.broker_ms)))
        print(report(results[-1:]), flush=True)
    print(report(results))
    payload = {"smoke": args.smoke, "scenarios": results}
    print(f"wrote {write_result('kill_switch', payload, args.json)}")


if __name__ == "__main__":
    main()
