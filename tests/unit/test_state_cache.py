"""The journal service's cached state of an operation is never replaced by a
fold that was read before a later append committed (seen through the fake TWS:
a duplicate fill report dropped the cache, a report handler began folding the
journal, the engine's decision was appended meanwhile, and the slow fold then
replaced the cache: the decision's orders became unknown to the engine)."""

from __future__ import annotations

import asyncio

from live_trading.domain import events as ev
from live_trading.journal.memory_journal import MemoryJournal
from live_trading.journal.service import JournalService

from .test_projection import created, submit

OP = "665f1f77bcf86cd799439088"


class _SlowFirstRead(MemoryJournal):
    """The first read after ``hold()`` waits until ``release`` is set, with
    the entries it saw when it started."""

    def __init__(self) -> None:
        super().__init__()
        self.release: asyncio.Event | None = None

    def hold(self) -> None:
        self.release = asyncio.Event()

    async def read(self, operation_id, after_sequence=0, limit=None):
        records = await super().read(operation_id, after_sequence, limit)
        gate, self.release = self.release, None
        if gate is not None:
            await gate.wait()
        return records


async def test_a_slow_fold_does_not_replace_a_newer_cached_state() -> None:
    store = _SlowFirstRead()
    journal = JournalService(store)
    await journal.record(OP, [created()], source="test", new_operation=True)
    journal.forget(OP)
    store.hold()
    gate = store.release
    slow = asyncio.create_task(journal.state(OP))  # reads the journal as it is now
    await asyncio.sleep(0)
    await journal.record(OP, [submit("E", "BUY", 1000.0)], source="test")
    assert gate is not None
    gate.set()
    seen = await slow
    assert "E" in seen.orders, "the reader gets the state with the append"
    cached = await journal.state(OP)
    assert "E" in cached.orders and cached.last_sequence == 2
    await journal.record(OP, [ev.OrderAccepted("E", "B-E")], source="test")
    assert (await journal.state(OP)).orders["E"]["status"] == "SUBMITTED"
