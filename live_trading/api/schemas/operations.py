"""Trading operations and their statistics.

``TradingOperationOut`` is the ``trading_operations`` read model
(:class:`~live_trading.journal.documents.TradingOperation`) as the API sends
it: the same fields in the same order, plus ``id``; ids are 24-digit hex
strings, times ISO-8601 UTC (``...Z``), prices and amounts in the quote
currency, quantities in base-asset units. ``tests/unit/test_api_schemas.py``
checks the models against the read models, field by field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pydantic import Field

from live_trading.domain.values import OperationStatus

from .base import OutModel


class TradingOperationOut(OutModel):
    """A trading operation: its spec, status and running P/L."""

    id: PydanticObjectId
    asset: str
    bar_sizes: list[str]
    primary_bar_size: str
    strategy_name: str
    strategy_config: dict[str, Any] = Field(default_factory=dict)
    status: OperationStatus
    stop_loss_type: str
    stop_loss_value: float
    take_profit_type: str
    take_profit_value: float
    crash_recovery_mode: str
    emergency_stop_loss_pct: float
    data_retention_bars: int
    quantity: float
    max_daily_loss: float | None = None
    broker: str = "PAPER"
    live_account: bool = False
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    initial_capital: float
    current_capital: float
    total_pnl: float = 0.0
    total_pnl_pct: float = 0.0
    total_commission: float = 0.0
    trade_count: int = 0
    last_sequence_number: int = 0
    status_reason: str | None = None


class TradeStatsOut(OutModel):
    """Statistics of closed trades (see :mod:`live_trading.domain.stats`):
    amounts net of commissions in the quote currency; ``max_drawdown``
    positive; ``profit_factor`` None without a losing trade."""

    trade_count: int
    winning_trades: int
    losing_trades: int
    win_rate: float
    total_pnl: float
    gross_profit: float
    gross_loss: float
    profit_factor: float | None
    average_win: float
    average_loss: float
    largest_win: float
    largest_loss: float
    max_drawdown: float
    total_commission: float


class OperationStatsOut(TradeStatsOut):
    """One operation's trade statistics, its open positions' unrealized P/L
    (marked to the last price) and its capital."""

    operation_id: str
    status: OperationStatus
    asset: str
    unrealized_pnl: float
    open_positions: int
    initial_capital: float
    current_capital: float
    total_pnl_pct: float


class OverallStatsOut(TradeStatsOut):
    """Statistics across every operation; ``operations_by_status`` counts
    operations per status (statuses with none are left out)."""

    realized_pnl: float
    unrealized_pnl: float
    operations: int
    operations_by_status: dict[str, int]
