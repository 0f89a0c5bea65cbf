"""An operation's market data from replay files: every bar size, aligned.

:class:`ReplaySource` yields ``(bar_size, bar)`` events, oldest first, with
each higher bar released only once closed (see :mod:`.alignment`):

* ``bars`` mode: the primary bar size from ``<SYMBOL>_<code>.csv``; each
  higher bar size from its own file when there is one (``USDCAD_1d.csv``),
  else aggregated from the primary bars;
* ``ticks`` mode: ticks derived from the primary bars (see :mod:`.ticks`)
  go through the :class:`~.aggregator.BarAggregator`, which builds every bar
  size, exactly as live ticks would.

``after`` gives, per bar size, the last bar already processed (a restart
resumes after it). Rejected rows of every file read are in ``rejected``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from live_trading.domain.values import Asset, Bar, BarSize

from .aggregator import BarAggregator
from .alignment import TimeframeAligner, close_time
from .bars_csv import RejectedRow, read_bars_csv
from .replay import ReplayFeed, replay_file_path
from .ticks import TickReplayFeed, ticks_from_bar

Event = tuple[BarSize, Bar]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def aggregate_bars(bars: list[Bar], source: BarSize, target: BarSize) -> list[Bar]:
    """Bars of ``target`` size built from ``source`` bars (UTC-aligned periods)."""
    aggregator = BarAggregator([target])
    built: list[Bar] = []
    for bar in bars:
        for tick in ticks_from_bar(bar, source.duration):
            built.extend(b for _, b in aggregator.add(tick))
    if bars:
        built.extend(b for _, b in aggregator.flush(close_time(bars[-1], source) + target.duration))
    return built


class ReplaySource:
    def __init__(
        self,
        directory: Path,
        asset: Asset,
        primary: BarSize,
        higher: list[BarSize],
        *,
        speed: float = 0.0,
        mode: str = "bars",
        after: dict[BarSize, datetime | None] | None = None,
        sleep: Callable = asyncio.sleep,
    ) -> None:
        if mode not in ("bars", "ticks"):
            raise ValueError(f"replay mode must be 'bars' or 'ticks', not {mode!r}")
        self.directory, self.asset, self.primary = directory, asset, primary
        self.higher = sorted(set(higher) - {primary}, key=lambda s: s.duration)
        self.speed, self.mode, self.sleep = speed, mode, sleep
        self.after = after or {}
        self.rejected: dict[str, list[RejectedRow]] = {}

    def _path(self, size: BarSize) -> Path:
        return replay_file_path(self.directory, self.asset, size)

    def _fresh(self, size: BarSize, bars: list[Bar]) -> list[Bar]:
        after = self.after.get(size)
        return [b for b in bars if after is None or b.time > after]

    def events(self) -> AsyncIterator[Event]:
        return self._bars_events() if self.mode == "bars" else self._tick_events()

    async def _bars_events(self) -> AsyncIterator[Event]:
        aligner = TimeframeAligner(
            {s: self._fresh(s, await self._higher_bars(s)) for s in self.higher}
        )
        feed = ReplayFeed(
            self._path(self.primary),
            speed=self.speed,
            after=self.after.get(self.primary),
            sleep=self.sleep,
        )
        async for bar in feed.bars():
            self.rejected.setdefault(self._path(self.primary).name, feed.rejected)
            for event in aligner.due(close_time(bar, self.primary)):
                yield event
            yield self.primary, bar
        self.rejected.setdefault(self._path(self.primary).name, feed.rejected)

    async def _higher_bars(self, size: BarSize) -> list[Bar]:
        own = self._path(size)
        path = own if own.exists() else self._path(self.primary)
        data = await asyncio.to_thread(read_bars_csv, path)
        self.rejected.setdefault(path.name, data.rejected)
        return data.bars if own.exists() else aggregate_bars(data.bars, self.primary, size)

    async def _tick_events(self) -> AsyncIterator[Event]:
        sizes = [self.primary, *self.higher]
        aggregator = BarAggregator(sizes)
        start = self._tick_start(sizes)
        feed = TickReplayFeed(
            self._path(self.primary),
            bar_size=self.primary,
            speed=self.speed,
            after=start,
            sleep=self.sleep,
        )
        last_tick = None
        async for tick in feed.ticks():
            self.rejected.setdefault(self._path(self.primary).name, feed.rejected)
            last_tick = tick
            for event in self._ordered(aggregator.add(tick)):
                yield event
        if last_tick is not None:
            end = last_tick.time + max(s.duration for s in sizes)
            for event in self._ordered(aggregator.flush(end)):
                yield event
        self.rejected.setdefault(self._path(self.primary).name, feed.rejected)

    def _tick_start(self, sizes: list[BarSize]) -> datetime | None:
        """Resume from the start of the largest period around the cursor, so
        partly built higher bars are rebuilt whole (their bars at or before
        the cursor are then dropped by :meth:`_ordered`)."""
        cursor = self.after.get(self.primary)
        if cursor is None:
            return None
        largest = max(s.duration for s in sizes)
        period_start = EPOCH + ((cursor - EPOCH) // largest) * largest
        return period_start - timedelta(milliseconds=1)

    def _ordered(self, closed: list[Event]) -> list[Event]:
        """Higher bars first (by close time), then the primary; drop bars at
        or before their bar size's resume point."""
        fresh = [
            (s, b) for s, b in closed if (after := self.after.get(s)) is None or b.time > after
        ]
        return sorted(
            fresh, key=lambda e: (close_time(e[1], e[0]), e[0] == self.primary, e[0].duration)
        )
