"""Latency: from a bar's close to the order reaching the broker adapter.

``python bench/latency.py [--smoke] [--operations N] [--bars B]``

The whole engine (runner, strategy, order manager, journal with group
commit, paper broker) trades the shipped USD-CAD hourly file with
MomentumStrategy on the embedded store with an fsync per commit, as in
production. The clock starts when the runner receives a primary bar
(``OperationRunner.on_bar`` is called) and stops when the paper broker's
``submit_order`` or ``submit_orders`` (a decision's orders in one call) is
entered with the first order that bar caused (the last call is reported
too). The journaled intent is durable by then: the order manager appends it
and only then calls the broker.

In the same run, one store round trip is measured: ``ping``, and a
one-document insert (committed with an fsync, like every write here). Two
scenarios: one operation alone, then ``N`` operations trading at once.
Target: p99 <= 3 round trips (the insert; the ping is reported too).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    arguments,
    percentiles,
    replay_dir,
    round_trips,
    table,
    verdict,
    write_result,
)
from live_trading.bootstrap import open_services
from live_trading.config import Settings
from live_trading.engine.runner import OperationRunner
from live_trading.engine.specs import OperationCreate

TARGET_ROUND_TRIPS = 3.0


class Stopwatch:
    """Per operation: when the runner got its current bar; the first and the
    last order that bar sent to the broker."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.first: list[float] = []
        self.last: list[float] = []
        self._last_of_bar: dict[str, float] = {}

    def bar_started(self, operation_id: str) -> None:
        self.current[operation_id] = time.perf_counter()

    def bar_done(self, operation_id: str) -> None:
        self.current.pop(operation_id, None)
        last = self._last_of_bar.pop(operation_id, None)
        if last is not None:
            self.last.append(last)

    def order(self, operation_id: str) -> None:
        started = self.current.get(operation_id)
        if started is None:  # not caused by a bar (end of feed, recovery)
            return
        elapsed = time.perf_counter() - started
        if operation_id not in self._last_of_bar:
            self.first.append(elapsed)
        self._last_of_bar[operation_id] = elapsed


def instrument(watch: Stopwatch) -> None:
    """Time every runner's bars (class-level patch, this process only)."""
    original = OperationRunner.on_bar
    if getattr(original, "bench_original", None) is not None:
        original = original.bench_original

    async def on_bar(self: OperationRunner, bar) -> None:
        watch.bar_started(self.operation_id)
        try:
            await original(self, bar)
        finally:
            watch.bar_done(self.operation_id)

    on_bar.bench_original = original  # type: ignore[attr-defined]
    OperationRunner.on_bar = on_bar  # type: ignore[method-assign]


def watch_broker(services, watch: Stopwatch) -> None:
    paper = services.engine.deps.broker.inner
    submit, submit_many = paper.submit_order, paper.submit_orders

    async def submit_order(request):
        watch.order(request.account)
        return await submit(request)

    async def submit_orders(requests):  # a decision's orders in one call
        watch.order(requests[0].account)
        return await submit_many(requests)

    paper.submit_order, paper.submit_orders = submit_order, submit_orders


def watch_commits(services) -> dict[str, list[float]]:
    """Durations of the journal's appends (``on_append``: queue + commit) and
    of the paper broker's own commits: where a bar's latency goes."""
    spent: dict[str, list[float]] = {"journal_append": [], "paper_commit": []}
    observer = services.journal.on_append

    def on_append(seconds: float, entries: int) -> None:
        spent["journal_append"].append(seconds)
        if observer is not None:
            observer(seconds, entries)

    services.journal.on_append = on_append
    store = services.engine.deps.broker.inner.store
    commit = store.commit

    async def timed_commit(changes) -> None:
        started = time.perf_counter()
        try:
            await commit(changes)
        finally:
            spent["paper_commit"].append(time.perf_counter() - started)

    store.commit = timed_commit
    return spent


