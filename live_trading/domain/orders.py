"""Order requests and execution reports exchanged with a broker.

These are the project's own types: broker adapters translate to and from
them, so no broker object travels past an adapter. Prices in quote currency,
quantities in units of the base asset (always positive; direction in
``side``), times aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .values import OrderType, Side


class OrderRole(StrEnum):
    """Why an order exists within its operation."""

    ENTRY = "ENTRY"
    EXIT = "EXIT"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"


class OrderStatus(StrEnum):
    """Where an order is in its life: PENDING and SUBMITTED can still fill."""

    PENDING = "PENDING"  # intent journaled, broker not yet acknowledged
    SUBMITTED = "SUBMITTED"  # acknowledged by the broker, working
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as the engine asks a broker to work it.

    Attributes:
        client_order_id: our id, unique across the system; brokers echo it
            back on every report (IB: ``orderRef``; OANDA: client extension id).
        account: the broker account or sub-account the order belongs to (the
            paper broker keeps one sub-account per operation).
        asset: ``"USD-CAD"``.
        side: BUY or SELL.
        quantity: units of the base asset, > 0.
        order_type: MARKET, LIMIT or STOP.
        limit_price: for LIMIT orders, quote currency.
        stop_price: for STOP orders, quote currency.
        parent_client_order_id: set on bracket children (stop-loss,
            take-profit): the child starts working only once the parent has
            filled.
        oco_group: orders sharing a group are one-cancels-other: a fill of
            one cancels the rest.
    """

    client_order_id: str
    account: str
    asset: str
    side: Side
    quantity: float
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    parent_client_order_id: str | None = None
    oco_group: str | None = None


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The broker's answer to a submission."""

    client_order_id: str
    broker_order_id: str | None
    accepted: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Execution:
    """A fill reported by a broker.

    ``execution_id`` is the broker's id of this fill, unique per broker: a fill
    seen twice (by a retry, a reconnect or reconciliation) is recorded once.
    ``commission`` is in quote currency.
    """

    execution_id: str
    client_order_id: str
    broker_order_id: str
    account: str
    asset: str
    side: Side
    quantity: float
    price: float
    commission: float
    time: datetime


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """A broker's report that a working order ended without (further) fills."""

    client_order_id: str
    broker_order_id: str | None
    reason: str
    time: datetime


@dataclass(frozen=True, slots=True)
class CommissionReport:
    """The commission of a fill, reported after the fill itself (IB sends its
    ``commissionReport`` after ``execDetails``, sometimes seconds later or
    not at all). It *sets* the commission of ``execution_id`` (quote currency),
    so the same report seen twice changes nothing. A fill is never held back
    waiting for it."""

    execution_id: str
    client_order_id: str
    commission: float
    time: datetime


class CancelOutcome(StrEnum):
    """What became of a cancel request."""

    REQUESTED = "REQUESTED"  # the venue has the cancel; an OrderCancelled report follows
    NOT_FOUND = "NOT_FOUND"  # the venue has no such order (open or completed)
    ALREADY_DONE = "ALREADY_DONE"  # the order had already filled or been cancelled


@dataclass(frozen=True, slots=True)
class CancelAck:
    """The broker's answer to a cancel: never a silent no-op."""

    client_order_id: str
    outcome: CancelOutcome
    reason: str = ""


BrokerReport = Execution | OrderCancelled | CommissionReport
