"""The journal service: record events for an operation, atomically projected.

:meth:`JournalService.record` is the only way anything is written: it takes
events, gives them the operation's next sequence numbers, folds them into the
operation's state (computing the read-model changes) and commits entries and
changes in one transaction. Appends of different operations waiting at the
same moment share that transaction (group commit, :mod:`.group_commit`);
``record()`` returns only once its own entries are committed. Per-operation
state is cached in memory and rebuilt from the journal when missing or after
a failed append.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from live_trading.domain.events import Event, event_data
from live_trading.domain.projection import (
    Changes,
    JournalRecord,
    OperationState,
    apply,
    fold,
)
from live_trading.domain.snapshot import state_from_snapshot, state_to_snapshot
from live_trading.domain.values import utc_now

from .group_commit import MAX_BATCH_ENTRIES, GroupCommitter
from .ids import object_ids, uuid4s
from .memory_journal import MemoryJournal
from .mongo_journal import Append, JournalConflictError, MongoJournal
from .normal_form import normal_form

log = logging.getLogger("live_trading.journal")

Subscriber = Callable[[list[JournalRecord], Changes], Awaitable[None]]
CHECKPOINT_EVERY = 250  # entries between two checkpoints of an operation's state


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it will read back from the store (a BSON round trip):
    times truncated to milliseconds, tuples as lists, enums as strings
    (computed directly, see :mod:`.normal_form`)."""
    return normal_form(data)


