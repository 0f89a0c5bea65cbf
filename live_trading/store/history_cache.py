"""Historical bars cached in the store, with the cache hit rate.

A request for (asset, bar size, [start, end)) is a *hit* when a range
already fetched covers it: the bars come from the ``historical_bars``
collection. Otherwise it is a *miss*: the bars come from the source (the
broker's market data), are stored, and the range is recorded in
``historical_ranges``. Times UTC; prices in quote currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReplaceOne

from live_trading.domain.values import Bar, BarSize

from .mongo import Store

BARS, RANGES = "historical_bars", "historical_ranges"


class HistoryCache:
    def __init__(self, store: Store, source: Any, source_name: str) -> None:
        self.store = store
        self.source = source
        self.source_name = source_name
        self.hits = 0
        self.misses = 0
        self._indexed = False

    @property
    def hit_rate(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None

    async def _ensure_indexes(self) -> None:
        if not self._indexed:
            await self.store.db[BARS].create_indexes(
                [
                    IndexModel(
                        [
                            ("source", ASCENDING),
                            ("asset", ASCENDING),
                            ("bar_size", ASCENDING),
                            ("timestamp", ASCENDING),
                        ],
                        unique=True,
                        name="bar_unique",
                    )
                ]
            )
            self._indexed = True

    async def get_historical_data(
        self, asset: str, bar_size: BarSize, start: datetime, end: datetime
    ) -> list[Bar]:
        """Bars with open time in [start, end), oldest first.

        Raises:
            ValueError: ``start`` is not before ``end``.
        """
        if start >= end:
            raise ValueError("start must be before end")
        await self._ensure_indexes()
        key = {"source": self.source_name, "asset": asset, "bar_size": bar_size.value}
        covered = await self.store.db[RANGES].find_one(
            {**key, "start": {"$lte": start}, "end": {"$gte": end}}
        )
        if covered:
            self.hits += 1
            return await self._cached(key, start, end)
        self.misses += 1
        bars = await self.source.get_historical_data(asset, bar_size, start, end)
        await self._store(key, bars, start, end)
        return bars

    async def _cached(self, key: dict, start: datetime, end: datetime) -> list[Bar]:
        cursor = (
            self.store.db[BARS]
            .find({**key, "timestamp": {"$gte": start, "$lt": end}})
            .sort("timestamp", 1)
        )
        return [
            Bar(d["timestamp"], d["open"], d["high"], d["low"], d["close"], d["volume"])
            async for d in cursor
        ]

    async def _store(self, key: dict, bars: list[Bar], start: datetime, end: datetime) -> None:
        if bars:
            await self.store.db[BARS].bulk_write(
                [
                    ReplaceOne(
                        {**key, "timestamp": b.time},
                        {
                            **key,
                            "timestamp": b.time,
                            "open": b.open,
                            "high": b.high,
                            "low": b.low,
                            "close": b.close,
                            "volume": b.volume,
                        },
                        upsert=True,
                    )
                    for b in bars
                ]
            )
        await self.store.db[RANGES].insert_one({**key, "start": start, "end": end})

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source_name,
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hit_rate,
        }
