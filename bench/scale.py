"""Scale: many operations on live ticks through the tick aggregator, one core.

``python bench/scale.py [--smoke] [--operations 100,500] [--minutes 60] [--speedup 20,10]``

Each operation (MomentumStrategy on ``1 min`` bars, paper broker, journal
with group commit on the embedded store, fsync per commit) gets 10 ticks per
simulated second. A simulated clock advances in 100 ms steps; every step
gives each operation one tick (``Tick``) that goes through its own
:class:`BarAggregator`, which closes each 1-minute bar at the first tick on
or after its boundary; the runner receives the closed bar from the source's
queue, exactly as from a live source. Prices are the real USD-CAD path (the
ticks of the shipped hourly file, each operation starting elsewhere in it).

The clock runs ``S`` times faster than real time (``--speedup``, one value
per operation count: 20 for 100 operations, 10 for 500), paced: step
``k`` is delivered at ``k x 0.1 / S`` wall seconds, later only if the process
is behind. The benchmark process is pinned to one core (``sched_setaffinity``;
the store's server, started before, keeps the others).

Reported per scenario: CPU use of the core (CPU s / wall s) and the cores a
real-time run needs (CPU s / simulated s); bar-close lag (from the boundary
tick's delivery to the runner having handled the bar, wall time) p50 / p99 /
max against one store round trip (a one-document insert, measured in the
same run); RSS every 5 simulated minutes. Targets: lag p99 under one round
trip at 100 operations; memory flat (RSS at the end within 5 % of RSS at the
end of the first quarter).
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import tempfile
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    SAMPLE,
    arguments,
    cpu_seconds,
    percentiles,
    round_trips,
    rss_bytes,
    table,
    verdict,
    write_result,
)
from live_trading.bootstrap import open_services
from live_trading.config import Settings
from live_trading.data.aggregator import BarAggregator
from live_trading.data.bars_csv import read_bars_csv
from live_trading.data.ticks import Tick, ticks_from_bar
from live_trading.domain.values import BarSize
from live_trading.engine.runner import OperationRunner
from live_trading.engine.specs import OperationCreate

TICKS_PER_SECOND = 10
STEP = timedelta(seconds=1 / TICKS_PER_SECOND)
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday, 00:00 UTC
MEMORY_EVERY_MINUTES = 5
TARGET_GROWTH = 0.05


class Lags:
    """Wall times of each bar: closed by its aggregator, handled by its runner
    (kept in arrays: the measurement must not add an object per bar)."""

    def __init__(self) -> None:
        self.closed: dict[int, float] = {}
        self.received = array("d")
        self.handled = array("d")
        self.minute = array("i")  # simulated minute of each handled bar

    def by_window(self, minutes: int, width: int = 10) -> list[dict[str, float]]:
        """Handled-lag percentiles (ms) per ``width`` simulated minutes."""
        windows = []
        for start in range(0, minutes, width):
            lags = [
                lag
                for lag, m in zip(self.handled, self.minute, strict=True)
                if start <= m < start + width
            ]
            windows.append({"from_minute": start, **percentiles(lags, 1000)})
        return windows


class SimTickSource:
    """An operation's market data: ticks in, closed bars out (a queue)."""

    def __init__(self, primary: BarSize, higher: list[BarSize], lags: Lags) -> None:
        self.aggregator = BarAggregator([primary, *higher])
        self.queue: asyncio.Queue = asyncio.Queue()
        self.rejected: dict[str, list] = {}
        self.lags = lags

    def tick(self, tick: Tick) -> None:
        for size, bar in self.aggregator.add(tick):
            self.lags.closed[id(bar)] = time.perf_counter()
            self.queue.put_nowait((size, bar))

    def end(self) -> None:
        self.queue.put_nowait(None)

    async def events(self):
        while (item := await self.queue.get()) is not None:
            yield item


