"""The journal's contract, for both journal adapters: MongoJournal against
the real wire-protocol server, and MemoryJournal (backtest mode). Each test
runs once per adapter (``journal`` fixture, ids ``mongo`` and ``memory``)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from bson import ObjectId

from live_trading.domain import events as ev
from live_trading.domain.projection import ProjectionError
from live_trading.journal.memory_journal import MemoryJournal
from live_trading.journal.mongo_journal import (
    DuplicateEventError,
    JournalConflictError,
    MongoJournal,
)
from live_trading.journal.service import JournalService, rebuild_projections

SPEC = {
    "asset": "USD-CAD",
    "bar_sizes": ["1 hour"],
    "primary_bar_size": "1 hour",
    "strategy_name": "MomentumStrategy",
    "strategy_config": {},
    "stop_loss_type": "ATR",
    "stop_loss_value": 1.5,
    "take_profit_type": "RISK_REWARD",
    "take_profit_value": 2.0,
    "crash_recovery_mode": "CLOSE_ALL",
    "emergency_stop_loss_pct": 0.05,
    "data_retention_bars": 1000,
    "quantity": 10000.0,
    "initial_capital": 100000.0,
    "broker": "PAPER",
}


@dataclass
class Journal:
    """One journal adapter under test, its service, and what a test asks of
    the store behind it (as that adapter's store answers it)."""

    service: JournalService
    store: Any  # MongoJournal | MemoryJournal

    @property
    def memory(self) -> bool:
        return isinstance(self.store, MemoryJournal)

    async def read_model(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        if self.memory:
            return self.store.document(collection, doc_id)
        return await self.store.store.db[collection].find_one({"_id": ObjectId(doc_id)})

    async def count_read_models(self, collection: str) -> int:
        if self.memory:
            return len(self.store.documents(collection))
        return await self.store.store.db[collection].count_documents({})

    async def count_entries(self, operation_id: str, *, archived: bool = False) -> int:
        if self.memory:
            return self.store.count_entries(operation_id, archived=archived)
        collection = self.store.archive if archived else self.store.entries
        return await collection.count_documents({"operation_id": ObjectId(operation_id)})

    def losing_first_answer(self) -> Any:
        """The same journal, but the first commit's answer is lost after the
        commit succeeded (an ambiguous failure)."""
        from pymongo.errors import AutoReconnect

        base = MemoryJournal if self.memory else MongoJournal

        class LosesTheFirstAnswer(base):  # type: ignore[misc, valid-type]
            failed = False

            async def commit(self, records, changes, checkpoint=None):
                await super().commit(records, changes, checkpoint)
                if not self.failed:
                    self.failed = True
                    raise AutoReconnect("connection lost after the commit")

        if not self.memory:
            return LosesTheFirstAnswer(self.store.store)
        flaky = LosesTheFirstAnswer()
        flaky.__dict__.update(self.store.__dict__)  # the same entries, not a copy
        return flaky


@pytest.fixture(params=["mongo", "memory"])
async def journal(request: pytest.FixtureRequest) -> AsyncIterator[Journal]:
    if request.param == "memory":
        store = MemoryJournal()
        yield Journal(JournalService(store), store)
        return
    from live_trading.bootstrap import open_services
    from tests.conftest import make_settings

    services = await open_services(make_settings(request.getfixturevalue("mongo_url")))
    yield Journal(services.journal, services.journal_store)
    await services.engine.stop()
    await services.store.client.close()


async def _new_operation(journal: JournalService) -> str:
    op = str(ObjectId())
    await journal.record(op, [ev.OperationCreated(SPEC)], source="test", new_operation=True)
    return op


async def test_sequence_numbers_are_gapless_per_operation(journal: Journal) -> None:
    service, store = journal.service, journal.store
    a, b = await _new_operation(service), await _new_operation(service)
    await service.record(a, [ev.OperationPaused(), ev.OperationResumed()], source="test")
    await service.record(b, [ev.OperationPaused()], source="test")
    assert [r.sequence_number for r in await store.read(a)] == [1, 2, 3]
    assert [r.sequence_number for r in await store.read(b)] == [1, 2]


async def test_conflicting_append_from_another_writer_is_rejected(journal: Journal) -> None:
    service, store = journal.service, journal.store
    op = await _new_operation(service)
    other = JournalService(store)  # a second process's view
    await other.state(op)
    await service.record(op, [ev.OperationPaused()], source="test")
    with pytest.raises(JournalConflictError):
        await other.record(op, [ev.OperationPaused()], source="test")
    records = await store.read(op)
    assert [r.action_type for r in records] == ["OPERATION_CREATED", "OPERATION_PAUSED"]
    # after the conflict the stale writer reloads and can append again
    await other.record(op, [ev.OperationResumed()], source="test")
    assert (await store.read(op))[-1].sequence_number == 3


async def test_append_with_a_stale_expected_sequence_writes_nothing(journal: Journal) -> None:
    service = journal.service
    op = await _new_operation(service)
    await service.record(op, [ev.OperationPaused()], source="test", expected_sequence=1)
    with pytest.raises(JournalConflictError):
        await service.record(op, [ev.OperationResumed()], source="test", expected_sequence=1)
    assert len(await journal.store.read(op)) == 2


async def test_creating_an_existing_operation_conflicts(journal: Journal) -> None:
    service = journal.service
    op = await _new_operation(service)
    service.forget(op)
    with pytest.raises(JournalConflictError):
        await service.record(op, [ev.OperationCreated(SPEC)], source="test", new_operation=True)


async def test_an_event_that_cannot_be_projected_writes_nothing(journal: Journal) -> None:
    service = journal.service
    op = await _new_operation(service)
    with pytest.raises(ProjectionError):
        await service.record(
            op, [ev.OperationPaused(), ev.OrderAccepted("LT-unknown-1", "B1")], source="test"
        )
    assert len(await journal.store.read(op)) == 1
    assert await journal.count_read_models("orders") == 0


async def test_a_retried_entry_is_recognised_by_its_event_id(journal: Journal) -> None:
    op = await _new_operation(journal.service)
    [record] = await journal.store.read(op)
    duplicate = dataclasses.replace(record, entry_id=str(ObjectId()), sequence_number=2)
    with pytest.raises(DuplicateEventError):
        await journal.store.commit([duplicate], {})


async def test_an_append_with_one_taken_sequence_number_writes_none_of_it(journal: Journal) -> None:
    service, store = journal.service, journal.store
    op = await _new_operation(service)
    [paused] = await service.record(op, [ev.OperationPaused("first")], source="test")
    fresh = [
        dataclasses.replace(
            paused, entry_id=str(ObjectId()), event_id=f"{op}-{n}", sequence_number=n
        )
        for n in (3, 2)
    ]  # 2 is taken
    with pytest.raises(JournalConflictError):
        await store.commit(fresh, {})
    assert [r.sequence_number for r in await store.read(op)] == [1, 2]
    assert await store.find_events([r.event_id for r in fresh]) == []


async def test_what_a_reader_changes_does_not_change_the_journal(journal: Journal) -> None:
    service, store = journal.service, journal.store
    op = await _new_operation(service)
    [record] = await store.read(op)
    record.action_data["spec"]["quantity"] = -1.0
    record.action_data["spec"]["bar_sizes"].append("1 day")
    [again] = await store.read(op)
    assert again.action_data["spec"] == SPEC
    document = await journal.read_model("trading_operations", op)
    assert document is not None
    document["status"] = "closed"
    assert (await journal.read_model("trading_operations", op))["status"] == "active"


async def test_rebuild_reproduces_the_read_models(journal: Journal) -> None:
    service = journal.service
    op = await _new_operation(service)
    await service.record(op, [ev.OperationPaused("lunch")], source="test")
    before = await journal.read_model("trading_operations", op)
    counts = await rebuild_projections(journal.store)
    assert counts["trading_operations"] >= 1
    assert await journal.read_model("trading_operations", op) == before
    assert before["status"] == "paused" and before["status_reason"] == "lunch"


async def test_rebuild_repairs_and_removes_what_the_journal_does_not_hold(journal: Journal) -> None:
    """A rebuild writes the fold: a tampered document is restored, a document
    the fold does not produce and an unknown operation's documents are gone."""
    service = journal.service
    op = await _new_operation(service)
    await service.record(op, [ev.OperationPaused("lunch")], source="test")
    before = await journal.read_model("trading_operations", op)
    orphan, stray = str(ObjectId()), str(ObjectId())
    as_written = {k: (str(v) if isinstance(v, ObjectId) else v) for k, v in before.items()}
    await journal.store.write_documents(
        {
            ("trading_operations", op): {**as_written, "status": "closed"},
            ("trading_operations", orphan): {**as_written, "_id": orphan},
            ("positions", stray): {"_id": stray, "operation_id": op, "status": "OPEN"},
        }
    )
    assert (await journal.read_model("trading_operations", op))["status"] == "closed"
    await rebuild_projections(journal.store)
    assert await journal.read_model("trading_operations", op) == before
    assert await journal.read_model("trading_operations", orphan) is None
    assert await journal.read_model("positions", stray) is None
    assert await journal.count_read_models("trading_operations") == 1


async def test_state_from_a_checkpoint_equals_the_full_fold(journal: Journal) -> None:
    from live_trading.domain.snapshot import state_to_snapshot
    from live_trading.journal.service import CHECKPOINT_EVERY

    service = journal.service
    op = await _new_operation(service)
    for _ in range(CHECKPOINT_EVERY // 2 + 3):
        await service.record(op, [ev.OperationPaused(), ev.OperationResumed()], source="test")
    checkpoint = await journal.store.load_checkpoint(op)
    # taken after the append (a batch of 2) that crosses the boundary
    assert checkpoint is not None and checkpoint["last_sequence"] == CHECKPOINT_EVERY + 1
    from_checkpoint = await service.load_state(op)
    full = await service.load_state(op, use_checkpoint=False)
    assert (
        from_checkpoint.last_sequence == full.last_sequence == 1 + 2 * (CHECKPOINT_EVERY // 2 + 3)
    )
    assert state_to_snapshot(from_checkpoint) == state_to_snapshot(full)


async def test_a_commit_retried_after_an_ambiguous_failure_is_recorded_once(
    journal: Journal,
) -> None:
    op = await _new_operation(journal.service)
    flaky = JournalService(journal.losing_first_answer())
    [record] = await flaky.record(op, [ev.OperationPaused("retried")], source="test")
    stored = await journal.store.read(op)
    assert [r.event_id for r in stored].count(record.event_id) == 1
    assert [r.sequence_number for r in stored] == [1, 2]


async def test_archiving_moves_entries_and_replay_still_works(journal: Journal) -> None:
    from datetime import timedelta

    from live_trading.domain.snapshot import state_to_snapshot
    from live_trading.domain.values import utc_now
    from live_trading.journal.verify import verify_operation

    service, store = journal.service, journal.store
    op = await _new_operation(service)
    await service.record(op, [ev.OperationCloseRequested(), ev.OperationClosed()], source="t")
    before = state_to_snapshot(await service.load_state(op, use_checkpoint=False))
    moved = await store.archive_entries(op, utc_now() + timedelta(seconds=1))
    assert moved == 3
    assert await journal.count_entries(op) == 0
    assert await journal.count_entries(op, archived=True) == 3
    after = state_to_snapshot(await service.load_state(op, use_checkpoint=False))
    assert after == before
    if not journal.memory:  # verify reads the store's collections
        assert await verify_operation(store, op) == []
    assert [r.sequence_number for r in await store.read(op)] == [1, 2, 3]
    assert op in await store.operation_ids()


async def test_retention_archives_only_closed_operations(journal: Journal) -> None:
    from live_trading.engine.recovery import RecoveryService

    service = journal.service
    open_op, closed_op = await _new_operation(service), await _new_operation(service)
    await service.record(closed_op, [ev.OperationClosed()], source="t")
    await asyncio.sleep(0.005)  # entry times are in ms: let the cutoff pass them
    recovery = RecoveryService(
        service, journal.store, None, None, retention_days=0, read_models=None
    )  # archiving reads no read model
    assert await recovery.archive_closed() == 2
    assert len(await journal.store.read(open_op)) == 1
    assert await journal.count_entries(open_op) == 1
