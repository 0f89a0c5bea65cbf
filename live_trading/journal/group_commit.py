"""Group commit: journal appends waiting at the same moment share one transaction.

:meth:`JournalService.record` computes an append (its entries, the read-model
documents they change, maybe a checkpoint) under its operation's lock, hands
it to the :class:`GroupCommitter` and waits. The committer gathers every
append queued while the previous transaction was committing (and those queued
in the same event-loop turn as the first), up to ``max_entries`` entries, and
commits them in **one** transaction (``commit_batch`` of the journal store).
Each caller resumes only after that transaction committed, so ``record()``
still returns only once its entries are durable: an order is never sent
before its intent is.

Order: an operation's appends are serialised by its lock (the next one is
computed after the previous one committed), so a batch holds at most one
append per operation and the commit order is the sequence order.

Failures: a batch is one transaction, written whole or not at all. When a
batch of several appends fails, each append is committed again on its own,
so one operation's conflict fails only its own caller. After an ambiguous
failure (the connection lost around the commit) an append whose event ids are
found stored with its sequence numbers is confirmed, not written twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import ConnectionFailure

from .mongo_journal import Append, DuplicateEventError

log = logging.getLogger("live_trading.journal")

MAX_BATCH_ENTRIES = 2000  # journal entries per group transaction, at most


@dataclass(eq=False)
class _Pending:
    append: Append
    future: asyncio.Future
    taken: bool = False  # in a batch being committed


@dataclass
class CommitStats:
    """What the committer did: transactions, appends and entries committed."""

    transactions: int = 0
    appends: int = 0
    entries: int = 0
    largest: int = 0  # most appends in one transaction
    split: int = 0  # failed batches committed again one append at a time
    sizes: dict[int, int] = field(default_factory=dict)  # appends per batch -> count

    def add(self, appends: int, entries: int) -> None:
        self.transactions += 1
        self.appends += appends
        self.entries += entries
        self.largest = max(self.largest, appends)
        self.sizes[appends] = self.sizes.get(appends, 0) + 1


class GroupCommitter:
    """Commit appends to ``journal``, many per transaction when they wait together.

    ``max_entries`` <= 1, or a journal store without ``commit_batch``, turns
    grouping off: each append is then committed alone, as it arrives.
    """

    def __init__(self, journal: Any, max_entries: int = MAX_BATCH_ENTRIES) -> None:
        self.journal = journal
        self.max_entries = max_entries
        self.stats = CommitStats()
        self._queue: deque[_Pending] = deque()
        self._worker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def grouping(self) -> bool:
        return self.max_entries > 1 and hasattr(self.journal, "commit_batch")

    async def commit(self, append: Append) -> None:
        """Return once ``append`` is committed (alone or in a group).

        Raises:
            JournalConflictError: a sequence number was taken by another writer.
            DuplicateEventError: an event id is already journaled (not by us).
            Whatever the store raised for a commit that failed on its own.
        """
        if not self.grouping:
            await commit_alone(self.journal, append)
            self.stats.add(1, len(append.records))
            return
        loop = asyncio.get_running_loop()
        pending = _Pending(append, loop.create_future())
        self._queue.append(pending)
        self._ensure_worker(loop)
        try:
            await asyncio.shield(pending.future)
        except asyncio.CancelledError:
            if pending.taken and not pending.future.done():
                # in a transaction already: keep the caller (and its lock)
                # until the outcome is known, then give up
                await asyncio.wait([pending.future])
            pending.future.cancel()
            raise

    def _ensure_worker(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not loop:  # a new event loop: the old worker is gone
            self._queue = deque(p for p in self._queue if p.future.get_loop() is loop)
            self._worker, self._loop = None, loop
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain(), name="journal-group-commit")

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # appends computed in this loop turn join the first batch
            while self._queue:
                batch = self._take()
                if batch:
                    await self._commit(batch)
        except BaseException as error:  # cancelled (loop shutting down): nobody may hang
            while self._queue:
                _resolve(self._queue.popleft().future, error=error)
            raise

    def _take(self) -> list[_Pending]:
        """The next batch: queued appends not given up, up to ``max_entries``."""
        batch: list[_Pending] = []
        entries = 0
        while self._queue:
            pending = self._queue[0]
            if pending.future.done():  # the caller was cancelled before its turn
                self._queue.popleft()
                continue
            size = len(pending.append.records)
            if batch and entries + size > self.max_entries:
                break
            self._queue.popleft()
            pending.taken = True
            batch.append(pending)
            entries += size
        return batch

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            if len(batch) == 1:
                await self._settle(batch[0], commit_alone(self.journal, batch[0].append))
                return
            try:
                await self.journal.commit_batch([p.append for p in batch])
            except Exception as error:  # noqa: BLE001 - each append is retried alone
                log.info(
                    "group commit of %d appends failed (%s); committing each alone",
                    len(batch),
                    type(error).__name__,
                )
                self.stats.split += 1
                ambiguous = isinstance(error, ConnectionFailure)
                for pending in batch:
                    await self._settle(
                        pending,
                        commit_alone(self.journal, pending.append, maybe_committed=ambiguous),
                    )
                return
            self.stats.add(len(batch), sum(len(p.append.records) for p in batch))
            for pending in batch:
                _resolve(pending.future, None)
        except BaseException as error:  # the worker itself is cancelled: nobody may hang
            for pending in batch:
                _resolve(pending.future, error=error)
            raise

    async def _settle(self, pending: _Pending, commit) -> None:
        try:
            await commit
        except Exception as error:  # noqa: BLE001 - handed to the caller
            _resolve(pending.future, error=error)
            return
        self.stats.add(1, len(pending.append.records))
        _resolve(pending.future, None)


def _resolve(
    future: asyncio.Future, result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def commit_alone(journal: Any, append: Append, *, maybe_committed: bool = False) -> None:
    """Commit one append in its own transaction.

    After an ambiguous failure (connection lost around the commit) it is
    retried once with the same event ids; entries then found stored under
    their own sequence numbers mean the first attempt had committed. With
    ``maybe_committed`` (the append was in a group whose commit was
    ambiguous) the same holds for the first attempt.

    Raises:
        JournalConflictError, DuplicateEventError, or the store's error.
    """
    try:
        await journal.commit(append.records, append.changes, append.checkpoint)
        return
    except ConnectionFailure:
        log.warning("journal commit interrupted; retrying with the same event ids")
    except DuplicateEventError:
        if not maybe_committed:
            raise
        await _confirm_stored(journal, append)
        return
    try:
        await journal.commit(append.records, append.changes, append.checkpoint)
    except DuplicateEventError:
        await _confirm_stored(journal, append)


async def _confirm_stored(journal: Any, append: Append) -> None:
    """Return if every entry of ``append`` is stored under its own sequence
    number (an earlier attempt committed); raise DuplicateEventError if not."""
    stored = await journal.find_events([r.event_id for r in append.records])
    if sorted(r.sequence_number for r in stored) != [r.sequence_number for r in append.records]:
        raise DuplicateEventError(
            f"events of operation {append.records[0].operation_id} are journaled "
            "under other sequence numbers"
        )
