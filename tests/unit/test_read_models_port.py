"""The engine's read-models port over a MemoryJournal (backtest mode): the
operations by status, a position by id, the read models' progress, reports."""

from __future__ import annotations

from bson import ObjectId

from live_trading.domain.projection import OPERATIONS, POSITIONS
from live_trading.journal.memory_journal import MemoryJournal
from live_trading.journal.read_models import MemoryReadModels


async def read_models() -> tuple[MemoryReadModels, list[str]]:
    journal = MemoryJournal()
    ids = [str(ObjectId()) for _ in range(4)]
    await journal.write_documents(
        {
            (OPERATIONS, ids[0]): {"status": "active", "last_sequence_number": 7},
            (OPERATIONS, ids[1]): {"status": "closed", "last_sequence_number": 2},
            (POSITIONS, ids[2]): {"operation_id": ObjectId(ids[0]), "status": "OPEN"},
            (POSITIONS, ids[3]): {"operation_id": ObjectId(ids[1]), "status": "CLOSED"},
        }
    )
    return MemoryReadModels(journal), ids


async def test_operations_are_found_by_status() -> None:
    models, ids = await read_models()
    assert await models.operation_ids(("active", "paused")) == [ids[0]]
    assert sorted(await models.operation_ids(("active", "closed"))) == sorted(ids[:2])
    assert await models.operation_ids(("error",)) == []


async def test_a_position_names_its_operation_and_whether_it_is_open() -> None:
    models, ids = await read_models()
    open_position, closed_position = await models.position(ids[2]), await models.position(ids[3])
    assert (open_position.position_id, open_position.operation_id, open_position.is_open) == (
        ids[2],
        ids[0],
        True,
    )
    assert (closed_position.operation_id, closed_position.is_open) == (ids[1], False)
    assert await models.position(str(ObjectId())) is None


async def test_the_projected_sequence_and_the_reports() -> None:
    models, ids = await read_models()
    assert await models.projected_sequence(ids[0]) == 7
    assert await models.projected_sequence(str(ObjectId())) is None
    report = {"dry_run": False, "operations": []}
    await models.save_recovery_report(report)
    assert models.reports == [report] and models.reports[0] is not report