def instrument(lags: Lags) -> None:
    """Time every runner's bars against their close (class patch, this process)."""
    original = getattr(OperationRunner.on_bar, "bench_original", OperationRunner.on_bar)

    async def on_bar(self: OperationRunner, bar) -> None:
        closed = lags.closed.pop(id(bar), None)
        if closed is not None:
            lags.received.append(time.perf_counter() - closed)
        await original(self, bar)
        if closed is not None:
            lags.handled.append(time.perf_counter() - closed)
            lags.minute.append(int((bar.time - START).total_seconds() // 60))

    on_bar.bench_original = original  # type: ignore[attr-defined]
    OperationRunner.on_bar = on_bar  # type: ignore[method-assign]


def price_path() -> list[float]:
    """The tick prices of the real USD-CAD hourly file, in order."""
    bars = read_bars_csv(SAMPLE).bars
    return [t.price for bar in bars for t in ticks_from_bar(bar, BarSize.HOUR_1.duration)]


async def drive(
    sources: list[SimTickSource], minutes: int, speedup: float, memory: list[dict[str, Any]]
) -> dict[str, float]:
    """Feed every source one tick per step for ``minutes`` simulated minutes."""
    prices = price_path()
    offsets = [(i * 7919) % len(prices) for i in range(len(sources))]
    steps = minutes * 60 * TICKS_PER_SECOND
    per_sample = MEMORY_EVERY_MINUTES * 60 * TICKS_PER_SECOND
    started, cpu = time.perf_counter(), cpu_seconds()
    for k in range(steps + 1):  # the last step's tick closes the last bar
        now = START + k * STEP
        for source, offset in zip(sources, offsets, strict=True):
            source.tick(Tick(now, prices[(offset + k) % len(prices)]))
        if k % per_sample == 0:
            memory.append(
                {
                    "minute": k // (60 * TICKS_PER_SECOND),
                    "rss_mb": rss_bytes() / 2**20,
                    "objects": len(gc.get_objects()),
                }
            )
        delay = started + (k + 1) * STEP.total_seconds() / speedup - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))
    wall = time.perf_counter() - started
    return {"wall_s": wall, "cpu_s": cpu_seconds() - cpu, "simulated_s": minutes * 60.0}


