"""Beanie documents: the journal and the read models projected from it.

The journal is append-only. The read models (``trading_operations``,
``orders``, ``transactions``, ``positions``, ``trades``) are written only by
the projector, in the same transaction as the journal append, and can be
dropped and rebuilt from the journal (``live-trading projections rebuild``).
Field names follow the live trading system document; prices are in quote
currency, quantities in units of the base asset, times aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import ConfigDict, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from live_trading.domain.orders import OrderRole, OrderStatus
from live_trading.domain.values import (
    OperationStatus,
    OrderType,
    PositionSide,
    PositionStatus,
    Side,
    TransactionRole,
)


class JournalEntry(Document):
    """One journal entry: an action of one trading operation.

    ``sequence_number`` counts 1, 2, 3... per operation with no gap; a unique
    index on (operation_id, sequence_number) makes a conflicting append fail.
    ``event_id`` (a UUID) is unique, so a retried append is recognised.
    """

    model_config = ConfigDict(extra="allow")

    operation_id: PydanticObjectId
    sequence_number: int
    action_type: str
    action_data: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime
    source: str
    event_id: str
    user: str | None = None

    class Settings:
        name = "journal"
        indexes = [
            IndexModel(
                [("operation_id", ASCENDING), ("sequence_number", ASCENDING)],
                unique=True,
                name="operation_sequence_unique",
            ),
            IndexModel([("timestamp", DESCENDING)], name="timestamp"),
            IndexModel([("event_id", ASCENDING)], unique=True, name="event_id_unique"),
            IndexModel([("action_type", ASCENDING)], name="action_type"),
        ]


class TradingOperation(Document):
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

    class Settings:
        name = "trading_operations"
        indexes = [
            IndexModel([("status", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("asset", ASCENDING)]),
        ]


class Order(Document):
    operation_id: PydanticObjectId
    client_order_id: str
    broker_order_id: str | None = None
    order_role: OrderRole
    order_type: OrderType
    action: Side
    quantity: float
    price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    parent_order_id: PydanticObjectId | None = None
    status: OrderStatus
    filled_quantity: float = 0.0
    avg_fill_price: float | None = None
    commission: float = 0.0
    reason: str | None = None
    placed_at: datetime
    filled_at: datetime | None = None
    cancelled_at: datetime | None = None
    outcome_unknown: bool = False  # in flight, a call's answer lost: see ORDER_OUTCOME_UNKNOWN

    class Settings:
        name = "orders"
        indexes = [
            IndexModel([("operation_id", ASCENDING), ("placed_at", DESCENDING)]),
            IndexModel([("client_order_id", ASCENDING)], unique=True),
            IndexModel([("broker_order_id", ASCENDING)], unique=True, sparse=True),
        ]


class Transaction(Document):
    operation_id: PydanticObjectId
    transaction_type: Side
    transaction_role: TransactionRole
    position_type: PositionSide
    order_id: PydanticObjectId
    execution_id: str
    price: float
    quantity: float
    commission: float
    executed_at: datetime
    profit: float = 0.0
    profit_pct: float = 0.0
    related_entry_transaction_id: PydanticObjectId | None = None
    position_id: PydanticObjectId
    notes: str | None = None

    class Settings:
        name = "transactions"
        indexes = [
            IndexModel([("operation_id", ASCENDING), ("executed_at", DESCENDING)]),
            IndexModel([("operation_id", ASCENDING), ("transaction_type", ASCENDING)]),
            IndexModel([("operation_id", ASCENDING), ("transaction_role", ASCENDING)]),
            IndexModel([("operation_id", ASCENDING), ("position_type", ASCENDING)]),
            IndexModel([("related_entry_transaction_id", ASCENDING)]),
            IndexModel([("execution_id", ASCENDING)], unique=True),
        ]


class Position(Document):
    operation_id: PydanticObjectId
    contract_symbol: str
    position_type: PositionSide
    status: PositionStatus
    quantity: float
    entry_price: float
    current_price: float
    unrealized_pnl: float = 0.0
    unrealized_pnl_pct: float = 0.0
    realized_pnl: float = 0.0
    stop_loss: float | None = None
    take_profit: float | None = None
    opened_at: datetime
    closed_at: datetime | None = None

    class Settings:
        name = "positions"
        indexes = [
            IndexModel([("operation_id", ASCENDING), ("closed_at", ASCENDING)]),
            IndexModel([("operation_id", ASCENDING), ("status", ASCENDING)]),
        ]


class Trade(Document):
    operation_id: PydanticObjectId
    position_id: PydanticObjectId
    position_type: PositionSide
    entry_transaction_id: PydanticObjectId
    exit_transaction_id: PydanticObjectId
    entry_price: float
    exit_price: float
    quantity: float
    gross_pnl: float
    pnl: float
    pnl_pct: float
    total_commission: float
    entry_time: datetime
    exit_time: datetime
    duration_seconds: float
    exit_reason: str | None = None

    class Settings:
        name = "trades"
        indexes = [
            IndexModel([("operation_id", ASCENDING), ("exit_time", DESCENDING)]),
            IndexModel([("operation_id", ASCENDING), ("position_type", ASCENDING)]),
            IndexModel([("entry_transaction_id", ASCENDING)]),
            IndexModel([("exit_transaction_id", ASCENDING)]),
        ]


READ_MODELS: dict[str, type[Document]] = {
    "trading_operations": TradingOperation,
    "orders": Order,
    "transactions": Transaction,
    "positions": Position,
    "trades": Trade,
}
ALL_DOCUMENTS: list[type[Document]] = [JournalEntry, *READ_MODELS.values()]
