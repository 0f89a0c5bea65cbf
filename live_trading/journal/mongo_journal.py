"""The journal in MongoDB: atomic append with projection, reads, rebuild writes.

Each append inserts the new entries and writes the read-model documents they
changed in one multi-document transaction, so the journal and the read
models never disagree. :meth:`MongoJournal.commit_batch` commits the appends
of several operations in one such transaction (group commit, see
:mod:`.group_commit`); on a server that takes MongoDB 8.0's cross-collection
``bulkWrite`` the whole transaction is one write command and its commit.
Sequence conflicts are caught by the unique index on (operation_id,
sequence_number); a retried entry by the unique ``event_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import (
    BulkWriteError,
    ClientBulkWriteException,
    DuplicateKeyError,
    PyMongoError,
)

from live_trading.domain.projection import OPERATIONS, Changes, JournalRecord
from live_trading.faults import fault_point
from live_trading.store.mongo import Store

from .documents import READ_MODELS

JOURNAL = "journal"
ARCHIVE = "journal_archive"
CHECKPOINTS = "projection_checkpoints"
ONE_COMMAND_MAX_WRITES = 32  # writes of a transaction sent as one bulkWrite, at most
OBJECT_ID_FIELDS = frozenset(
    {
        "_id",
        "operation_id",
        "order_id",
        "position_id",
        "parent_order_id",
        "related_entry_transaction_id",
        "entry_transaction_id",
        "exit_transaction_id",
    }
)


class JournalConflictError(RuntimeError):
    """An append did not state the operation's next sequence number: another
    writer appended first. Nothing was written."""


class DuplicateEventError(RuntimeError):
    """An entry with this ``event_id`` is already in the journal."""


def encode_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A read-model document as stored: id fields as ObjectId, None omitted."""
    encoded = {}
    for key, value in doc.items():
        if value is None:
            continue
        if key in OBJECT_ID_FIELDS and isinstance(value, str):
            value = ObjectId(value)
        encoded[key] = value
    return encoded


def encode_record(record: JournalRecord) -> dict[str, Any]:
    entry = {
        "_id": ObjectId(record.entry_id),
        "operation_id": ObjectId(record.operation_id),
        "sequence_number": record.sequence_number,
        "action_type": record.action_type,
        "action_data": record.action_data,
        "timestamp": record.timestamp,
        "source": record.source,
        "event_id": record.event_id,
    }
    if record.user:
        entry["user"] = record.user
    return entry


def _write_model(doc: dict[str, Any], new: bool, namespace: str | None = None) -> Any:
    """An insert of ``doc`` when it is ``new``, else an upsert replacing it."""
    encoded = encode_document(doc)
    extra: dict[str, Any] = {"namespace": namespace} if namespace else {}
    if new:
        return InsertOne(encoded, **extra)
    return ReplaceOne({"_id": encoded["_id"]}, encoded, upsert=True, **extra)


def decode_record(raw: dict[str, Any]) -> JournalRecord:
    return JournalRecord(
        entry_id=str(raw["_id"]),
        operation_id=str(raw["operation_id"]),
        sequence_number=raw["sequence_number"],
        action_type=raw["action_type"],
        action_data=raw.get("action_data") or {},
        timestamp=raw["timestamp"],
        source=raw["source"],
        event_id=raw["event_id"],
        user=raw.get("user"),
    )


@dataclass(frozen=True)
class Append:
    """One append of one operation: its entries (consecutive sequence numbers),
    the read-model documents they change, and the operation's state checkpoint
    when the append crosses a checkpoint boundary."""

    records: list[JournalRecord]
    changes: Changes
    checkpoint: dict[str, Any] | None = None


class _DuplicateKey(Exception):
    """A unique index refused the insert (raised inside the transaction)."""


