"""The engine's :class:`~live_trading.engine.read_models.ReadModels` port:
over the store (Beanie documents, :class:`StoredReadModels`) and over a
:class:`~.memory_journal.MemoryJournal` (backtests, :class:`MemoryReadModels`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from beanie.operators import In
from bson import ObjectId

from live_trading.domain.projection import OPERATIONS, POSITIONS
from live_trading.store.mongo import Store

from .documents import Position, TradingOperation
from .memory_journal import MemoryJournal

OPEN = "OPEN"  # a position's status while it is open


@dataclass(frozen=True)
class PositionRef:
    """A position as the engine needs it (ids as 24-hex strings)."""

    position_id: str
    operation_id: str
    is_open: bool


class StoredReadModels:
    """Read models in the store; recovery reports in ``reports_collection``."""

    def __init__(self, store: Store, reports_collection: str) -> None:
        self.store = store
        self.reports_collection = reports_collection

    async def operation_ids(self, statuses: Collection[str]) -> list[str]:
        operations = await TradingOperation.find(
            In(TradingOperation.status, list(statuses))
        ).to_list()
        return [str(operation.id) for operation in operations]

    async def position(self, position_id: str) -> PositionRef | None:
        position = await Position.get(position_id)
        if position is None:
            return None
        return PositionRef(str(position.id), str(position.operation_id), position.status == OPEN)

    async def projected_sequence(self, operation_id: str) -> int | None:
        doc = await self.store.db[OPERATIONS].find_one(
            {"_id": ObjectId(operation_id)}, {"last_sequence_number": 1}
        )
        return None if doc is None else doc.get("last_sequence_number")

    async def save_recovery_report(self, report: dict[str, Any]) -> None:
        await self.store.db[self.reports_collection].insert_one(dict(report))


class MemoryReadModels:
    """Read models of a :class:`MemoryJournal`; recovery reports in :attr:`reports`."""

    def __init__(self, journal: MemoryJournal) -> None:
        self.journal = journal
        self.reports: list[dict[str, Any]] = []

    async def operation_ids(self, statuses: Collection[str]) -> list[str]:
        return [
            doc_id
            for doc_id, doc in self.journal.read_models[OPERATIONS].items()
            if doc.get("status") in statuses
        ]

    async def position(self, position_id: str) -> PositionRef | None:
        doc = self.journal.document(POSITIONS, position_id)
        if doc is None:
            return None
        return PositionRef(position_id, str(doc["operation_id"]), doc.get("status") == OPEN)

    async def projected_sequence(self, operation_id: str) -> int | None:
        doc = self.journal.document(OPERATIONS, operation_id)
        return None if doc is None else doc.get("last_sequence_number")

    async def save_recovery_report(self, report: dict[str, Any]) -> None:
        self.reports.append(dict(report))
