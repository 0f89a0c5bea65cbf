"""Backtest mode: the same engine with its journal kept in memory.

:func:`open_backtest_services` wires the engine exactly as
:func:`~live_trading.bootstrap.open_services` does (runner, order manager,
journal service and projection fold, paper broker fill model, strategies)
but keeps the journal (:class:`~.journal.memory_journal.MemoryJournal`), the
stored bars (:class:`~.store.memory_market_data.MemoryMarketData`) and the
paper broker's book (its own state only:
:class:`~.brokers.paper.memory_store.VolatilePaperStore`) in process memory,
so no bar and no journal append makes a store round trip. Every guarantee
the journal gives within a process holds (write-ahead
intents, gapless sequence numbers, projections equal to a rebuild); none
survives the process, which is what a backtest wants.

Market data comes from bars given up front (``bars``: the primary and any
higher bar size, oldest first) or, without them, from the replay files of
``REPLAY_DATA_DIR`` as fast as possible.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from live_trading.bootstrap import paper_config, replay_source_factory
from live_trading.brokers.paper import PaperBroker
from live_trading.brokers.paper.memory_store import VolatilePaperStore
from live_trading.config import Settings
from live_trading.data.alignment import TimeframeAligner, close_time
from live_trading.domain.values import Asset, Bar, BarSize
from live_trading.engine.runner import RunnerDeps, SourceFactory
from live_trading.engine.specs import OperationCreate
from live_trading.engine.trading_engine import TradingEngine
from live_trading.journal.memory_journal import MemoryJournal
from live_trading.journal.read_models import MemoryReadModels
from live_trading.journal.service import JournalService
from live_trading.store.memory_market_data import MemoryMarketData

YIELD_EVERY_BARS = 1024  # let other tasks run this often (bars are not paced)


class MemoryBarSource:
    """An operation's bars from lists already in memory: the
    :class:`~.engine.ports.MarketSource` of backtest mode. Higher bar sizes
    are released once closed, before the primary bar that closes with or
    after them (as :class:`~.data.sources.ReplaySource` does); ``after``
    gives, per bar size, the last bar already processed."""

    def __init__(
        self,
        bars: dict[BarSize, list[Bar]],
        primary: BarSize,
        higher: list[BarSize],
        after: dict[BarSize, datetime | None],
    ) -> None:
        self.bars, self.primary, self.higher, self.after = bars, primary, higher, after
        self.rejected: dict[str, list] = {}

    def _fresh(self, size: BarSize) -> list[Bar]:
        after = self.after.get(size)
        bars = self.bars.get(size, [])
        return bars if after is None else [b for b in bars if b.time > after]

    async def events(self) -> AsyncIterator[tuple[BarSize, Bar]]:
        primary = self.primary
        aligner = (
            TimeframeAligner({s: self._fresh(s) for s in self.higher}) if self.higher else None
        )
        for count, bar in enumerate(self._fresh(primary), start=1):
            if aligner is not None:
                for event in aligner.due(close_time(bar, primary)):
                    yield event
            yield primary, bar
            if count % YIELD_EVERY_BARS == 0:
                await asyncio.sleep(0)


def memory_source_factory(bars: dict[BarSize, list[Bar]]) -> SourceFactory:
    """Market data for each operation from ``bars`` (by bar size; one asset)."""

    def factory(
        asset: Asset, primary: BarSize, higher: list[BarSize], after: dict[BarSize, datetime | None]
    ) -> MemoryBarSource:
        return MemoryBarSource(bars, primary, higher, after)

    return factory


@dataclass
class BacktestServices:
    """The engine of backtest mode and what it writes to."""

    settings: Settings
    journal_store: MemoryJournal
    journal: JournalService
    market_data: MemoryMarketData
    broker: PaperBroker
    engine: TradingEngine

    async def start(self) -> None:
        """Connect the paper broker (nothing to recover: memory starts empty)."""
        await self.broker.connect()

    async def run(self, body: OperationCreate, *, source: str = "backtest") -> str:
        """Create an operation, replay all its bars and return its id.

        Raises:
            InvalidSpecError: a field of ``body`` is invalid.
        """
        operation_id = await self.engine.create_operation(body, source=source)
        await self.engine.wait_idle()
        return operation_id

    def trades(self, operation_id: str) -> list[dict[str, Any]]:
        """The operation's closed trades (read-model documents), by exit time."""
        trades = self.journal_store.documents("trades", operation_id=operation_id)
        return sorted(trades, key=lambda t: (t["exit_time"], t["_id"]))

    async def close(self) -> None:
        await self.engine.stop()


def open_backtest_services(
    settings: Settings, *, bars: dict[BarSize, list[Bar]] | None = None
) -> BacktestServices:
    """Build the engine of backtest mode (not started: see
    :meth:`BacktestServices.start`). ``bars``: the market data by bar size
    (None: the replay files of ``REPLAY_DATA_DIR``, unpaced)."""
    journal_store = MemoryJournal()
    journal = JournalService(journal_store)
    market_data = MemoryMarketData()
    broker = PaperBroker(paper_config(settings), store=VolatilePaperStore())
    if bars is not None:
        sources = memory_source_factory(bars)
    else:
        sources = replay_source_factory(settings.model_copy(update={"replay_speed": 0.0}))
    deps = RunnerDeps(
        journal=journal,
        market_data=market_data,
        broker=broker,
        market=broker,
        source_factory=sources,
        max_position_size=settings.risk_management.max_position_size,
    )
    engine = TradingEngine(deps, settings, read_models=MemoryReadModels(journal_store))
    engine.uses_replay = bars is None
    return BacktestServices(settings, journal_store, journal, market_data, broker, engine)
