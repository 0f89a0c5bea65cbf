"""What the projection knows about one operation: :class:`OperationState`.

The fold (:mod:`.projection`) reads journal records into it; fills
(:mod:`.fills`) and commissions (:mod:`.commission`) update it. Read-model
ids are derived from journal entries (see :mod:`.projection`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .events import Event, decode
from .orders import OrderStatus
from .values import PositionSide

OPERATIONS = "trading_operations"
ORDERS = "orders"
TRANSACTIONS = "transactions"
POSITIONS = "positions"
TRADES = "trades"

QTY_EPSILON = 1e-9
WORKING = (OrderStatus.PENDING, OrderStatus.SUBMITTED)  # order statuses that can still fill
RECENT_FILLS = 256  # fills whose documents are kept, for late commission reports

Changes = dict[tuple[str, str], dict[str, Any]]


class ProjectionError(ValueError):
    """A record cannot be folded: out of sequence, unknown order, over-fill."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """A journal entry as the domain sees it (ids are 24-hex strings)."""

    entry_id: str
    operation_id: str
    sequence_number: int
    action_type: str
    action_data: Mapping[str, Any]
    timestamp: datetime
    source: str
    event_id: str
    user: str | None = None

    @property
    def event(self) -> Event:
        """The event this entry holds (:func:`.events.decode`: enum fields as
        members). Decoded at each access.

        Raises:
            EventDecodeError: the entry is not a valid event of its type.
        """
        return decode(self.action_type, self.action_data)


@dataclass
class OpenPosition:
    doc: dict[str, Any]
    side: PositionSide
    entry_transaction_id: str
    entry_quantity: float
    entry_commission: float
    allocated_commission: float = 0.0

    @property
    def open_quantity(self) -> float:
        return abs(float(self.doc["quantity"]))


@dataclass
class OperationState:
    """Everything the projection needs to know about one operation.

    ``fills`` (execution id -> ``{"commission", "parts"}``, the last
    :data:`RECENT_FILLS` fills, oldest first) and ``recent_docs``
    (``"<collection>:<id>"`` -> the transaction, trade and closed position
    documents those fills made) let a commission reported after its fill
    (:mod:`.commission`) correct what the fill produced."""

    operation_id: str
    last_sequence: int = 0
    operation: dict[str, Any] | None = None
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: OpenPosition | None = None
    execution_ids: set[str] = field(default_factory=set)
    last_execution_id: str | None = None
    last_bar_time: datetime | None = None
    rejected_data_files: set[str] = field(default_factory=set)
    pnl_day: str | None = None  # UTC day (ISO date) of the last exit
    pnl_today: float = 0.0  # net P/L of exits on ``pnl_day``
    entries_blocked_day: str | None = None  # max_daily_loss fired for this day
    stale_bar_sizes: set[str] = field(default_factory=set)  # MARKET_DATA_STALE, not resumed
    fills: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    recent_docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Index of ``orders``: those still PENDING or SUBMITTED, by client order
    # id in submission order, so finding them costs the working orders, not
    # every order ever placed. :func:`apply` keeps it; it covers the first
    # ``indexed_orders`` orders and is rebuilt when ``orders`` has others
    # (a state built from a snapshot, or edited by hand).
    working: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    indexed_orders: int = field(default=0, repr=False, compare=False)

    @property
    def status(self) -> str | None:
        return self.operation["status"] if self.operation else None

    def working_orders(self) -> list[dict[str, Any]]:
        """Orders not yet filled, cancelled or rejected, in submission order."""
        if self.indexed_orders != len(self.orders):
            self.working = {c: o for c, o in self.orders.items() if o["status"] in WORKING}
            self.indexed_orders = len(self.orders)
        return [o for o in self.working.values() if o["status"] in WORKING]


def put(changes: Changes, collection: str, doc: dict[str, Any]) -> None:
    changes[(collection, doc["_id"])] = dict(doc)


def require_operation(state: OperationState) -> dict[str, Any]:
    if state.operation is None:
        raise ProjectionError(f"operation {state.operation_id} was never created")
    return state.operation


def order_of(state: OperationState, client_order_id: str) -> dict[str, Any]:
    try:
        return state.orders[client_order_id]
    except KeyError:
        raise ProjectionError(f"unknown order {client_order_id}") from None
