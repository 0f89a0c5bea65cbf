"""The paper broker's book in MongoDB: one database of its own, one
transaction per committed batch.

Collections (all documents carry ``account`` and, but for executions'
``index``, their natural keys):

* ``orders``: one document per accepted order: the request's fields, plus
  ``broker_order_id``, ``status``, ``active`` and ``sequence`` (rank in
  submission order). Unique indexes on ``client_order_id``,
  ``broker_order_id`` and ``sequence``.
* ``executions``: one document per fill: the :class:`Execution` fields plus
  ``index`` (rank within the account). Unique indexes on ``execution_id``
  and (``account``, ``index``).
* ``positions``: signed net ``quantity`` per (``account``, ``asset``), unique;
  flat positions are deleted.
* ``last_bars``: the last bar processed per (``account``, ``asset``), unique:
  the broker's clock of that pair, which makes replayed bars idempotent.

Units as in :mod:`.book`: quote-currency prices, base-unit quantities, times
stored as BSON dates (ms) and read back aware UTC.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bson.codec_options import CodecOptions
from pymongo import ASCENDING, AsyncMongoClient, DeleteOne, IndexModel, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from live_trading.domain.orders import Execution, OrderRequest, OrderStatus
from live_trading.domain.values import Bar, OrderType, Side

from .book import NumberedExecution, PaperBookState, PaperChanges, PaperOrder

CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
PAIR = [("account", ASCENDING), ("asset", ASCENDING)]
INDEXES: dict[str, list[IndexModel]] = {
    "orders": [
        IndexModel([("client_order_id", ASCENDING)], unique=True),
        IndexModel([("broker_order_id", ASCENDING)], unique=True),
        IndexModel([("sequence", ASCENDING)], unique=True),
    ],
    "executions": [
        IndexModel([("execution_id", ASCENDING)], unique=True),
        IndexModel([("account", ASCENDING), ("index", ASCENDING)], unique=True),
    ],
    "positions": [IndexModel(PAIR, unique=True)],
    "last_bars": [IndexModel(PAIR, unique=True)],
}
REQUEST_FIELDS = (
    "client_order_id",
    "account",
    "asset",
    "side",
    "quantity",
    "order_type",
    "limit_price",
    "stop_price",
    "parent_client_order_id",
    "oco_group",
)
EXECUTION_FIELDS = (
    "execution_id",
    "client_order_id",
    "broker_order_id",
    "account",
    "asset",
    "side",
    "quantity",
    "price",
    "commission",
    "time",
)
BAR_FIELDS = ("time", "open", "high", "low", "close", "volume")


class MongoPaperStore:
    """A durable :class:`~.store.PaperStore` in database ``database_name``.

    ``client`` should be created with ``tz_aware=True``; the database is
    opened with UTC-aware codec options either way. Indexes are created on
    first use. :meth:`commit` writes a batch in one multi-document
    transaction (via :meth:`write`), so a crash never leaves half a batch.
    """

    def __init__(self, client: AsyncMongoClient, database_name: str) -> None:
        self.client = client
        self.db: AsyncDatabase = client.get_database(database_name, codec_options=CODEC_OPTIONS)
        self._indexed = False

    async def load(self) -> PaperBookState:
        """The whole committed book; empty if nothing was ever committed.

        Raises:
            ConnectionError: MongoDB cannot be reached.
        """
        try:
            await self._ensure_indexes()
            return await self._read()
        except ConnectionFailure as error:
            raise ConnectionError(f"paper broker store unreachable: {error}") from error

    async def commit(self, changes: PaperChanges) -> None:
        """Write ``changes`` in one transaction: all of them or none.

        Raises:
            ConnectionError: MongoDB cannot be reached (nothing written).
        """

        async def work(session: AsyncClientSession | None) -> None:
            await self.write(changes, session)

        try:
            await self._ensure_indexes()
            if _documents(changes) == 1:  # one document: atomic without a transaction
                await self.write(changes, None)
                return
            async with self.client.start_session() as session:
                await session.with_transaction(work)
        except ConnectionFailure as error:
            raise ConnectionError(f"paper broker store unreachable: {error}") from error

    async def write(self, changes: PaperChanges, session: AsyncClientSession | None) -> None:
        """All writes of one batch, inside the transaction of ``session``."""
        await self.write_orders(changes, session)
        await self.write_executions(changes, session)
        await self.write_positions(changes, session)
        await self.write_last_bars(changes, session)

    async def write_orders(self, changes: PaperChanges, session: AsyncClientSession | None) -> None:
        requests = [
            ReplaceOne({"client_order_id": cid}, encode_order(order), upsert=True)
            for cid, order in changes.orders.items()
        ]
        if requests:
            await self.db["orders"].bulk_write(requests, ordered=True, session=session)

    async def write_executions(
        self, changes: PaperChanges, session: AsyncClientSession | None
    ) -> None:
        docs = [encode_execution(numbered) for numbered in changes.executions]
        if docs:
            await self.db["executions"].insert_many(docs, ordered=True, session=session)

    async def write_positions(
        self, changes: PaperChanges, session: AsyncClientSession | None
    ) -> None:
        requests: list[Any] = []
        for (account, asset), quantity in changes.positions.items():
            key = {"account": account, "asset": asset}
            if quantity == 0.0:
                requests.append(DeleteOne(key))
            else:
                requests.append(ReplaceOne(key, {**key, "quantity": quantity}, upsert=True))
        if requests:
            await self.db["positions"].bulk_write(requests, ordered=True, session=session)

    async def write_last_bars(
        self, changes: PaperChanges, session: AsyncClientSession | None
    ) -> None:
        requests = []
        for (account, asset), bar in changes.last_bars.items():
            key = {"account": account, "asset": asset}
            doc = {**key, **{name: getattr(bar, name) for name in BAR_FIELDS}}
            requests.append(ReplaceOne(key, doc, upsert=True))
        if requests:
            await self.db["last_bars"].bulk_write(requests, ordered=True, session=session)

    async def _ensure_indexes(self) -> None:
        """Create the collections' indexes once (outside any transaction)."""
        if self._indexed:
            return
        for collection, indexes in INDEXES.items():
            await self.db[collection].create_indexes(indexes)
        self._indexed = True

    async def _read(self) -> PaperBookState:
        state = PaperBookState()
        async for doc in self.db["orders"].find({}).sort("sequence", ASCENDING):
            order = decode_order(doc)
            state.orders[order.request.client_order_id] = order
        executions = self.db["executions"].find({}).sort([("account", 1), ("index", 1)])
        async for doc in executions:
            state.executions.setdefault(doc["account"], []).append(decode_execution(doc))
        async for doc in self.db["positions"].find({}):
            state.positions[(doc["account"], doc["asset"])] = doc["quantity"]
        async for doc in self.db["last_bars"].find({}):
            bar = Bar(**{name: doc[name] for name in BAR_FIELDS})
            state.last_bars[(doc["account"], doc["asset"])] = bar
        state.reindex()
        return state