def checkpoint_due(state: OperationState, first_sequence: int) -> bool:
    """Whether the append of entries ``first_sequence`` .. ``state.last_sequence``
    checkpoints the state: when it crosses a multiple of the checkpoint
    interval, CHECKPOINT_EVERY entries widened to 4 entries per element of
    the state (its orders and executions, which a snapshot holds all of), so
    that writing checkpoints costs the same per entry however long the
    operation runs (a quarter of an element's encoding)."""
    size = 4 * (len(state.orders) + len(state.execution_ids))
    interval = CHECKPOINT_EVERY * max(1, -(-size // CHECKPOINT_EVERY))
    return state.last_sequence // interval > (first_sequence - 1) // interval


class UnknownOperationError(KeyError):
    """No journal entry exists for this operation id."""


class JournalService:
    """Append events per operation; keep and serve each operation's state."""

    def __init__(
        self, journal: MongoJournal | MemoryJournal, *, max_batch_entries: int = MAX_BATCH_ENTRIES
    ) -> None:
        """``max_batch_entries``: most entries per group transaction; 1 commits
        every append in a transaction of its own."""
        self.journal = journal
        self.committer = GroupCommitter(journal, max_batch_entries)
        self._states: dict[str, OperationState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._subscribers: list[Subscriber] = []
        # Optional hook: on_append(seconds, entries) after each committed append
        # (the commit's duration; the metrics wire it, see bootstrap).
        self.on_append: Callable[[float, int], None] | None = None

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber(records, changes)`` after each committed append."""
        self._subscribers.append(subscriber)

    def lock(self, operation_id: str) -> asyncio.Lock:
        lock = self._locks.get(operation_id)
        if lock is None:  # not setdefault: that would build a Lock on every call
            lock = self._locks[operation_id] = asyncio.Lock()
        return lock

    async def state(self, operation_id: str) -> OperationState:
        """The operation's current state, folded from the journal if not cached.

        Raises:
            UnknownOperationError: the operation has no journal entries.
        """
        state = self._states.get(operation_id)
        if state is None:
            loaded = await self.load_state(operation_id)
            # while it loaded, an append (or another load) may have put a
            # newer state in the cache: a stale fold must never replace it
            state = self._states.get(operation_id)
            if state is None or state.last_sequence < loaded.last_sequence:
                state = self._states[operation_id] = loaded
        return state

    async def load_state(self, operation_id: str, *, use_checkpoint: bool = True) -> OperationState:
        """Fold the operation's state from its checkpoint and the entries
        after it (or from the first entry).

        Raises:
            UnknownOperationError: the operation has no journal entries.
        """
        snapshot = await self.journal.load_checkpoint(operation_id) if use_checkpoint else None
        if snapshot is not None:
            state = state_from_snapshot(snapshot)
            for record in await self.journal.read(operation_id, state.last_sequence):
                apply(state, record)
            return state
        records = await self.journal.read(operation_id)
        if not records:
            raise UnknownOperationError(operation_id)
        state, _ = fold(operation_id, records)
        return state

    async def record(
        self,
        operation_id: str,
        events: list[Event],
        *,
        source: str,
        user: str | None = None,
        expected_sequence: int | None = None,
        new_operation: bool = False,
    ) -> list[JournalRecord]:
        """Append ``events`` to the operation's journal, atomically projected.

        ``expected_sequence`` is the last sequence number the caller has seen;
        when given and not current, nothing is written.

        Raises:
            JournalConflictError: the sequence moved on (here or in another
                process); the cached state is dropped.
            ProjectionError: an event cannot be applied; nothing is written.
        """
        async with self.lock(operation_id):
            if new_operation:
                state = self._states.setdefault(operation_id, OperationState(operation_id))
            else:
                state = await self.state(operation_id)
            if expected_sequence is not None and expected_sequence != state.last_sequence:
                raise JournalConflictError(
                    f"operation {operation_id}: expected sequence {expected_sequence} "
                    f"but the journal is at {state.last_sequence}"
                )
            records = self._make_records(state, events, source, user)
            try:
                changes: Changes = {}
                for record in records:
                    changes.update(apply(state, record))
                started = time.perf_counter()
                await self._commit(state, records, changes)
            except BaseException:
                self._states.pop(operation_id, None)
                raise
            self._observe_append(time.perf_counter() - started, len(records))
        await self._notify(records, changes)
        return records

    def _observe_append(self, seconds: float, entries: int) -> None:
        if self.on_append is not None:
            try:
                self.on_append(seconds, entries)
            except Exception:  # a metric must not undo a commit
                log.exception("journal append observer failed")

    async def _commit(
        self, state: OperationState, records: list[JournalRecord], changes: Changes
    ) -> None:
        """Commit (with the operation's checkpoint when this append crosses a
        checkpoint boundary), possibly in one transaction with appends of other
        operations; return once committed. An ambiguous failure (connection
        lost around the commit) is retried with the same event ids, see
        :func:`.group_commit.commit_alone`."""
        crossed = checkpoint_due(state, records[0].sequence_number)
        # the store keeps the snapshot as BSON (times in ms, lists), which is
        # what normal_form() would give: no need to round-trip it here too
        checkpoint = state_to_snapshot(state) if crossed else None
        await self.committer.commit(Append(records, changes, checkpoint))

    def _make_records(
        self, state: OperationState, events: list[Event], source: str, user: str | None
    ) -> list[JournalRecord]:
        now = utc_now()
        entry_ids, event_ids = object_ids(len(events)), uuid4s(len(events))
        return [
            JournalRecord(
                entry_id=entry_ids[i],
                operation_id=state.operation_id,
                sequence_number=state.last_sequence + i + 1,
                action_type=event.ACTION_TYPE,
                action_data=normalise(event_data(event)),
                timestamp=now,
                source=source,
                event_id=event_ids[i],
                user=user,
            )
            for i, event in enumerate(events)
        ]

    async def _notify(self, records: list[JournalRecord], changes: Changes) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber(records, changes)
            except Exception:  # noqa: BLE001 - a listener must not undo a commit
                log.exception("journal subscriber failed")

    def forget(self, operation_id: str | None = None) -> None:
        """Drop cached state (all operations when ``operation_id`` is None)."""
        if operation_id is None:
            self._states.clear()
        else:
            self._states.pop(operation_id, None)


Progress = Callable[[str, int, int], None]


async def rebuild_projections(
    journal: MongoJournal, *, progress: Progress | None = None
) -> dict[str, int]:
    """Make every read model equal to the fold of the journal.

    Each operation's journal is folded and its stored documents are brought
    to the fold's: missing ones inserted, different ones replaced, ones the
    fold does not produce deleted; documents of operations the journal does
    not know are deleted at the end. Intact documents are left alone, so a
    rebuild over intact read models writes nothing, and one over dropped read
    models inserts everything. Memory: one operation's entries and documents;
    the next operation is read and folded while the previous one is written.
    ``progress(operation_id, entries, writes)`` is called after each operation.

    Returns the number of documents per collection in the rebuilt read models.
    """
    from live_trading.journal.documents import READ_MODELS

    counts: dict[str, int] = dict.fromkeys(READ_MODELS, 0)
    syncing: asyncio.Task | None = None
    seen: list[str] = []
    try:
        async for operation_id, records in _by_operation(journal.scan()):
            _, documents = fold(operation_id, records)
            for collection, _doc_id in documents:
                counts[collection] += 1
            if syncing is not None:
                await syncing  # one operation in flight; its error stops the rebuild
            syncing = asyncio.create_task(
                _sync(journal, operation_id, documents, len(records), progress)
            )
            seen.append(operation_id)
    finally:
        if syncing is not None:
            await syncing
    await journal.delete_read_models_except(seen)
    return counts


async def _by_operation(
    records: AsyncIterator[JournalRecord],
) -> AsyncIterator[tuple[str, list[JournalRecord]]]:
    """(operation id, its records) from a scan ordered by operation."""
    current: str | None = None
    batch: list[JournalRecord] = []
    async for record in records:
        if record.operation_id != current and batch:
            yield batch[0].operation_id, batch
            batch = []
        current = record.operation_id
        batch.append(record)
    if batch:
        yield batch[0].operation_id, batch


async def _sync(
    journal: MongoJournal,
    operation_id: str,
    documents: Changes,
    entries: int,
    progress: Progress | None,
) -> None:
    writes = await journal.sync_read_models(operation_id, documents)
    if progress is not None:
        progress(operation_id, entries, writes)