async def scenario(operations: int, minutes: int, speedup: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-scale-"))
    settings = Settings(
        data_dir=work / "var",
        mongodb_url=None,
        trading_worker_enabled=False,
        trade_log_dir=work / "logs",
    )
    services = await open_services(settings, sync_on_commit=True)
    lags, sources, memory = Lags(), [], []
    instrument(lags)

    def factory(asset, primary, higher, after):
        sources.append(SimTickSource(primary, higher, lags))
        return sources[-1]

    services.engine.deps.source_factory = factory
    services.engine.uses_replay = False  # bars come from the source, not replay files
    affinity = _pin_to_one_core()
    try:
        await services.start()
        before = await round_trips(services.store, 100)
        for _ in range(operations):
            await services.engine.create_operation(
                OperationCreate(
                    asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 min"]
                ),
                source="bench",
            )
        while len(sources) < operations:
            await asyncio.sleep(0.01)
        usage = await drive(sources, minutes, speedup, memory)
        for source in sources:
            source.end()
        await services.engine.wait_idle()
        after = await round_trips(services.store, 100)
        stats = services.journal.committer.stats
        broker = services.broker_metrics.summary()  # every paper broker call, timed
    finally:
        await services.close()
        os.sched_setaffinity(0, affinity)
        shutil.rmtree(work, ignore_errors=True)
    result = _summary(operations, minutes, speedup, usage, lags, memory, before, after, stats)
    result["broker_calls_ms"] = {
        name: broker[name]
        for name in ("on_bar", "submit_order", "submit_orders", "cancel_order", "cancel_orders")
        if name in broker
    }
    return result


def _pin_to_one_core() -> set[int]:
    """Pin this process to one core (the store's server keeps the others)."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(allowed)})
    return allowed


def _summary(
    operations, minutes, speedup, usage, lags, memory, before, after, stats
) -> dict[str, Any]:
    insert_ms = (before["insert_ms"]["p50"] + after["insert_ms"]["p50"]) / 2
    handled = percentiles(lags.handled, 1000)
    quarter = next((m for m in memory if m["minute"] >= minutes / 4), memory[0])
    growth = memory[-1]["rss_mb"] / quarter["rss_mb"] - 1
    return {
        "operations": operations,
        "simulated_minutes": minutes,
        "speedup": speedup,
        "achieved_speedup": usage["simulated_s"] / usage["wall_s"],
        "cpu_use": usage["cpu_s"] / usage["wall_s"],
        "cores_at_real_time": usage["cpu_s"] / usage["simulated_s"],
        "ticks": operations * minutes * 60 * TICKS_PER_SECOND,
        "lag_received_ms": percentiles(lags.received, 1000),
        "lag_handled_ms": handled,
        "lag_by_10_minutes": lags.by_window(minutes),
        "insert_round_trip_ms": insert_ms,
        "ping_round_trip_ms": (before["ping_ms"]["p50"] + after["ping_ms"]["p50"]) / 2,
        "lag_p99_in_round_trips": handled["p99"] / insert_ms,
        "memory": memory,
        "rss_growth_after_first_quarter": growth,
        "journal_appends": stats.appends,
        "journal_transactions": stats.transactions,
    }


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        lag = r["lag_handled_ms"]
        rows.append(
            {
                "operations": r["operations"],
                "ticks": r["ticks"],
                "speedup": r["achieved_speedup"],
                "cpu use": r["cpu_use"],
                "cores@1x": r["cores_at_real_time"],
                "bars": lag["count"],
                "lag p50 ms": lag["p50"],
                "lag p99 ms": lag["p99"],
                "lag max ms": lag["max"],
                "insert RT ms": r["insert_round_trip_ms"],
                "p99/RT": r["lag_p99_in_round_trips"],
                "RSS MB": r["memory"][-1]["rss_mb"],
                "RSS growth": f"{r['rss_growth_after_first_quarter']:+.1%}",
            }
        )
    windows = [
        {
            "operations": r["operations"],
            **{f"min {w['from_minute']}+": w["p99"] for w in r["lag_by_10_minutes"]},
        }
        for r in results
    ]
    first = results[0]
    lines = [
        table(
            rows,
            list(rows[0]),
            "scale: live ticks (10/s per operation) -> 1 min bars -> runners, one core",
        ),
        table(
            windows,
            list(windows[0]),
            "lag p99 (ms) per 10 simulated minutes "
            "(MomentumStrategy trades from minute 30, after its SMA(30) fills)",
        ),
        (
            f"lag p99 at {first['operations']} operations: "
            f"{first['lag_p99_in_round_trips']:.2f} round trips; target < 1: "
            f"{verdict(first['lag_p99_in_round_trips'], 1.0, at_most=True)}"
        ),
    ]
    calls = [
        {
            "operations": r["operations"],
            "call": name,
            "count": c["count"],
            "mean ms": c["mean_ms"],
            "p99 ms": c["p99_ms"],
            "max ms": c["max_ms"],
        }
        for r in results
        for name, c in r["broker_calls_ms"].items()
    ]
    if calls:
        lines.append(
            table(
                calls,
                list(calls[0]),
                "paper broker calls (each holds its account's lock through its durable commit)",
            )
        )
    for r in results:
        lines.append(
            f"memory at {r['operations']} operations: RSS growth after the first "
            f"quarter {r['rss_growth_after_first_quarter']:+.1%}; target flat "
            f"(<= {TARGET_GROWTH:.0%}): "
            f"{verdict(r['rss_growth_after_first_quarter'], TARGET_GROWTH, at_most=True)}"
        )
    return "\n".join(lines)


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        operations=(str, "100,500", "operation counts, comma-separated"),
        minutes=(int, 60, "simulated minutes"),
        speedup=(
            str,
            "20,10",
            "simulated seconds per wall second, per operation count (comma-separated)",
        ),
    )
    if args.smoke:
        args.operations, args.minutes, args.speedup = "5", 3, "200"
    counts = [int(n) for n in args.operations.split(",")]
    speedups = [float(x) for x in args.speedup.split(",")]
    speedups += speedups[-1:] * (len(counts) - len(speedups))
    results = [
        asyncio.run(scenario(n, args.minutes, x)) for n, x in zip(counts, speedups, strict=False)
    ]
    print(report(results))
    print(f"wrote {write_result('scale', {'smoke': args.smoke, 'scenarios': results}, args.json)}")


if __name__ == "__main__":
    main()