def encode_order(order: PaperOrder) -> dict[str, Any]:
    doc = {name: getattr(order.request, name) for name in REQUEST_FIELDS}
    doc["side"], doc["order_type"] = str(doc["side"]), str(doc["order_type"])
    doc.update(
        broker_order_id=order.broker_order_id,
        status=str(order.status),
        active=order.active,
        sequence=order.sequence,
    )
    return doc


def decode_order(doc: dict[str, Any]) -> PaperOrder:
    fields: dict[str, Any] = {name: doc.get(name) for name in REQUEST_FIELDS}
    fields["side"], fields["order_type"] = Side(doc["side"]), OrderType(doc["order_type"])
    return PaperOrder(
        request=OrderRequest(**fields),
        broker_order_id=doc["broker_order_id"],
        status=OrderStatus(doc["status"]),
        active=doc["active"],
        sequence=doc["sequence"],
    )


def encode_execution(numbered: NumberedExecution) -> dict[str, Any]:
    doc = {name: getattr(numbered.execution, name) for name in EXECUTION_FIELDS}
    doc["side"] = str(doc["side"])
    doc["index"] = numbered.rank
    return doc


def decode_execution(doc: dict[str, Any]) -> Execution:
    fields = {name: doc[name] for name in EXECUTION_FIELDS}
    fields["side"] = Side(doc["side"])
    return Execution(**fields)


def _documents(changes: PaperChanges) -> int:
    """How many documents a batch writes."""
    return (
        len(changes.orders)
        + len(changes.executions)
        + len(changes.positions)
        + len(changes.last_bars)
    )
