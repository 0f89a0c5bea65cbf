"""Group commit for the paper broker's store: commits of several accounts
waiting at the same moment share one transaction.

The paper broker serialises each account's calls (one trading operation per
account) and commits each call's :class:`~.book.PaperChanges` before it
answers. With hundreds of operations on one clock (a bar close, the kill
switch), those commits would queue one transaction at a time at the store.
:class:`GroupCommitPaperStore` gathers every commit queued while the previous
transaction was committing (and those queued in the same event-loop turn as
the first), merges them into one batch and commits it in **one** transaction
of the store it wraps. Each caller resumes only once that transaction has
committed, so a call still answers only once its changes are durable.

Merging is safe because concurrent commits come from different accounts
(each account's calls are serialised), so their orders, fills, positions and
clocks never overlap. A merged batch that fails is committed again one
commit at a time, so one caller's failure fails only that caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from .book import PaperBookState, PaperChanges
from .store import PaperStore

log = logging.getLogger("live_trading.paper")

MAX_GROUP = 500  # commits merged into one transaction, at most


@dataclass(eq=False)
class _Waiting:
    changes: PaperChanges
    future: asyncio.Future


class GroupCommitPaperStore:
    """A :class:`~.store.PaperStore` that commits concurrent calls together
    through ``inner`` (same contract: all of a commit or, on error, none)."""

    def __init__(self, inner: PaperStore, max_group: int = MAX_GROUP) -> None:
        self.inner = inner
        self.max_group = max_group
        self.transactions = 0  # transactions committed (for benchmarks)
        self._queue: deque[_Waiting] = deque()
        self._worker: asyncio.Task | None = None

    async def load(self) -> PaperBookState:
        return await self.inner.load()

    async def commit(self, changes: PaperChanges) -> None:
        """Return once ``changes`` are committed (alone or with others).

        Raises:
            ConnectionError: the store cannot be reached (nothing of this
                commit written).
        """
        loop = asyncio.get_running_loop()
        waiting = _Waiting(changes, loop.create_future())
        self._queue.append(waiting)
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._worker = loop.create_task(self._drain(), name="paper-group-commit")
        try:
            await asyncio.shield(waiting.future)
        except asyncio.CancelledError:
            if not waiting.future.done():  # its transaction may be under way
                await asyncio.wait([waiting.future])
            raise

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # commits made in this loop turn join the first group
        while self._queue:
            group = [self._queue.popleft() for _ in range(min(self.max_group, len(self._queue)))]
            try:
                await self._commit(group)
            except BaseException as error:  # cancelled: nobody may hang
                for waiting in [*group, *self._queue]:
                    if not waiting.future.done():
                        waiting.future.set_exception(error)
                self._queue.clear()
                raise

    async def _commit(self, group: list[_Waiting]) -> None:
        if len(group) > 1:
            try:
                await self.inner.commit(merged([w.changes for w in group]))
            except Exception as error:  # noqa: BLE001 - retried one by one below
                log.warning("paper group commit of %d failed (%s): one by one", len(group), error)
            else:
                self.transactions += 1
                for waiting in group:
                    _settle(waiting.future)
                return
        for waiting in group:
            try:
                await self.inner.commit(waiting.changes)
            except Exception as error:  # noqa: BLE001 - the caller's own failure
                _settle(waiting.future, error)
            else:
                self.transactions += 1
                _settle(waiting.future)


def merged(batches: list[PaperChanges]) -> PaperChanges:
    """One batch with the changes of ``batches`` (of different accounts)."""
    out = PaperChanges()
    for changes in batches:
        out.orders.update(changes.orders)
        out.executions.extend(changes.executions)
        out.positions.update(changes.positions)
        out.last_bars.update(changes.last_bars)
    return out


def _settle(future: asyncio.Future, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
