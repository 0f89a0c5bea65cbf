"""Group commit: concurrent appends of many operations share transactions,
and the journal's guarantees hold (against the real wire-protocol server)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from live_trading.domain import events as ev
from live_trading.journal import mongo_journal
from live_trading.journal.documents import READ_MODELS
from live_trading.journal.mongo_journal import JournalConflictError, MongoJournal
from live_trading.journal.service import CHECKPOINT_EVERY, JournalService, rebuild_projections
from live_trading.journal.verify import verify_journal
from tests.integration.test_journal_contract import SPEC

OPERATIONS = 10
ROUND_TRIPS = 30  # each: entry bracket, acks, entry fill, OCO exit fill + cancel


def _round_trip(op: str, n: int) -> list[list[ev.Event]]:
    """The appends of one long trade, as the engine makes them: intent, acks,
    the entry fill, the take-profit fill with the stop-loss cancelled."""
    base = 4 * n
    entry, stop, target = (f"LT-{op}-{base + i}" for i in (1, 2, 3))
    when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n)

    def fill(cid: str, side: str, price: float) -> ev.OrderFilled:
        return ev.OrderFilled(f"X-{cid}", cid, f"B-{cid}", side, 10000.0, price, 0.2, when)

    return [
        [
            ev.OrderSubmitted(entry, "ENTRY", "BUY", "MARKET", 10000.0),
            ev.OrderSubmitted(
                stop,
                "STOP_LOSS",
                "SELL",
                "STOP",
                10000.0,
                stop_price=1.30,
                parent_client_order_id=entry,
                oco_group=f"OCO-{entry}",
            ),
            ev.OrderSubmitted(
                target,
                "TAKE_PROFIT",
                "SELL",
                "LIMIT",
                10000.0,
                limit_price=1.40,
                parent_client_order_id=entry,
                oco_group=f"OCO-{entry}",
            ),
        ],
        [ev.OrderAccepted(cid, f"B-{cid}") for cid in (entry, stop, target)],
        [fill(entry, "BUY", 1.35)],
        [fill(target, "SELL", 1.40 + n / 1e4)],
        [ev.OrderCancelled(stop, "OCO")],
    ]


def _sequence(op: str) -> list[list[ev.Event]]:
    appends: list[list[ev.Event]] = []
    for n in range(ROUND_TRIPS):
        appends.extend(_round_trip(op, n))
    return appends


async def _write(journal: JournalService, op: str) -> None:
    await journal.record(op, [ev.OperationCreated(SPEC)], source="test", new_operation=True)
    for events in _sequence(op):
        await journal.record(op, events, source="test")


async def _dump(services) -> dict[str, list[dict]]:
    db = services.store.db
    return {name: await db[name].find({}).sort("_id", 1).to_list(None) for name in READ_MODELS}


@pytest.mark.parametrize("one_command", [True, False], ids=["bulkWrite", "per-collection"])
async def test_concurrent_appends_are_gapless_and_projections_equal_a_rebuild(
    services, monkeypatch, one_command
) -> None:
    # every transaction as one cross-collection bulkWrite, or as one write per collection
    monkeypatch.setattr(mongo_journal, "ONE_COMMAND_MAX_WRITES", 10**6 if one_command else 0)
    journal = services.journal
    ops = [str(ObjectId()) for _ in range(OPERATIONS)]
    await asyncio.gather(*(_write(journal, op) for op in ops))
    stats = journal.committer.stats
    assert stats.largest > 1, "no two appends ever shared a transaction"
    assert stats.transactions < stats.appends
    per_op = 1 + sum(len(events) for events in _sequence(ops[0]))
    assert per_op > CHECKPOINT_EVERY  # checkpoints are written in group transactions too
    for op in ops:
        records = await services.journal_store.read(op)
        assert [r.sequence_number for r in records] == list(range(1, per_op + 1))
    assert await verify_journal(services.journal_store) == {op: [] for op in sorted(ops)}
    before = await _dump(services)
    assert len(before["trades"]) == OPERATIONS * ROUND_TRIPS
    await rebuild_projections(services.journal_store)
    assert await _dump(services) == before


async def test_a_conflict_in_a_batch_fails_only_its_own_append(services) -> None:
    journal = services.journal
    stale, fine = str(ObjectId()), str(ObjectId())
    for op in (stale, fine):
        await journal.record(op, [ev.OperationCreated(SPEC)], source="t", new_operation=True)
    other = JournalService(services.journal_store)  # another process appends first
    await other.record(stale, [ev.OperationPaused("elsewhere")], source="t")
    results = await asyncio.gather(
        journal.record(stale, [ev.OperationPaused()], source="t"),
        journal.record(fine, [ev.OperationPaused()], source="t"),
        return_exceptions=True,
    )
    assert isinstance(results[0], JournalConflictError)
    assert [r.sequence_number for r in results[1]] == [2]
    assert journal.committer.stats.split == 1  # they were in one transaction
    assert len(await services.journal_store.read(stale)) == 2
    assert await verify_journal(services.journal_store) == {stale: [], fine: []}


async def test_an_ambiguous_batch_failure_records_each_append_once(services) -> None:
    class LosesTheFirstBatchAnswer(MongoJournal):
        failed = False

        async def commit_batch(self, appends):
            await super().commit_batch(appends)
            if len(appends) > 1 and not self.failed:
                self.failed = True
                raise AutoReconnect("connection lost after the commit")

    flaky = JournalService(LosesTheFirstBatchAnswer(services.store))
    ops = [str(ObjectId()) for _ in range(4)]
    for op in ops:
        await flaky.record(op, [ev.OperationCreated(SPEC)], source="t", new_operation=True)
    batch = await asyncio.gather(
        *(flaky.record(op, [ev.OperationPaused()], source="t") for op in ops)
    )
    assert flaky.committer.stats.split == 1
    for op, [record] in zip(ops, batch, strict=True):
        stored = await services.journal_store.read(op)
        assert [r.sequence_number for r in stored] == [1, 2]
        assert stored[1].event_id == record.event_id
    assert await verify_journal(services.journal_store) == {op: [] for op in sorted(ops)}


async def test_a_caller_cancelled_before_its_turn_writes_nothing(services) -> None:
    journal = services.journal
    ops = [str(ObjectId()) for _ in range(3)]
    tasks = [
        asyncio.create_task(
            journal.record(op, [ev.OperationCreated(SPEC)], source="t", new_operation=True)
        )
        for op in ops
    ]
    await asyncio.sleep(0)  # all three are queued; the worker has not taken them yet
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert await services.journal_store.read(ops[1]) == []
    assert [len(await services.journal_store.read(op)) for op in (ops[0], ops[2])] == [1, 1]


@pytest.mark.parametrize("max_batch_entries", [1, 3])
async def test_batches_respect_their_size_limit(services, max_batch_entries) -> None:
    journal = JournalService(services.journal_store, max_batch_entries=max_batch_entries)
    ops = [str(ObjectId()) for _ in range(6)]
    await asyncio.gather(
        *(
            journal.record(op, [ev.OperationCreated(SPEC)], source="t", new_operation=True)
            for op in ops
        )
    )
    assert journal.committer.stats.largest <= max_batch_entries
    assert journal.committer.stats.appends == 6


async def test_a_rebuild_repairs_damaged_read_models_and_leaves_intact_ones(services) -> None:
    journal = services.journal
    ops = [str(ObjectId()) for _ in range(3)]
    await asyncio.gather(*(_write(journal, op) for op in ops))
    db = services.store.db
    intact = await _dump(services)
    writes: list[int] = []
    await rebuild_projections(
        services.journal_store, progress=lambda _op, _entries, n: writes.append(n)
    )
    assert writes == [0, 0, 0] and await _dump(services) == intact
    trade = intact["trades"][0]
    await db["trades"].delete_one({"_id": trade["_id"]})  # missing
    await db["orders"].update_one({}, {"$set": {"status": "CANCELLED"}})  # different
    await db["positions"].insert_one({**intact["positions"][0], "_id": ObjectId()})  # stray
    await db["trades"].insert_one({**trade, "_id": ObjectId(), "operation_id": ObjectId()})
    writes.clear()
    counts = await rebuild_projections(
        services.journal_store, progress=lambda _op, _entries, n: writes.append(n)
    )
    assert sum(writes) == 3  # the orphan operation's trade is deleted apart
    assert await _dump(services) == intact
    assert counts["trades"] == len(intact["trades"])
    assert await verify_journal(services.journal_store) == {op: [] for op in sorted(ops)}


async def test_no_caller_resumes_before_its_shared_transaction_has_committed(services) -> None:
    """The write-ahead rule under group commit: while the batch's transaction
    is held open, no ``record()`` of that batch has returned (so no order can
    have been sent on it); once it commits, every one returns."""
    release = asyncio.Event()
    batches: list[int] = []

    class HeldCommit(MongoJournal):
        async def commit_batch(self, appends):
            batches.append(len(appends))
            await release.wait()
            await super().commit_batch(appends)

    journal = JournalService(HeldCommit(services.store))
    ops = [str(ObjectId()) for _ in range(3)]
    for op in ops:
        await services.journal.record(
            op, [ev.OperationCreated(SPEC)], source="t", new_operation=True
        )
        await journal.state(op)  # cached: the three appends are computed in one turn
    tasks = [
        asyncio.create_task(journal.record(op, [ev.OperationPaused()], source="t")) for op in ops
    ]
    for _ in range(50):
        await asyncio.sleep(0.01)
        if batches:
            break
    assert batches == [3] and not any(t.done() for t in tasks)
    assert [len(await services.journal_store.read(op)) for op in ops] == [1, 1, 1]
    release.set()
    records = await asyncio.gather(*tasks)
    assert [r.sequence_number for [r] in records] == [2, 2, 2]
    assert [len(await services.journal_store.read(op)) for op in ops] == [2, 2, 2]
