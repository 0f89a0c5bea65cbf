"""The journal's contract, against the real wire-protocol server."""

from __future__ import annotations

import dataclasses

import pytest
from bson import ObjectId

from live_trading.domain import events as ev
from live_trading.domain.projection import ProjectionError
from live_trading.journal.mongo_journal import DuplicateEventError, JournalConflictError
from live_trading.journal.service import JournalService, rebuild_projections

SPEC = {"asset": "USD-CAD", "bar_sizes": ["1 hour"], "primary_bar_size": "1 hour",
        "strategy_name": "MomentumStrategy", "strategy_config": {}, "stop_loss_type": "ATR",
        "stop_loss_value": 1.5, "take_profit_type": "RISK_REWARD", "take_profit_value": 2.0,
        "crash_recovery_mode": "CLOSE_ALL", "emergency_stop_loss_pct": 0.05,
        "data_retention_bars": 1000, "quantity": 10000.0, "initial_capital": 100000.0,
        "broker": "PAPER"}


async def _new_operation(journal: JournalService) -> str:
    op = str(ObjectId())
    await journal.record(op, [ev.OperationCreated(SPEC)], source="test", new_operation=True)
    return op


async def test_sequence_numbers_are_gapless_per_operation(services) -> None:
    journal = services.journal
    a, b = await _new_operation(journal), await _new_operation(journal)
    await journal.record(a, [ev.OperationPaused(), ev.OperationResumed()], source="test")
    await journal.record(b, [ev.OperationPaused()], source="test")
    assert [r.sequence_number for r in await services.journal_store.read(a)] == [1, 2, 3]
    assert [r.sequence_number for r in await services.journal_store.read(b)] == [1, 2]


async def test_conflicting_append_from_another_writer_is_rejected(services) -> None:
    journal = services.journal
    op = await _new_operation(journal)
    other = JournalService(services.journal_store)  # a second process's view
    await other.state(op)
    await journal.record(op, [ev.OperationPaused()], source="test")
    with pytest.raises(JournalConflictError):
        await other.record(op, [ev.OperationPaused()], source="test")
    records = await services.journal_store.read(op)
    assert [r.action_type for r in records] == ["OPERATION_CREATED", "OPERATION_PAUSED"]
    # after the conflict the stale writer reloads and can append again
    await other.record(op, [ev.OperationResumed()], source="test")
    assert (await services.journal_store.read(op))[-1].sequence_number == 3


async def test_append_with_a_stale_expected_sequence_writes_nothing(services) -> None:
    journal = services.journal
    op = await _new_operation(journal)
    await journal.record(op, [ev.OperationPaused()], source="test", expected_sequence=1)
    with pytest.raises(JournalConflictError):
        await journal.record(op, [ev.OperationResumed()], source="test", expected_sequence=1)
    assert len(await services.journal_store.read(op)) == 2


async def test_creating_an_existing_operation_conflicts(services) -> None:
    journal = services.journal
    op = await _new_operation(journal)
    journal.forget(op)
    with pytest.raises(JournalConflictError):
        await journal.record(op, [ev.OperationCreated(SPEC)], source="test", new_operation=True)


async def test_an_event_that_cannot_be_projected_writes_nothing(services) -> None:
    journal = services.journal
    op = await _new_operation(journal)
    with pytest.raises(ProjectionError):
        await journal.record(op, [ev.OperationPaused(),
                                  ev.OrderAccepted("LT-unknown-1", "B1")], source="test")
    assert len(await services.journal_store.read(op)) == 1
    orders = await services.store.db["orders"].count_documents({})
    assert orders == 0


async def test_a_retried_entry_is_recognised_by_its_event_id(services) -> None:
    journal = services.journal
    op = await _new_operation(journal)
    [record] = await services.journal_store.read(op)
    duplicate = dataclasses.replace(record, entry_id=str(ObjectId()), sequence_number=2)
    with pytest.raises(DuplicateEventError):
        await services.journal_store.commit([duplicate], {})


