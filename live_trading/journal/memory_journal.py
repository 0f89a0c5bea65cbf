"""The journal kept in process memory: :class:`MongoJournal`'s interface and
contract, with no store round trip (backtest mode, see
:mod:`live_trading.backtest`).

It keeps the same guarantees as the store does for one process: an append
(entries, read-model changes and checkpoint) happens whole or not at all
(it is checked first, then applied with no ``await`` in between, so no other
task sees half of it); (operation_id, sequence_number) and ``event_id`` are
unique, and a duplicate is classified as :class:`DuplicateEventError` or
:class:`JournalConflictError` exactly as :class:`MongoJournal` does. Every
read returns copies (no dict or list shared with what is kept), so a reader
never alters the journal. Nothing survives the process: that is the point of
backtest mode, and the only difference from the durable journal.

What is kept, and why it need not be copied on commit (a store copies
everything it is sent; copying here would cost more than the rest of an
append):

* entries: a :class:`JournalRecord` is frozen, and the journal service builds
  each one's data afresh, already in the store's form
  (:func:`~.normal_form.normal_form`); nothing writes into a journaled
  entry's data afterwards (the projection only reads it);
* read-model documents: each append's changes are fresh copies made by the
  projection; they are kept as :func:`~.mongo_journal.encode_document` would
  write them (a new dict without the None fields), ids as 24-hex strings;
* checkpoints (snapshots that refer to the live state) are copied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from live_trading.domain.projection import OPERATIONS, Changes, JournalRecord

from .mongo_journal import DuplicateEventError, JournalConflictError


def clone(value: Any) -> Any:
    """A copy of ``value`` sharing no dict or list with it (other values --
    str, float, datetime... -- are immutable and shared); tuples become lists,
    as in the store."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [clone(v) for v in value]
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clone(v) for v in value]
    return value


