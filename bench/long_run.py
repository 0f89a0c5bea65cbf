"""Long run: the cost per bar at the end of a 1,000,000-event run vs at its start.

``python bench/long_run.py [--smoke] [--events N]``

One operation (MomentumStrategy, USD-CAD 1 hour, the demo's risk settings)
trades the shipped hourly file tiled end to end (each copy's times shifted
to follow the previous one; prices unchanged) in backtest mode -- the same
runner, order manager, journal service, projection and paper broker, with
the journal in memory, so that the store's own cost cannot hide something
in the engine that grows with the journal -- until its journal holds ``N``
entries. The bars are split into ten equal slices; for each, the wall time
per bar, the journal entries written and the process's resident memory.

Target (issue 8): the cost per bar of the last slice within 10 % of the
first's (nothing grows with the journal's length). The state the journal
service keeps per operation (every order and execution of the operation)
does grow; what it costs per bar must not.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import Any

from _common import SAMPLE, arguments, rss_bytes, table, verdict, write_result
from bench.peer_strategies.common import tile
from live_trading.backtest import open_backtest_services
from live_trading.config import Settings
from live_trading.data.bars_csv import read_bars_csv
from live_trading.domain.values import Bar, BarSize
from live_trading.engine.specs import OperationCreate

TARGET_GROWTH = 0.10
SLICES = 10
BODY = OperationCreate(asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 hour"])


class SlicedSource:
    """The operation's bars, timed: at each slice boundary, the time, the
    journal's length and the resident memory are recorded."""

    def __init__(self, bars: list[Bar], journal_length, slices: int) -> None:
        self.bars, self.journal_length = bars, journal_length
        self.ends = {len(bars) * k // slices for k in range(1, slices + 1)}
        self.marks: list[tuple[int, float, int, int]] = []  # (bars, time, entries, rss)
        self.rejected: dict[str, list] = {}

    def _mark(self, done: int) -> None:
        self.marks.append((done, time.perf_counter(), self.journal_length(), rss_bytes()))

    async def events(self) -> AsyncIterator[tuple[BarSize, Bar]]:
        self._mark(0)
        for done, bar in enumerate(self.bars, start=1):
            yield BarSize.HOUR_1, bar
            if done in self.ends:
                self._mark(done)
                await asyncio.sleep(0)


def slices_of(marks: list[tuple[int, float, int, int]]) -> list[dict[str, Any]]:
    """Per slice: bars, microseconds per bar, entries written, RSS at its end."""
    rows = []
    for i, ((bars0, t0, e0, _), (bars1, t1, e1, rss)) in enumerate(
        zip(marks, marks[1:], strict=False)
    ):
        if bars1 == bars0:
            continue
        rows.append(
            {
                "slice": i + 1,
                "bars": bars1 - bars0,
                "us_per_bar": (t1 - t0) / (bars1 - bars0) * 1e6,
                "entries": e1 - e0,
                "journal_entries": e1,
                "rss_mb": rss / 2**20,
            }
        )
    return rows


async def measure(events: int, probe_bars: int) -> dict[str, Any]:
    """Run until the journal holds about ``events`` entries (the bar count is
    estimated from a first run of ``probe_bars`` bars)."""
    bars = read_bars_csv(SAMPLE).bars
    probe = await run(tile(bars, probe_bars), 1)
    per_bar = probe["entries"] / probe_bars
    result = await run(tile(bars, math.ceil(events / per_bar)), SLICES)
    rows = result["slices"]
    first, last = rows[0]["us_per_bar"], rows[-1]["us_per_bar"]
    return {
        **result,
        "entries_per_bar": per_bar,
        "growth": last / first - 1,
        "target_growth": TARGET_GROWTH,
    }


async def run(bars: list[Bar], slices: int) -> dict[str, Any]:
    """One operation over ``bars`` in backtest mode, timed per slice."""
    services = open_backtest_services(Settings(mongodb_url=None, trading_worker_enabled=False))
    written = [0]

    async def count(records, _changes) -> None:
        written[0] += len(records)

    services.journal.subscribe(count)
    source = SlicedSource(bars, lambda: written[0], slices)
    services.engine.deps.source_factory = lambda *_: source
    services.engine.uses_replay = False
    await services.start()
    started = time.perf_counter()
    operation_id = await services.run(BODY)
    seconds = time.perf_counter() - started
    trades = len(services.trades(operation_id))
    state = await services.journal.state(operation_id)
    await services.close()
    return {
        "bars": len(bars),
        "seconds": seconds,
        "bars_per_s": len(bars) / seconds,
        "entries": state.last_sequence,
        "trades": trades,
        "orders_in_state": len(state.orders),
        "entries_before_bars": source.marks[0][2],
        "slices": slices_of(source.marks),
    }


def report(result: dict[str, Any]) -> str:
    growth = result["growth"]
    return "\n".join(
        [
            table(
                result["slices"],
                ["slice", "bars", "us_per_bar", "entries", "journal_entries", "rss_mb"],
                f"backtest mode, {result['bars']:,} bars, {result['entries']:,} journal entries, "
                f"{result['trades']:,} trades, {result['bars_per_s']:,.0f} bars/s",
            ),
            f"cost per bar, last slice vs first: {growth:+.1%}; target <= "
            f"+{TARGET_GROWTH:.0%}: {verdict(growth, TARGET_GROWTH, at_most=True)}",
        ]
    )


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        events=(int, 1_000_000, "journal entries of the run"),
        probe_bars=(int, 20_000, "bars of the run that estimates entries per bar"),
    )
    if args.smoke:
        args.events, args.probe_bars = 5_000, 2_000
    result = asyncio.run(measure(args.events, args.probe_bars))
    print(report(result))
    print(f"wrote {write_result('long_run', {'smoke': args.smoke, **result}, args.json)}")


if __name__ == "__main__":
    main()
