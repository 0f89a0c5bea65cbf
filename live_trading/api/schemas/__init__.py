"""Response models of the API: what each route answers (``*Out``).

One module per resource. The read-model answers (operations, orders,
transactions, positions, trades) mirror :mod:`live_trading.journal.documents`
field for field (checked by ``tests/unit/test_api_schemas.py``); the
OpenAPI schema built from these models is what the dashboard's types are
generated from (``frontend/openapi.json`` → ``frontend/src/api/schema.d.ts``).
"""

from .brokers import BrokerConfigOut
from .history import BarOut, JournalEntryOut, OrderOut, PositionOut, TradeOut, TransactionOut
from .operations import OperationStatsOut, OverallStatsOut, TradeStatsOut, TradingOperationOut
from .strategies import ParamSchemaOut, ParamsSchemaOut, StrategyOut
from .system import (
    BrokerHealthOut,
    CallStatsOut,
    CycleOperationOut,
    CycleOut,
    EngineHealthOut,
    HealthOut,
    HistoryCacheOut,
    KillSwitchOperationOut,
    KillSwitchOut,
    KillSwitchProgressOut,
    MetricsOut,
    ModeOut,
    PositionClosingOut,
    RecoveryReportOut,
    StoreHealthOut,
    WorkerFailureOut,
    WorkerStatusOut,
)
from .trade_log import ChartMarkerOut, StopSegmentOut, TradeLogOut, TradeLogTradeOut
from .users import MeOut, TokenOut, UserOut

__all__ = [
    "BarOut",
    "BrokerConfigOut",
    "BrokerHealthOut",
    "CallStatsOut",
    "ChartMarkerOut",
    "CycleOperationOut",
    "CycleOut",
    "EngineHealthOut",
    "HealthOut",
    "HistoryCacheOut",
    "JournalEntryOut",
    "KillSwitchOperationOut",
    "KillSwitchOut",
    "KillSwitchProgressOut",
    "MeOut",
    "MetricsOut",
    "ModeOut",
    "OperationStatsOut",
    "OrderOut",
    "OverallStatsOut",
    "ParamSchemaOut",
    "ParamsSchemaOut",
    "PositionClosingOut",
    "PositionOut",
    "RecoveryReportOut",
    "StopSegmentOut",
    "StoreHealthOut",
    "StrategyOut",
    "TokenOut",
    "TradeLogOut",
    "TradeLogTradeOut",
    "TradeOut",
    "TradeStatsOut",
    "TradingOperationOut",
    "TransactionOut",
    "UserOut",
    "WorkerFailureOut",
    "WorkerStatusOut",
]
