"""Ports for what the engine keeps outside the journal: the read models it
queries, the stored bars and the journal's persistence (for recovery).

The engine depends on these Protocols only; the composition roots wire the
implementations: :mod:`live_trading.journal.read_models` (over the store, and
in process memory for backtests), :class:`~live_trading.store.market_data.MarketDataStore`
and :class:`~live_trading.store.memory_market_data.MemoryMarketData`,
:class:`~live_trading.journal.mongo_journal.MongoJournal` and
:class:`~live_trading.journal.memory_journal.MemoryJournal`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol

from live_trading.domain.projection import Changes, JournalRecord
from live_trading.domain.values import Asset, Bar, BarSize


class PositionRef(Protocol):
    """A position as the engine needs it: ids as 24-hex strings."""

    @property
    def position_id(self) -> str: ...

    @property
    def operation_id(self) -> str: ...

    @property
    def is_open(self) -> bool: ...


class ReadModels(Protocol):
    """Queries on the read models, and where recovery leaves its reports."""

    async def operation_ids(self, statuses: Collection[str]) -> list[str]:
        """Ids of the operations whose status is one of ``statuses``."""
        ...

    async def position(self, position_id: str) -> PositionRef | None:
        """The position with this id (24 hex digits), or None."""
        ...

    async def projected_sequence(self, operation_id: str) -> int | None:
        """The last journal sequence number the operation's read models
        reflect (None when the operation has no read model)."""
        ...

    async def save_recovery_report(self, report: dict[str, Any]) -> None:
        """Keep a recovery run's report (``report`` is not modified)."""
        ...


class BarStore(Protocol):
    """The closed bars each operation has seen (prices in quote currency)."""

    async def save_many(
        self,
        operation_id: str,
        asset: Asset,
        bar_size: BarSize,
        bars: list[Bar] | list[tuple[Bar, dict[str, float]]],
    ) -> None:
        """Store (or overwrite) bars, with indicator values when given as pairs."""
        ...

    async def last_bars(self, operation_id: str, bar_size: BarSize, limit: int) -> list[Bar]:
        """The latest ``limit`` bars of the operation, oldest first."""
        ...

    async def trim(self, operation_id: str, bar_size: BarSize, keep: int) -> int:
        """Delete all but the latest ``keep`` bars; return how many were deleted."""
        ...


class JournalStore(Protocol):
    """The journal's persistence as recovery uses it."""

    async def operation_ids(self) -> list[str]:
        """Ids of every operation with journal entries (archived ones too)."""
        ...

    async def read(
        self, operation_id: str, after_sequence: int = 0, limit: int | None = None
    ) -> list[JournalRecord]:
        """Entries of one operation with sequence > ``after_sequence``, in order."""
        ...

    async def write_documents(self, changes: Changes) -> None:
        """Upsert read-model documents (whole-document replace)."""
        ...

    async def archive_entries(self, operation_id: str, before: datetime) -> int:
        """Move the operation's entries older than ``before`` to the archive;
        return how many moved."""
        ...
