"""Bars per operation and bar size, in ``market_data_{bar_size}`` collections.

Bars are market data, not journal entries: they are kept so a restarted
runner can warm its strategy up and know where its feed stopped. One
collection per bar size (``market_data_1hour``, ``market_data_15mins``), with
a unique index on (operation_id, timestamp); ``timestamp`` is the bar's open
time (UTC); prices in quote currency.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne

from live_trading.domain.values import Asset, Bar, BarSize

from .mongo import Store


def collection_name(bar_size: BarSize) -> str:
    """``market_data_1hour`` for ``1 hour``."""
    return "market_data_" + bar_size.value.replace(" ", "")


class MarketDataStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._indexed: set[str] = set()

    async def _collection(self, bar_size: BarSize):
        name = collection_name(bar_size)
        collection = self.store.db[name]
        if name not in self._indexed:
            await collection.create_indexes(
                [
                    IndexModel(
                        [("operation_id", ASCENDING), ("timestamp", ASCENDING)],
                        unique=True,
                        name="operation_timestamp_unique",
                    ),
                ]
            )
            self._indexed.add(name)
        return collection

    async def save_many(
        self,
        operation_id: str,
        asset: Asset,
        bar_size: BarSize,
        bars: list[Bar] | list[tuple[Bar, dict[str, float]]],
    ) -> None:
        """Store (or overwrite) closed bars, with their indicator values when
        given as ``(bar, indicators)`` pairs, in one round trip."""
        if not bars:
            return
        collection = await self._collection(bar_size)
        oid = ObjectId(operation_id)
        requests = []
        for item in bars:
            bar, indicators = item if isinstance(item, tuple) else (item, {})
            key = {"operation_id": oid, "timestamp": bar.time}
            requests.append(
                ReplaceOne(
                    key,
                    {
                        **key,
                        "asset": asset.name,
                        "bar_size": bar_size.value,
                        "open": bar.open,
                        "high": bar.high,
                        "low": bar.low,
                        "close": bar.close,
                        "volume": bar.volume,
                        "indicators": indicators,
                    },
                    upsert=True,
                )
            )
        await collection.bulk_write(requests, ordered=False)

    async def last_bars(self, operation_id: str, bar_size: BarSize, limit: int) -> list[Bar]:
        """The latest ``limit`` bars of the operation, oldest first."""
        collection = await self._collection(bar_size)
        cursor = (
            collection.find({"operation_id": ObjectId(operation_id)})
            .sort("timestamp", DESCENDING)
            .limit(limit)
        )
        rows = [row async for row in cursor]
        return [
            Bar(r["timestamp"], r["open"], r["high"], r["low"], r["close"], r.get("volume", 0.0))
            for r in reversed(rows)
        ]

    async def trim(self, operation_id: str, bar_size: BarSize, keep: int) -> int:
        """Delete all but the latest ``keep`` bars; return how many were deleted."""
        collection = await self._collection(bar_size)
        oid = ObjectId(operation_id)
        cursor = collection.find({"operation_id": oid}).sort("timestamp", DESCENDING)
        cutoff = await cursor.skip(keep).limit(1).to_list(1)
        if not cutoff:
            return 0
        result = await collection.delete_many(
            {"operation_id": oid, "timestamp": {"$lte": cutoff[0]["timestamp"]}}
        )
        return result.deleted_count