def stored_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A read-model document as kept: a new dict without the None fields."""
    return {k: v for k, v in doc.items() if v is not None}


class MemoryJournal:
    """Journal persistence in process memory (see the module docstring)."""

    def __init__(self) -> None:
        self._live: dict[str, dict[int, JournalRecord]] = defaultdict(dict)
        self._archived: dict[str, dict[int, JournalRecord]] = defaultdict(dict)
        self._events: dict[str, JournalRecord] = {}
        self._checkpoints: dict[str, dict[str, Any]] = {}
        self.read_models: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)

    async def ensure_indexes(self) -> None:
        """Nothing to create: uniqueness is checked on each commit."""

    async def commit(
        self,
        records: list[JournalRecord],
        changes: Changes,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        """Append ``records``, write ``changes`` and the operation's
        ``checkpoint``, all or nothing.

        Raises:
            DuplicateEventError: an event id was already recorded.
            JournalConflictError: a sequence number was already taken (or
                appears twice in ``records``).
        """
        self._check(records)
        documents = [(key, stored_document(doc)) for key, doc in changes.items()]
        kept_checkpoint = None if checkpoint is None else clone(checkpoint)
        for record in records:  # nothing below can fail: the append is whole
            self._live[record.operation_id][record.sequence_number] = record
            self._events[record.event_id] = record
        self._put(documents)
        if kept_checkpoint is not None:
            self._checkpoints[kept_checkpoint["operation_id"]] = kept_checkpoint

    def _check(self, records: list[JournalRecord]) -> None:
        for record in records:
            if record.event_id in self._events:
                raise DuplicateEventError(f"event {record.event_id} is already journaled")
        seen: set[tuple[str, int]] = set()
        for record in records:
            key = (record.operation_id, record.sequence_number)
            if key in seen or self._taken(*key):
                raise JournalConflictError(
                    "journal append conflict: another writer took sequence "
                    f"{record.sequence_number} of operation {record.operation_id}"
                )
            seen.add(key)

    def _taken(self, operation_id: str, sequence_number: int) -> bool:
        return sequence_number in self._live.get(
            operation_id, ()
        ) or sequence_number in self._archived.get(operation_id, ())

    async def write_documents(self, changes: Changes, session: Any = None) -> None:
        """Upsert read-model documents (whole-document replace)."""
        self._put([(key, stored_document(doc)) for key, doc in changes.items()])

    def _put(self, documents: list[tuple[tuple[str, str], dict[str, Any]]]) -> None:
        for (collection, doc_id), doc in documents:
            self.read_models[collection][doc_id] = doc

    async def read(
        self, operation_id: str, after_sequence: int = 0, limit: int | None = None
    ) -> list[JournalRecord]:
        """Copies of one operation's entries with sequence > ``after_sequence``,
        in order, archived ones included."""
        merged = {**self._archived.get(operation_id, {}), **self._live.get(operation_id, {})}
        numbers = sorted(n for n in merged if n > after_sequence)
        if limit:
            numbers = numbers[:limit]
        return [_copy(merged[n]) for n in numbers]

    async def scan(self) -> AsyncIterator[JournalRecord]:
        """Every entry (archive included), by operation, in sequence order."""
        for operation_id in await self.operation_ids():
            for record in await self.read(operation_id):
                yield record

    async def operation_ids(self) -> list[str]:
        ids = {op for op, entries in self._live.items() if entries}
        ids.update(op for op, entries in self._archived.items() if entries)
        return sorted(ids)

    async def find_events(self, event_ids: list[str]) -> list[JournalRecord]:
        return [_copy(self._events[e]) for e in event_ids if e in self._events]

    async def load_checkpoint(self, operation_id: str) -> dict[str, Any] | None:
        checkpoint = self._checkpoints.get(operation_id)
        return None if checkpoint is None else {"_id": operation_id, **clone(checkpoint)}

    async def archive_entries(self, operation_id: str, before: datetime) -> int:
        """Move the operation's entries older than ``before`` to the archive."""
        live = self._live.get(operation_id, {})
        moving = [n for n, r in live.items() if r.timestamp < before]
        for number in moving:
            self._archived[operation_id][number] = live.pop(number)
        return len(moving)

    async def drop_read_models(self, collections: Iterable[str]) -> None:
        for name in collections:
            self.read_models.pop(name, None)

    async def sync_read_models(self, operation_id: str, documents: Changes) -> int:
        """Make the operation's read models equal ``documents`` (the fold of
        its journal), as :meth:`MongoJournal.sync_read_models`: write the
        missing and the different, delete the others. Returns the writes."""
        stale = {key for key, doc in self._documents_of(operation_id) if key not in documents}
        writes = 0
        for key, doc in documents.items():
            kept = stored_document(doc)
            if self.read_models[key[0]].get(key[1]) != kept:
                self.read_models[key[0]][key[1]] = kept
                writes += 1
        for collection, doc_id in stale:
            del self.read_models[collection][doc_id]
        return writes + len(stale)

    async def delete_read_models_except(self, operation_ids: Iterable[str]) -> int:
        """Delete the read-model documents of every operation not in
        ``operation_ids``; returns how many."""
        keep = set(operation_ids)
        doomed = [key for key, doc in self._documents_of(None) if _owner(key, doc) not in keep]
        for collection, doc_id in doomed:
            del self.read_models[collection][doc_id]
        return len(doomed)

    def _documents_of(
        self, operation_id: str | None
    ) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        """((collection, id), document) of one operation's read models (of all
        operations when ``operation_id`` is None)."""
        return [
            ((collection, doc_id), doc)
            for collection, docs in self.read_models.items()
            for doc_id, doc in docs.items()
            if operation_id is None or _owner((collection, doc_id), doc) == operation_id
        ]

    # -- queries (what a store's find would answer) ---------------------------

    def document(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """A copy of one read-model document, or None."""
        doc = self.read_models.get(collection, {}).get(doc_id)
        return None if doc is None else clone(doc)

    def documents(self, collection: str, **equal: Any) -> list[dict[str, Any]]:
        """Copies of the documents of ``collection`` whose fields equal ``equal``."""
        return [
            clone(d)
            for d in self.read_models.get(collection, {}).values()
            if all(d.get(k) == v for k, v in equal.items())
        ]

    def count_entries(self, operation_id: str, *, archived: bool = False) -> int:
        """Entries of the operation in the live journal (or the archive)."""
        return len((self._archived if archived else self._live).get(operation_id, {}))


def _owner(key: tuple[str, str], doc: dict[str, Any]) -> str:
    """The operation a read-model document belongs to."""
    return key[1] if key[0] == OPERATIONS else str(doc.get("operation_id"))


def _copy(r: JournalRecord) -> JournalRecord:
    """The record with a copy of its data (the record itself is immutable)."""
    return JournalRecord(
        r.entry_id,
        r.operation_id,
        r.sequence_number,
        r.action_type,
        clone(r.action_data),
        r.timestamp,
        r.source,
        r.event_id,
        r.user,
    )
