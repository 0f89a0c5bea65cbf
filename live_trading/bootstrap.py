"""Composition root: the only module that wires adapters to the core.

:func:`open_services` opens the store, builds the journal service, the broker
and the engine for the given settings; the API's lifespan and the CLI both
use it, so they run the exact same object graph.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from live_trading.brokers.configs import BrokerConfig
from live_trading.brokers.metrics import BrokerMetrics, MeteredBroker
from live_trading.brokers.paper import (
    GroupCommitPaperStore,
    MongoPaperStore,
    PaperBroker,
    PaperBrokerConfig,
)
from live_trading.config import BrokerType, Settings
from live_trading.data.live_source import BrokerBarSource
from live_trading.data.replay_history import ReplayHistory
from live_trading.data.sources import ReplaySource
from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.values import Asset, BarSize
from live_trading.engine.cycle import TradingCycles
from live_trading.engine.monitor import EngineMonitor
from live_trading.engine.ports import MarketSource
from live_trading.engine.recovery import REPORTS, RecoveryService
from live_trading.engine.runner import RunnerDeps
from live_trading.engine.trading_engine import TradingEngine
from live_trading.engine.worker import TradingWorker
from live_trading.journal.documents import ALL_DOCUMENTS
from live_trading.journal.mongo_journal import MongoJournal
from live_trading.journal.read_models import StoredReadModels
from live_trading.journal.service import JournalService
from live_trading.observability.metrics import PrometheusMetrics
from live_trading.security.users import User
from live_trading.store.history_cache import HistoryCache
from live_trading.store.market_data import MarketDataStore
from live_trading.store.mongo import Store, open_store
from live_trading.tradelog.service import TradeLogService

log = logging.getLogger("live_trading")

# Every Beanie document the application stores: the read models, the broker
# configurations and the users (open_store initialises Beanie with them).
DOCUMENT_MODELS = (*ALL_DOCUMENTS, BrokerConfig, User)


@dataclass
class Services:
    settings: Settings
    store: Store
    journal_store: MongoJournal
    journal: JournalService
    market_data: MarketDataStore
    engine: TradingEngine
    recovery: RecoveryService
    broker_metrics: BrokerMetrics
    history: HistoryCache
    last_recovery: dict | None = None
    worker: Any = None  # the scheduled trading worker (live_trading.engine.worker)
    data_broker: Any = None  # the broker streaming bars, when not replay files
    metrics: PrometheusMetrics | None = None  # the /metrics series (observability)
    trade_log: TradeLogService | None = None  # the trade log projection (files in trading mode)

    @property
    def mode(self) -> str:
        return self.settings.mode

    async def start(self, *, recover: bool = True) -> None:
        """Connect the broker, run start-up recovery, then start the runners."""
        if recover:
            await self.store.abort_orphaned_transactions()
        await self.engine.deps.broker.connect()
        if self.data_broker is not None and self.data_broker is not self.engine.deps.broker:
            await self.data_broker.connect()
        if self.trade_log is not None:
            await self.trade_log.start()  # catch up with the journal before anything appends
        if recover:
            self.last_recovery = await self.recovery.run()
        await self.engine.start()
        self.engine.start_monitor()

    async def close(self) -> None:
        await self.engine.stop()
        if self.data_broker is not None and self.data_broker is not self.engine.deps.broker:
            await self.data_broker.disconnect()
        await self.store.close()


def build_broker(settings: Settings, store: Store):
    """The broker adapter for ``BROKER_TYPE``.

    PAPER keeps its own durable state in the database
    ``<MONGODB_DB_NAME>_paper_broker``, apart from the journal, as a real
    broker would. IBKR connects to TWS / IB Gateway (``IBKR_HOST``,
    ``IBKR_PORT`` 7497 paper / 7496 live, ``IBKR_CLIENT_ID``); OANDA to the v20
    API (``OANDA_ACCOUNT_ID``, ``OANDA_API_KEY``, ``OANDA_ENVIRONMENT``).

    Raises:
        SystemExit: the broker's settings are incomplete.
    """
    if settings.broker_type is BrokerType.IBKR:
        from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig

        return IBKRBroker(
            IBKRConfig(
                host=settings.ibkr_host,
                port=settings.ibkr_port,
                client_id=settings.ibkr_client_id,
                account=settings.ibkr_account,
                connect_timeout_s=settings.ibkr_connect_timeout_seconds,
                request_timeout_s=settings.ibkr_request_timeout_seconds,
                submit_ack_timeout_s=settings.ibkr_request_timeout_seconds,
            )
        )
    if settings.broker_type is BrokerType.OANDA:
        return _oanda(settings)
    return _paper(settings, store, f"{settings.mongodb_db_name}_paper_broker")


def build_simulator(settings: Settings, store: Store):
    """The simulator of ``simulation`` mode: the paper broker's fill model
    with its own state (``<MONGODB_DB_NAME>_simulation``), named ``simulation``."""
    simulator = _paper(settings, store, f"{settings.mongodb_db_name}_simulation")
    simulator.name = "simulation"
    return simulator


def paper_config(settings: Settings) -> PaperBrokerConfig:
    """The paper broker's fill and cost model from ``settings.paper_broker``."""
    paper = settings.paper_broker
    instruments = {
        asset: InstrumentSpec(asset, i.tick_size, i.lot_size, i.min_quantity)
        for asset, i in paper.instruments.items()
    }
    return PaperBrokerConfig(
        half_spread_bps=paper.half_spread_bps,
        slippage_bps=paper.slippage_bps,
        commission_bps=paper.commission_bps,
        commission_minimum=paper.commission_minimum,
        tick_size=paper.tick_size,
        jpy_tick_size=paper.jpy_tick_size,
        lot_size=paper.lot_size,
        min_quantity=paper.min_quantity,
        instruments=instruments,
    )