async def test_rebuild_reproduces_the_read_models(services) -> None:
    journal = services.journal
    op = await _new_operation(journal)
    await journal.record(op, [ev.OperationPaused("lunch")], source="test")
    db = services.store.db
    before = await db["trading_operations"].find_one({"_id": ObjectId(op)})
    counts = await rebuild_projections(services.journal_store)
    assert counts["trading_operations"] >= 1
    assert await db["trading_operations"].find_one({"_id": ObjectId(op)}) == before
    assert before["status"] == "paused" and before["status_reason"] == "lunch"


async def test_state_from_a_checkpoint_equals_the_full_fold(services) -> None:
    from live_trading.domain.snapshot import state_to_snapshot
    from live_trading.journal.service import CHECKPOINT_EVERY

    journal = services.journal
    op = await _new_operation(journal)
    for _ in range(CHECKPOINT_EVERY // 2 + 3):
        await journal.record(op, [ev.OperationPaused(), ev.OperationResumed()], source="test")
    checkpoint = await services.journal_store.load_checkpoint(op)
    # taken after the append (a batch of 2) that crosses the boundary
    assert checkpoint is not None and checkpoint["last_sequence"] == CHECKPOINT_EVERY + 1
    from_checkpoint = await journal.load_state(op)
    full = await journal.load_state(op, use_checkpoint=False)
    assert from_checkpoint.last_sequence == full.last_sequence == 1 + 2 * (CHECKPOINT_EVERY // 2 + 3)
    assert state_to_snapshot(from_checkpoint) == state_to_snapshot(full)


async def test_a_commit_retried_after_an_ambiguous_failure_is_recorded_once(services) -> None:
    from pymongo.errors import AutoReconnect

    from live_trading.journal.mongo_journal import MongoJournal

    class LosesTheFirstAnswer(MongoJournal):
        failed = False

        async def commit(self, records, changes, checkpoint=None):
            await super().commit(records, changes, checkpoint)
            if not self.failed:
                self.failed = True
                raise AutoReconnect("connection lost after the commit")

    op = await _new_operation(services.journal)
    flaky = JournalService(LosesTheFirstAnswer(services.store))
    [record] = await flaky.record(op, [ev.OperationPaused("retried")], source="test")
    stored = await services.journal_store.read(op)
    assert [r.event_id for r in stored].count(record.event_id) == 1
    assert [r.sequence_number for r in stored] == [1, 2]


async def test_archiving_moves_entries_and_replay_still_works(services) -> None:
    from datetime import timedelta

    from live_trading.domain.snapshot import state_to_snapshot
    from live_trading.domain.values import utc_now
    from live_trading.journal.verify import verify_operation

    journal, store = services.journal, services.journal_store
    op = await _new_operation(journal)
    await journal.record(op, [ev.OperationCloseRequested(), ev.OperationClosed()], source="t")
    before = state_to_snapshot(await journal.load_state(op, use_checkpoint=False))
    moved = await store.archive_entries(op, utc_now() + timedelta(seconds=1))
    assert moved == 3
    assert await store.entries.count_documents({"operation_id": ObjectId(op)}) == 0
    assert await store.archive.count_documents({"operation_id": ObjectId(op)}) == 3
    after = state_to_snapshot(await journal.load_state(op, use_checkpoint=False))
    assert after == before
    assert await verify_operation(store, op) == []
    assert op in await store.operation_ids()


async def test_retention_archives_only_closed_operations(services) -> None:
    from live_trading.engine.recovery import RecoveryService

    journal = services.journal
    open_op, closed_op = await _new_operation(journal), await _new_operation(journal)
    await journal.record(closed_op, [ev.OperationClosed()], source="t")
    recovery = RecoveryService(journal, services.journal_store, services.engine.deps.broker,
                               services.market_data, retention_days=0)
    assert await recovery.archive_closed() == 2
    assert len(await services.journal_store.read(open_op)) == 1
    assert await services.journal_store.entries.count_documents(
        {"operation_id": ObjectId(open_op)}) == 1