class MongoJournal:
    """Journal persistence on a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.entries = store.db[JOURNAL]
        self.archive = store.db[ARCHIVE]
        self.checkpoints = store.db[CHECKPOINTS]
        self._client_bulk: bool | None = None  # see _client_bulk_supported

    async def ensure_indexes(self) -> None:
        """The archive keeps the journal's unique indexes."""
        await self.archive.create_index(
            [("operation_id", 1), ("sequence_number", 1)],
            unique=True,
            name="operation_sequence_unique",
        )
        await self.archive.create_index([("event_id", 1)], unique=True, name="event_id_unique")

    async def commit(
        self,
        records: list[JournalRecord],
        changes: Changes,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        """Insert ``records``, write ``changes`` and the operation's
        ``checkpoint`` (a state snapshot) in one transaction.

        Raises:
            JournalConflictError: a sequence number was already taken.
            DuplicateEventError: an event id was already recorded.
        """
        await self.commit_batch([Append(records, changes, checkpoint)])

    async def commit_batch(self, appends: list[Append]) -> None:
        """Commit several appends (of different operations) in one transaction:
        all their entries, read-model documents and checkpoints, or nothing.

        Raises:
            JournalConflictError: a sequence number was already taken.
            DuplicateEventError: an event id was already recorded.
        """
        records = [r for append in appends for r in append.records]
        entries = [encode_record(r) for r in records]
        changes: Changes = {}
        for append in appends:
            changes.update(append.changes)
        created = {r.entry_id for r in records}  # ids of documents these entries create
        checkpoints = [a.checkpoint for a in appends if a.checkpoint is not None]
        # small transactions (latency): one command; large ones (throughput):
        # one insert_many / bulk_write per collection, cheaper per document
        one_command = (
            len(entries) + len(changes) <= ONE_COMMAND_MAX_WRITES
            and await self._client_bulk_supported()
        )

        async def work(session: AsyncClientSession) -> None:
            try:
                write = self._write_in_one_command if one_command else self._write_per_collection
                await write(entries, changes, created, checkpoints, session)
            except (DuplicateKeyError, BulkWriteError) as error:
                raise _DuplicateKey(str(error)) from error
            except ClientBulkWriteException as error:
                # the server's raw write errors (pymongo types them as WriteError)
                if any(e.get("code") == 11000 for e in error.details.get("writeErrors") or []):
                    raise _DuplicateKey(str(error)) from error
                if isinstance(error.error, PyMongoError):
                    # the command's own error carries the labels (a transient
                    # write conflict) that make with_transaction retry
                    raise error.error from error
                raise

        try:
            # not causally consistent: a retried transaction's first command
            # must not carry readConcern.afterClusterTime, which SecantusDB's
            # bulkWrite refuses (a write on the primary needs none)
            async with self.store.client.start_session(causal_consistency=False) as session:
                await session.with_transaction(work)
        except _DuplicateKey as duplicate:
            await self._classify_duplicate(records, duplicate)

    async def _write_in_one_command(
        self,
        entries: list[dict[str, Any]],
        changes: Changes,
        created: set[str],
        checkpoints: list[dict[str, Any]],
        session: AsyncClientSession,
    ) -> None:
        """Every write of the transaction in one ``bulkWrite`` command (one
        round trip; MongoDB 8.0's cross-collection bulk write)."""
        db = self.store.db.name
        models: list[Any] = [
            InsertOne(namespace=f"{db}.{JOURNAL}", document=entry) for entry in entries
        ]
        for (collection, doc_id), doc in changes.items():
            models.append(_write_model(doc, doc_id in created, f"{db}.{collection}"))
        for checkpoint in checkpoints:
            oid = ObjectId(checkpoint["operation_id"])
            models.append(
                ReplaceOne(
                    {"_id": oid},
                    {"_id": oid, **checkpoint},
                    upsert=True,
                    namespace=f"{db}.{CHECKPOINTS}",
                )
            )
        await self.store.client.bulk_write(models, session=session, ordered=True)
        fault_point("during_projection")

    async def _write_per_collection(
        self,
        entries: list[dict[str, Any]],
        changes: Changes,
        created: set[str],
        checkpoints: list[dict[str, Any]],
        session: AsyncClientSession,
    ) -> None:
        await self.entries.insert_many(entries, ordered=True, session=session)
        fault_point("during_projection")
        await self.write_documents(changes, session=session, created=created)
        if checkpoints:
            requests = []
            for checkpoint in checkpoints:
                oid = ObjectId(checkpoint["operation_id"])
                requests.append(ReplaceOne({"_id": oid}, {"_id": oid, **checkpoint}, upsert=True))
            await self.checkpoints.bulk_write(requests, ordered=True, session=session)

    async def _client_bulk_supported(self) -> bool:
        """True when the server takes a cross-collection ``bulkWrite`` inside a
        transaction: wire version 25 (MongoDB 8.0) or later, in a replica set."""
        if self._client_bulk is None:
            hello = await self.store.client.admin.command("hello")
            self._client_bulk = bool(hello.get("maxWireVersion", 0) >= 25 and hello.get("setName"))
        return self._client_bulk

    async def _classify_duplicate(
        self, records: list[JournalRecord], duplicate: _DuplicateKey
    ) -> None:
        """Tell a retried entry from a sequence conflict by looking the event
        ids up (after the transaction aborted), not by parsing the server's
        message, which differs between servers."""
        found = await self.find_events([r.event_id for r in records])
        if found:
            raise DuplicateEventError(
                f"event {found[0].event_id} is already journaled"
            ) from duplicate
        raise JournalConflictError(
            "journal append conflict: another writer took sequence "
            f"{records[0].sequence_number} of operation {records[0].operation_id}"
        ) from duplicate

    async def write_documents(
        self,
        changes: Changes,
        session: AsyncClientSession | None = None,
        created: Collection[str] = (),
    ) -> None:
        """Write read-model documents: whole-document upserts, but plain
        inserts for the ids in ``created`` (documents known not to exist yet:
        cheaper for the server, and a duplicate fails instead of overwriting)."""
        by_collection: dict[str, list[Any]] = defaultdict(list)
        for (collection, doc_id), doc in changes.items():
            by_collection[collection].append(_write_model(doc, doc_id in created))
        for collection, requests in by_collection.items():
            await self.store.db[collection].bulk_write(requests, ordered=True, session=session)

    async def read(
        self, operation_id: str, after_sequence: int = 0, limit: int | None = None
    ) -> list[JournalRecord]:
        """Entries of one operation with sequence > ``after_sequence``, in
        order, archived ones included (the archive holds a prefix)."""
        query = {"operation_id": ObjectId(operation_id), "sequence_number": {"$gt": after_sequence}}
        records: list[JournalRecord] = []
        for collection in (self.archive, self.entries):
            cursor = collection.find(query).sort("sequence_number", 1)
            if limit:
                cursor = cursor.limit(limit - len(records))
            records.extend([decode_record(raw) async for raw in cursor])
            if limit and len(records) >= limit:
                break
        return records

    async def scan(self) -> AsyncIterator[JournalRecord]:
        """Every entry (archive included), by operation, in sequence order."""
        for operation_id in await self.operation_ids():
            for record in await self.read(operation_id):
                yield record

    async def operation_ids(self) -> list[str]:
        live = await self.entries.distinct("operation_id")
        archived = await self.archive.distinct("operation_id")
        return sorted({str(oid) for oid in [*live, *archived]})

    async def find_events(self, event_ids: list[str]) -> list[JournalRecord]:
        found: list[JournalRecord] = []
        for collection in (self.entries, self.archive):
            cursor = collection.find({"event_id": {"$in": event_ids}})
            found.extend([decode_record(raw) async for raw in cursor])
        return found

    async def load_checkpoint(self, operation_id: str) -> dict[str, Any] | None:
        return await self.checkpoints.find_one({"_id": ObjectId(operation_id)})

    async def archive_entries(self, operation_id: str, before: datetime) -> int:
        """Move the operation's entries older than ``before`` to the archive,
        in one transaction (copied, then removed from the journal)."""
        query = {"operation_id": ObjectId(operation_id), "timestamp": {"$lt": before}}
        moved = 0

        async def work(session: AsyncClientSession) -> None:
            nonlocal moved
            entries = await self.entries.find(query, session=session).to_list(None)
            if entries:
                await self.archive.insert_many(entries, ordered=True, session=session)
                result = await self.entries.delete_many(
                    {"_id": {"$in": [e["_id"] for e in entries]}}, session=session
                )
                moved = result.deleted_count

        async with self.store.client.start_session() as session:
            await session.with_transaction(work)
        return moved

    async def drop_read_models(self, collections: Iterable[str]) -> None:
        for name in collections:
            await self.store.db[name].delete_many({})

    async def read_models_of(self, operation_id: str) -> dict[tuple[str, Any], dict[str, Any]]:
        """The operation's stored read-model documents, by (collection, _id)."""
        oid = ObjectId(operation_id)
        stored: dict[tuple[str, Any], dict[str, Any]] = {}
        for collection in READ_MODELS:
            query = {"_id": oid} if collection == OPERATIONS else {"operation_id": oid}
            async for doc in self.store.db[collection].find(query):
                stored[(collection, doc["_id"])] = doc
        return stored

    async def sync_read_models(self, operation_id: str, documents: Changes) -> int:
        """Make the operation's stored read models equal ``documents`` (the
        fold of its journal): insert the missing, replace the different, delete
        those not in ``documents``. Returns the number of writes."""
        stored = await self.read_models_of(operation_id)
        requests: dict[str, list[Any]] = defaultdict(list)
        for (collection, _doc_id), doc in documents.items():
            encoded = encode_document(doc)
            current = stored.pop((collection, encoded["_id"]), None)
            if current != encoded:
                requests[collection].append(_write_model(doc, current is None))
        for collection, doc_id in stored:
            requests[collection].append(DeleteOne({"_id": doc_id}))
        for collection, batch in requests.items():
            await self.store.db[collection].bulk_write(batch, ordered=False)
        return sum(len(batch) for batch in requests.values())

    async def delete_read_models_except(self, operation_ids: Iterable[str]) -> int:
        """Delete the read-model documents of every operation not in
        ``operation_ids``; returns how many."""
        keep = {ObjectId(op) for op in operation_ids}
        deleted = 0
        for collection in READ_MODELS:  # distinct, then $in: no $nin test of every document
            field = "_id" if collection == OPERATIONS else "operation_id"
            found = await self.store.db[collection].distinct(field)
            orphans = [oid for oid in found if oid not in keep]
            if orphans:
                result = await self.store.db[collection].delete_many({field: {"$in": orphans}})
                deleted += result.deleted_count
        return deleted
