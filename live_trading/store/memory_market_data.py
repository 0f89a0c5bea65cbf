"""Bars per operation and bar size in process memory: the
:class:`~.market_data.MarketDataStore` interface for backtest mode.

Same behaviour as the store's version (a bar saved again at the same open
time replaces the old one; :meth:`last_bars` oldest first; :meth:`trim`
keeps the latest bars), with no round trip. Prices in quote currency, times
aware UTC (a bar's open time).
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice

from live_trading.domain.values import Asset, Bar, BarSize

Key = tuple[str, BarSize]


class MemoryMarketData:
    """Closed bars and their indicator values, per (operation, bar size)."""

    def __init__(self) -> None:
        self._bars: dict[Key, dict[datetime, tuple[Bar, dict[str, float]]]] = {}
        self._unordered: set[Key] = set()  # keys whose bars were not saved in time order

    async def save_many(
        self,
        operation_id: str,
        asset: Asset,
        bar_size: BarSize,
        bars: list[Bar] | list[tuple[Bar, dict[str, float]]],
    ) -> None:
        """Store (or overwrite) closed bars, with their indicator values when
        given as ``(bar, indicators)`` pairs."""
        key = (operation_id, bar_size)
        kept = self._bars.setdefault(key, {})
        last = next(reversed(kept), None)
        for item in bars:
            bar, indicators = item if isinstance(item, tuple) else (item, {})
            if last is not None and bar.time <= last and bar.time not in kept:
                self._unordered.add(key)
            kept[bar.time] = (bar, dict(indicators))
            last = bar.time if last is None or bar.time > last else last

    async def last_bars(self, operation_id: str, bar_size: BarSize, limit: int) -> list[Bar]:
        """The latest ``limit`` bars of the operation, oldest first."""
        kept = self._bars.get((operation_id, bar_size), {})
        times = sorted(kept)[-limit:] if limit > 0 else []
        return [kept[t][0] for t in times]

    async def trim(self, operation_id: str, bar_size: BarSize, keep: int) -> int:
        """Delete all but the latest ``keep`` bars; return how many were deleted."""
        key = (operation_id, bar_size)
        kept = self._bars.get(key, {})
        excess = len(kept) - keep
        if excess <= 0:
            return 0
        if key in self._unordered:  # sort once; kept in time order from then on
            self._bars[key] = kept = dict(sorted(kept.items()))
            self._unordered.discard(key)
        for moment in list(islice(kept, excess)):
            del kept[moment]
        return excess

    def indicators(
        self, operation_id: str, bar_size: BarSize, time: datetime
    ) -> dict[str, float] | None:
        """The indicator values stored with a bar, or None if it is not kept."""
        item = self._bars.get((operation_id, bar_size), {}).get(time)
        return None if item is None else dict(item[1])