async def scenario(operations: int, bars: int | None) -> dict[str, Any]:
    """Run ``operations`` operations at once; latencies and round trips (ms)."""
    work = Path(tempfile.mkdtemp(prefix="lt-bench-latency-"))
    settings = Settings(
        data_dir=work / "var",
        mongodb_url=None,
        replay_speed=0.0,
        replay_data_dir=replay_dir(bars, work),
        trading_worker_enabled=False,
        trade_log_dir=work / "logs",
    )
    services = await open_services(settings, sync_on_commit=True)
    watch = Stopwatch()
    instrument(watch)
    watch_broker(services, watch)
    spent = watch_commits(services)
    try:
        await services.start()
        before = await round_trips(services.store, 100)
        started = time.perf_counter()
        for _ in range(operations):
            await services.engine.create_operation(
                OperationCreate(
                    asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 hour"]
                ),
                source="bench",
            )
        await services.engine.wait_idle()
        seconds = time.perf_counter() - started
        after = await round_trips(services.store, 100)
        stats = services.journal.committer.stats
    finally:
        await services.close()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "operations": operations,
        "seconds": seconds,
        "first_order_ms": percentiles(watch.first, 1000),
        "last_order_ms": percentiles(watch.last, 1000),
        "round_trip": {"before": before, "after": after},
        "ping_ms": (before["ping_ms"]["p50"] + after["ping_ms"]["p50"]) / 2,
        "insert_ms": (before["insert_ms"]["p50"] + after["insert_ms"]["p50"]) / 2,
        "journal_transactions": stats.transactions,
        "journal_appends": stats.appends,
        "journal_append_ms": percentiles(spent["journal_append"], 1000),
        "paper_commit_ms": percentiles(spent["paper_commit"], 1000),
    }


def assess(result: dict[str, Any]) -> None:
    p99 = result["first_order_ms"]["p99"]
    result["p99_in_insert_round_trips"] = p99 / result["insert_ms"]
    result["p99_in_ping_round_trips"] = p99 / result["ping_ms"]
    result["verdict"] = verdict(
        result["p99_in_insert_round_trips"], TARGET_ROUND_TRIPS, at_most=True
    )


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        first, last = r["first_order_ms"], r["last_order_ms"]
        rows.append(
            {
                "operations": r["operations"],
                "orders": first["count"],
                "p50 ms": first["p50"],
                "p99 ms": first["p99"],
                "max ms": first["max"],
                "bracket p99 ms": last["p99"],
                "ping ms": r["ping_ms"],
                "insert ms": r["insert_ms"],
                "p99/insert": r["p99_in_insert_round_trips"],
                "p99/ping": r["p99_in_ping_round_trips"],
                "target": r["verdict"],
            }
        )
    parts = [
        {
            "operations": r["operations"],
            "journal append p50 ms": r["journal_append_ms"]["p50"],
            "journal append p99 ms": r["journal_append_ms"]["p99"],
            "paper commit p50 ms": r["paper_commit_ms"]["p50"],
            "paper commit p99 ms": r["paper_commit_ms"]["p99"],
            "appends/txn": r["journal_appends"] / max(1, r["journal_transactions"]),
        }
        for r in results
    ]
    return "\n".join(
        [
            table(
                rows,
                list(rows[0]),
                "latency: bar received -> first order at the paper "
                f"broker (target p99 <= {TARGET_ROUND_TRIPS:g} round trips)",
            ),
            table(
                parts,
                list(parts[0]),
                "where it goes: durable commits on the way "
                "(the intent's journal append; the paper broker's fills and cancels)",
            ),
        ]
    )


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        operations=(int, 4, "operations of the concurrent scenario"),
        bars=(int, None, "bars of the file to trade (default: all 5,116)"),
    )
    if args.smoke:
        args.operations, args.bars = 2, 400
    results = []
    for operations in (1, args.operations):
        result = asyncio.run(scenario(operations, args.bars))
        assess(result)
        results.append(result)
    print(report(results))
    print(
        f"wrote {write_result('latency', {'smoke': args.smoke, 'scenarios': results}, args.json)}"
    )


if __name__ == "__main__":
    main()