def _paper(settings: Settings, store: Store, database: str):
    durable = GroupCommitPaperStore(MongoPaperStore(store.client, database))
    return PaperBroker(paper_config(settings), store=durable)


def _oanda(settings: Settings):
    from live_trading.brokers.oanda import OANDABroker, OANDAConfig, OANDAEnvironment

    if not settings.oanda_api_key or not settings.oanda_account_id:
        raise SystemExit("BROKER_TYPE=OANDA needs OANDA_API_KEY and OANDA_ACCOUNT_ID")
    return OANDABroker(
        OANDAConfig(
            account_id=settings.oanda_account_id,
            api_key=settings.oanda_api_key.get_secret_value(),
            environment=OANDAEnvironment(settings.oanda_environment),
            timeout_s=settings.oanda_timeout_seconds,
            base_url=settings.oanda_base_url or None,
            stream_url=settings.oanda_stream_url or None,
        )
    )


def broker_source_factory(broker):
    """Market data for each operation from the broker's live bar stream."""

    def factory(
        asset: Asset, primary: BarSize, higher: list[BarSize], after: dict[BarSize, datetime | None]
    ) -> MarketSource:
        return BrokerBarSource(broker, asset, primary, higher, after)

    return factory


def replay_source_factory(settings: Settings):
    """Market data for each operation: the replay files of REPLAY_DATA_DIR,
    as bars or as ticks (REPLAY_MODE), at REPLAY_SPEED primary bars a second."""
    directory = settings.resolved_replay_dir()

    def factory(
        asset: Asset, primary: BarSize, higher: list[BarSize], after: dict[BarSize, datetime | None]
    ) -> MarketSource:
        return ReplaySource(
            directory,
            asset,
            primary,
            higher,
            speed=settings.replay_speed,
            mode=settings.replay_mode,
            after=after,
        )

    return factory


