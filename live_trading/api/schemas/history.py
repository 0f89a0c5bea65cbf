"""An operation's history: orders, fills, positions, trades, journal, bars.

``OrderOut``, ``TransactionOut``, ``PositionOut`` and ``TradeOut`` are the
read models of :mod:`live_trading.journal.documents` as the API sends them
(same fields, same order, plus ``id``; ids 24-digit hex strings, times
ISO-8601 UTC ``...Z``). Prices in the quote currency, quantities in
base-asset units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pydantic import Field

from live_trading.domain.orders import OrderRole, OrderStatus
from live_trading.domain.values import (
    OrderType,
    PositionSide,
    PositionStatus,
    Side,
    TransactionRole,
)

from .base import IsoTime, OutModel


class OrderOut(OutModel):
    """An order the engine placed, with its status and fills."""

    id: PydanticObjectId
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
    outcome_unknown: bool = False


class TransactionOut(OutModel):
    """One fill: BUY or SELL, ENTRY or EXIT; ``profit`` net (quote currency)
    on exits."""

    id: PydanticObjectId
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


class PositionOut(OutModel):
    """A position; an open one is marked to the last price (``current_price``,
    ``unrealized_pnl`` before commissions). ``quantity`` is positive long,
    negative short, 0 once closed."""

    id: PydanticObjectId
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


class TradeOut(OutModel):
    """A completed round trip; ``pnl`` net of ``total_commission``."""

    id: PydanticObjectId
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


class JournalEntryOut(OutModel):
    """A journal entry (:class:`~live_trading.journal.documents.JournalEntry`):
    ``timestamp`` with its offset (``+00:00``); ``source`` is ``engine``,
    ``worker``, ``api/manual``, ``recovery`` or ``cli/...``; ``user`` who
    asked for it, if anyone."""

    id: str
    operation_id: str
    sequence_number: int
    action_type: str
    action_data: dict[str, Any] = Field(default_factory=dict)
    timestamp: IsoTime
    source: str
    event_id: str
    user: str | None = None


class BarOut(OutModel):
    """One OHLCV bar: ``time`` its open (UTC), prices in the quote currency,
    ``volume`` in base-asset units (0 where the source has none)."""

    time: IsoTime
    open: float
    high: float
    low: float
    close: float
    volume: float
