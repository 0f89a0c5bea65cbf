"""An operation's projection state as of a given sequence number."""

from __future__ import annotations

from collections.abc import AsyncIterator

from live_trading.domain.projection import JournalRecord, OperationState, apply
from live_trading.domain.snapshot import state_from_snapshot
from live_trading.journal.mongo_journal import MongoJournal

PAGE = 1000  # journal entries read per query


async def read_pages(
    journal: MongoJournal, operation_id: str, after: int, upto: int | None = None
) -> AsyncIterator[list[JournalRecord]]:
    """The operation's entries with ``after`` < sequence ≤ ``upto`` (no
    upper bound when None), in order, one page (≤ :data:`PAGE`) at a time.
    Stops early when the journal holds fewer."""
    while upto is None or after < upto:
        limit = PAGE if upto is None else min(PAGE, upto - after)
        page = await journal.read(operation_id, after, limit)
        if not page:
            return
        yield page
        after = page[-1].sequence_number
        if len(page) < limit:
            return


async def state_as_of(journal: MongoJournal, operation_id: str, sequence: int) -> OperationState:
    """The state folded from the operation's entries 1..``sequence``: from
    its checkpoint when that is not past ``sequence``, else from the start.
    The result's ``last_sequence`` is lower than ``sequence`` when the
    journal holds fewer entries (0 and no operation for an unknown id).

    Raises:
        ProjectionError: the journal cannot be folded (corrupt journal).
    """
    snapshot = await journal.load_checkpoint(operation_id) if sequence > 0 else None
    if snapshot is not None and snapshot.get("last_sequence", sequence + 1) <= sequence:
        state = state_from_snapshot(snapshot)
    else:
        state = OperationState(operation_id)
    async for page in read_pages(journal, operation_id, state.last_sequence, sequence):
        for record in page:
            apply(state, record)
    return state
