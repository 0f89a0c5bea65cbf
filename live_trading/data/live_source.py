"""An operation's bars from a broker's live bar stream.

:class:`BrokerBarSource` subscribes to the primary bar size through the
broker's :class:`~live_trading.engine.ports.MarketData` port and yields each
closed bar as it arrives. Higher bar sizes are built from the primary bars
by the tick aggregator and released once closed, before the primary bar that
closes with or after them (the same no-look-ahead rule as the replay).
A live feed does not end: the runner stops when the operation closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from live_trading.domain.values import Asset, Bar, BarSize

from .aggregator import BarAggregator
from .alignment import close_time
from .ticks import ticks_from_bar

Event = tuple[BarSize, Bar]


class BrokerBarSource:
    def __init__(
        self,
        market_data,
        asset: Asset,
        primary: BarSize,
        higher: list[BarSize],
        after: dict[BarSize, datetime | None] | None = None,
    ) -> None:
        self.market_data, self.asset, self.primary = market_data, asset, primary
        self.higher = sorted(set(higher) - {primary}, key=lambda s: s.duration)
        self.after = after or {}
        self.rejected: dict[str, list] = {}

    async def events(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Bar] = asyncio.Queue()

        async def on_bar(asset: str, size: BarSize, bar: Bar) -> None:
            if asset == self.asset.name and size == self.primary:
                await queue.put(bar)

        aggregator = BarAggregator(self.higher) if self.higher else None
        await self.market_data.subscribe_bars(self.asset.name, self.primary, on_bar)
        try:
            while True:
                bar = await queue.get()
                cursor = self.after.get(self.primary)
                if cursor is not None and bar.time <= cursor:
                    continue
                for event in self._higher(aggregator, bar):
                    yield event
                yield self.primary, bar
        finally:
            await self.market_data.unsubscribe_bars(self.asset.name, self.primary)

    def _higher(self, aggregator: BarAggregator | None, bar: Bar) -> list[Event]:
        if aggregator is None:
            return []
        closed: list[Event] = []
        for tick in ticks_from_bar(bar, self.primary.duration):
            closed.extend(aggregator.add(tick))
        closed.extend(aggregator.flush(close_time(bar, self.primary)))
        return [(s, b) for s, b in closed if (after := self.after.get(s)) is None or b.time > after]
