"""The journal service: record events for an operation, atomically projected.

:meth:`JournalService.record` is the only way anything is written: it takes
events, gives them the operation's next sequence numbers, folds them into the
operation's state (computing the read-model changes) and commits entries and
changes in one transaction. Per-operation state is cached in memory and
rebuilt from the journal when missing or after a failed append.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from live_trading.domain.events import Event, event_data
from pymongo.errors import ConnectionFailure

from live_trading.domain.projection import (
    Changes,
    JournalRecord,
    OperationState,
    apply,
    fold,
)
from live_trading.domain.snapshot import state_from_snapshot, state_to_snapshot
from live_trading.domain.values import utc_now

from .ids import object_ids, uuid4s
from .mongo_journal import DuplicateEventError, JournalConflictError, MongoJournal
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

    def __init__(self, journal: MongoJournal) -> None:
        self.journal = journal
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
            state = await self.load_state(operation_id)
            self._states[operation_id] = state
        return state

    async def load_state(self, operation_id: str, *, use_checkpoint: bool = True
                         ) -> OperationState:
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

    async def record(self, operation_id: str, events: list[Event], *, source: str,
                     user: str | None = None, expected_sequence: int | None = None,
                     new_operation: bool = False) -> list[JournalRecord]:
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

    async def _commit(self, state: OperationState, records: list[JournalRecord],
                      changes: Changes) -> None:
        """Commit; after an ambiguous failure (connection lost around the
        commit), retry once with the same event ids: if the first attempt had
        in fact committed, the entries are found and the append succeeds once."""
        crossed = checkpoint_due(state, records[0].sequence_number)
        # the store keeps the snapshot as BSON (times in ms, lists), which is
        # what normalise() would give: no need to round-trip it here too
        checkpoint = state_to_snapshot(state) if crossed else None
        try:
            await self.journal.commit(records, changes, checkpoint)
        except ConnectionFailure:
            log.warning("journal commit interrupted; retrying with the same event ids")
            try:
                await self.journal.commit(records, changes, checkpoint)
            except DuplicateEventError:
                stored = await self.journal.find_events([r.event_id for r in records])
                if sorted(r.sequence_number for r in stored) != [
                        r.sequence_number for r in records]:
                    raise

    def _make_records(self, state: OperationState, events: list[Event], source: str,
                      user: str | None) -> list[JournalRecord]:
        now = utc_now()
        entry_ids, event_ids = object_ids(len(events)), uuid4s(len(events))
        return [
            JournalRecord(
                entry_id=entry_ids[i], operation_id=state.operation_id,
                sequence_number=state.last_sequence + i + 1, action_type=event.ACTION_TYPE,
                action_data=normalise(event_data(event)), timestamp=now, source=source,
                event_id=event_ids[i], user=user,
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


async def rebuild_projections(journal: MongoJournal) -> dict[str, int]:
    """Drop every read model and rebuild it from the journal.

    Returns the number of documents written per collection.
    """
    from live_trading.journal.documents import READ_MODELS

    await journal.drop_read_models(READ_MODELS)
    counts: dict[str, int] = dict.fromkeys(READ_MODELS, 0)
    current: str | None = None
    batch: list[JournalRecord] = []
    async for record in journal.scan():
        if record.operation_id != current and batch:
            await _write_fold(journal, current, batch, counts)
            batch = []
        current = record.operation_id
        batch.append(record)
    if batch:
        await _write_fold(journal, current, batch, counts)
    return counts


async def _write_fold(journal: MongoJournal, operation_id: str | None,
                      records: list[JournalRecord], counts: dict[str, int]) -> None:
    assert operation_id is not None
    _, documents = fold(operation_id, records)
    await journal.write_documents(documents)
    for collection, _doc_id in documents:
        counts[collection] += 1