async def open_services(
    settings: Settings, *, sync_on_commit: bool = True, broker=None, market=None
) -> Services:
    """Open the store and build every service (the engine is not started).

    ``broker`` and ``market`` replace the adapters ``BROKER_TYPE`` would
    build (tests run the engine through fake venues this way); with a
    broker given and no market, nothing simulates fills."""
    store = await open_store(
        settings.mongodb_url,
        settings.mongodb_db_name,
        settings.data_dir,
        document_models=DOCUMENT_MODELS,
        sync_on_commit=sync_on_commit,
        orphan_grace_s=settings.embedded_orphan_grace_seconds,
    )
    journal_store = MongoJournal(store)
    await journal_store.ensure_indexes()
    journal = JournalService(journal_store)
    market_data = MarketDataStore(store)
    broker_metrics = BrokerMetrics()
    broker, market, data_broker = _venues(settings, store, broker_metrics, broker, market)
    sources = (
        broker_source_factory(data_broker)
        if data_broker is not None
        else replay_source_factory(settings)
    )
    history = HistoryCache(
        store,
        data_broker if data_broker is not None else ReplayHistory(settings.resolved_replay_dir()),
        data_broker.name if data_broker is not None else "replay",
    )
    deps = RunnerDeps(
        journal=journal,
        market_data=market_data,
        broker=broker,
        market=market,
        source_factory=sources,
        max_position_size=settings.risk_management.max_position_size,
    )
    read_models = StoredReadModels(store, REPORTS)
    engine = TradingEngine(deps, settings, read_models=read_models)
    recovery = RecoveryService(
        journal,
        journal_store,
        broker,
        market_data,
        settings.logging.journal_retention_days,
        read_models=read_models,
    )
    engine.reconciler = recovery.reconcile
    engine.monitor = EngineMonitor(
        engine,
        recovery,
        reconcile_seconds=60 * settings.reconciliation_interval_minutes,
        grace_seconds=settings.market_data_stale_grace_seconds,
        check_seconds=settings.engine_check_interval_seconds,
    )
    deps.request_reconcile = engine.monitor.request
    engine.uses_replay = data_broker is None
    if hasattr(broker.inner, "on_connection_event"):
        broker.inner.on_connection_event = engine.on_connection_event
    services = Services(
        settings,
        store,
        journal_store,
        journal,
        market_data,
        engine,
        recovery,
        broker_metrics,
        history,
    )
    services.data_broker = data_broker
    services.trade_log = TradeLogService(settings, journal, journal_store)
    cycles = TradingCycles(
        engine,
        quotes_from_broker=data_broker is not None,
        max_position_size=settings.risk_management.max_position_size,
        concurrency=settings.kill_switch_concurrency,
    )
    services.worker = TradingWorker(
        cycles,
        enabled=settings.trading_worker_enabled,
        interval_seconds=settings.trading_worker_interval_seconds,
    )
    _observe(services)
    return services


def _observe(services: Services) -> None:
    """Feed the Prometheus metrics from the journal, broker and worker hooks."""
    metrics = services.metrics = PrometheusMetrics()
    services.journal.on_append = metrics.observe_journal_append
    services.broker_metrics.on_call = metrics.observe_broker_call
    services.broker_metrics.on_timeout = metrics.observe_broker_timeout
    if services.worker is not None:
        services.worker.observer = metrics.observe_cycle


def _venues(settings: Settings, store: Store, metrics: BrokerMetrics, broker, market):
    """(the broker orders go to, the simulated market that fills them or
    None, the broker whose bars feed the engine or None for replay files).

    In ``simulation`` mode orders never reach a broker: they go to the
    built-in simulator (the paper broker's matching, state in
    ``<MONGODB_DB_NAME>_simulation``); with ``MARKET_DATA_SOURCE=broker`` the
    configured broker still streams the bars."""
    if broker is not None:  # tests: a given venue
        wrapped = MeteredBroker(broker, metrics)
        return wrapped, market, wrapped if settings.market_data_source == "broker" else None
    if settings.mode == "simulation":
        simulator = MeteredBroker(build_simulator(settings, store), metrics)
        data = None
        if settings.market_data_source == "broker" and settings.broker_type is not BrokerType.PAPER:
            data = MeteredBroker(build_broker(settings, store), metrics)
        return simulator, simulator, data
    real = MeteredBroker(build_broker(settings, store), metrics)
    simulated = settings.broker_type is BrokerType.PAPER
    from_broker = settings.market_data_source == "broker" or (
        settings.market_data_source is None and not simulated
    )
    return real, real if simulated else None, real if from_broker else None
