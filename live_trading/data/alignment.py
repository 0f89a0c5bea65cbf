"""Multi-timeframe alignment: higher bar sizes seen only once closed.

The primary bar size drives the strategy. A bar of a higher bar size (e.g.
``1 day`` for a ``1 hour`` operation) is released to the strategy only when
its close time (open time + duration) is at or before the close time of the
primary bar being processed, and before that primary bar. So a strategy can
never see a daily bar before its close: no look-ahead.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from live_trading.domain.values import Bar, BarSize


def close_time(bar: Bar, size: BarSize) -> datetime:
    return bar.time + size.duration


class TimeframeAligner:
    """Hands out bars of higher bar sizes in close-time order, once closed.

    ``sources`` maps each higher bar size to its bars, oldest first (any
    iterable, consumed lazily).
    """

    def __init__(self, sources: Mapping[BarSize, Iterable[Bar]]) -> None:
        self._iterators: dict[BarSize, Iterator[Bar]] = {s: iter(b) for s, b in sources.items()}
        self._heap: list[tuple[datetime, int, BarSize, Bar]] = []
        self._order = {size: i for i, size in enumerate(sorted(sources, key=lambda s: s.duration))}
        for size in self._iterators:
            self._pull(size)

    def _pull(self, size: BarSize) -> None:
        bar = next(self._iterators[size], None)
        if bar is not None:
            heapq.heappush(self._heap, (close_time(bar, size), self._order[size], size, bar))

    def due(self, now: datetime) -> list[tuple[BarSize, Bar]]:
        """Every bar that has closed at or before ``now`` and was not handed
        out yet, in close-time order (smaller bar sizes first on ties)."""
        released: list[tuple[BarSize, Bar]] = []
        while self._heap and self._heap[0][0] <= now:
            _, _, size, bar = heapq.heappop(self._heap)
            released.append((size, bar))
            self._pull(size)
        return released
