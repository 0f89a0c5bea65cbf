"""The projection: a pure fold of journal records into read-model documents.

:func:`apply` folds one journal record into an :class:`OperationState` and
returns the read-model documents it changed, keyed by (collection, id). The
same function serves incremental projection (the journal service writes the
changes in the append's transaction) and rebuilds (fold every record, write
the last version of each document), so the two cannot disagree.

Read-model ids are derived from journal entries, never invented here: an
order's id is its ORDER_SUBMITTED entry's id; a transaction's id is its
ORDER_FILLED entry's id; a position's id is its first ENTRY transaction's
id; a trade's id is its EXIT transaction's id.

P/L rules are those of :mod:`live_trading.domain.pnl`. A fill on the side of
the open position (or with none open) is an ENTRY; a fill on the other side
is an EXIT; one larger than the open quantity reverses the position (the
excess opens a new one, as a broker's net position does). Each EXIT makes one
trade, charged
the exit's commission and the entry commission not yet charged, pro rata to
the share of the open quantity it closes (the last exit takes what is left,
so commissions add up exactly, scale-ins included).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .pnl import gross_pnl, pnl_pct
from .values import PositionSide, Side

OPERATIONS = "trading_operations"
ORDERS = "orders"
TRANSACTIONS = "transactions"
POSITIONS = "positions"
TRADES = "trades"

QTY_EPSILON = 1e-9
WORKING = ("PENDING", "SUBMITTED")  # order statuses that can still fill

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
        return abs(self.doc["quantity"])


@dataclass
class OperationState:
    """Everything the projection needs to know about one operation."""

    operation_id: str
    last_sequence: int = 0
    operation: dict[str, Any] | None = None
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: OpenPosition | None = None
    execution_ids: set[str] = field(default_factory=set)
    last_execution_id: str | None = None
    last_bar_time: datetime | None = None
    rejected_data_files: set[str] = field(default_factory=set)
    pnl_day: str | None = None          # UTC day (ISO date) of the last exit
    pnl_today: float = 0.0              # net P/L of exits on ``pnl_day``
    entries_blocked_day: str | None = None  # max_daily_loss fired for this day
    # Index of ``orders``: those still PENDING or SUBMITTED, by client order
    # id in submission order, so finding them costs the working orders, not
    # every order ever placed. :func:`apply` keeps it; it covers the first
    # ``indexed_orders`` orders and is rebuilt when ``orders`` has others
    # (a state built from a snapshot, or edited by hand).
    working: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False,
                                               compare=False)
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


def apply(state: OperationState, record: JournalRecord) -> Changes:
    """Fold ``record`` into ``state`` (mutated) and return the changed documents.

    Raises:
        ProjectionError: the record is not the next in sequence, or cannot be
            applied (``state`` may then be partly updated: discard it).
    """
    if record.sequence_number != state.last_sequence + 1:
        raise ProjectionError(
            f"operation {state.operation_id}: expected sequence "
            f"{state.last_sequence + 1}, got {record.sequence_number}"
        )
    if state.operation is None and record.action_type != "OPERATION_CREATED":
        raise ProjectionError(f"operation {state.operation_id}: {record.action_type} "
                              "before OPERATION_CREATED")
    changes: Changes = {}
    handler = _HANDLERS.get(record.action_type)
    if handler is not None:
        handler(state, record, changes)
    state.last_sequence = record.sequence_number
    if state.operation is not None:
        state.operation["last_sequence_number"] = record.sequence_number
        state.operation["updated_at"] = record.timestamp
        changes[(OPERATIONS, state.operation_id)] = dict(state.operation)
    return changes


def fold(operation_id: str, records: list[JournalRecord]) -> tuple[OperationState, Changes]:
    """Fold all ``records`` (in sequence order) into a new state; return the
    state and the final version of every document they produced."""
    state = OperationState(operation_id)
    documents: Changes = {}
    for record in records:
        documents.update(apply(state, record))
    return state, documents


def _put(changes: Changes, collection: str, doc: dict[str, Any]) -> None:
    changes[(collection, doc["_id"])] = dict(doc)


def _require_operation(state: OperationState) -> dict[str, Any]:
    if state.operation is None:
        raise ProjectionError(f"operation {state.operation_id} was never created")
    return state.operation


def _on_created(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    if state.operation is not None:
        raise ProjectionError(f"operation {state.operation_id} created twice")
    spec = dict(record.action_data["spec"])
    state.operation = {
        "_id": state.operation_id, **spec, "status": "active",
        "created_at": record.timestamp, "updated_at": record.timestamp, "closed_at": None,
        "current_capital": spec["initial_capital"], "total_pnl": 0.0, "total_pnl_pct": 0.0,
        "total_commission": 0.0, "trade_count": 0, "last_sequence_number": 0,
        "status_reason": None,
    }


def _on_updated(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    _require_operation(state).update(record.action_data["changes"])


def _status_setter(status: str) -> Callable[[OperationState, JournalRecord, Changes], None]:
    def handler(state: OperationState, record: JournalRecord, changes: Changes) -> None:
        operation = _require_operation(state)
        operation["status"] = status
        operation["status_reason"] = record.action_data.get("reason") or None
        if status == "closed":
            operation["closed_at"] = record.timestamp

    return handler


def _on_signal(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    state.last_bar_time = record.action_data["bar"]["time"]


def _on_data_rejected(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    state.rejected_data_files.add(record.action_data["file"])


def _on_risk_rule(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    if record.action_data["rule"] == "max_daily_loss":
        state.entries_blocked_day = record.action_data["day"]


def _on_order_submitted(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    data = record.action_data
    if data["client_order_id"] in state.orders:
        raise ProjectionError(f"order {data['client_order_id']} submitted twice")
    parent = state.orders.get(data.get("parent_client_order_id") or "")
    price_field = "limit_price" if data["order_type"] == "LIMIT" else "stop_price"
    order = {
        "_id": record.entry_id, "operation_id": state.operation_id,
        "client_order_id": data["client_order_id"], "broker_order_id": None,
        "order_role": data["role"], "order_type": data["order_type"], "action": data["side"],
        "quantity": data["quantity"],
        "price": data.get(price_field),
        "stop_loss": data.get("stop_loss"), "take_profit": data.get("take_profit"),
        "parent_order_id": parent["_id"] if parent else None, "status": "PENDING",
        "filled_quantity": 0.0, "avg_fill_price": None, "commission": 0.0,
        "reason": data.get("reason") or None, "placed_at": record.timestamp,
        "filled_at": None, "cancelled_at": None,
    }
    state.orders[order["client_order_id"]] = order
    state.working[order["client_order_id"]] = order
    state.indexed_orders += 1
    _put(changes, ORDERS, order)


def _order(state: OperationState, client_order_id: str) -> dict[str, Any]:
    try:
        return state.orders[client_order_id]
    except KeyError:
        raise ProjectionError(f"unknown order {client_order_id}") from None


def _on_order_accepted(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    order = _order(state, record.action_data["client_order_id"])
    order["broker_order_id"] = record.action_data["broker_order_id"]
    if order["status"] == "PENDING":
        order["status"] = "SUBMITTED"
    _put(changes, ORDERS, order)


def _on_order_ended(status: str) -> Callable[[OperationState, JournalRecord, Changes], None]:
    def handler(state: OperationState, record: JournalRecord, changes: Changes) -> None:
        order = _order(state, record.action_data["client_order_id"])
        if order["status"] == "FILLED":
            return
        order["status"] = status
        state.working.pop(order["client_order_id"], None)
        order["reason"] = record.action_data.get("reason") or order["reason"]
        if status == "CANCELLED":
            order["cancelled_at"] = record.timestamp
        _put(changes, ORDERS, order)

    return handler


def _on_order_filled(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    data = record.action_data
    if data["execution_id"] in state.execution_ids:
        raise ProjectionError(f"execution {data['execution_id']} recorded twice")
    order = _order(state, data["client_order_id"])
    _fill_order(order, data)
    if order["status"] not in WORKING:
        state.working.pop(order["client_order_id"], None)
    _put(changes, ORDERS, order)
    state.execution_ids.add(data["execution_id"])
    state.last_execution_id = data["execution_id"]
    side = Side(data["side"])
    position = state.position
    if position is None or side is position.side.entry_side:
        _enter(state, record, order, changes)
    elif data["quantity"] > position.open_quantity * (1 + QTY_EPSILON):
        closing, opening = _split_reversal(record, position.open_quantity)
        _exit(state, closing, order, changes)
        _enter(state, opening, order, changes)
    else:
        _exit(state, record, order, changes)
    operation = _require_operation(state)
    operation["total_commission"] += data["commission"]


def _split_reversal(record: JournalRecord, open_quantity: float
                    ) -> tuple[JournalRecord, JournalRecord]:
    """A fill larger than the open position on its other side reverses it
    (brokers hold net positions): the part that closes the position, and the
    rest, which opens a new one. Commission is split pro rata. The opening
    part's transaction and position ids are derived from the entry's event id
    (deterministic, so a rebuild gives the same ids); its transaction carries
    the execution id suffixed ``#reversal``."""
    data = record.action_data
    share = open_quantity / data["quantity"]
    closing = replace(record, action_data={**data, "quantity": open_quantity,
                                           "commission": data["commission"] * share})
    opening = replace(record, entry_id=uuid.UUID(record.event_id).hex[:24], action_data={
        **data, "quantity": data["quantity"] - open_quantity,
        "commission": data["commission"] * (1 - share),
        "execution_id": f"{data['execution_id']}#reversal"})
    return closing, opening


def _fill_order(order: dict[str, Any], data: Mapping[str, Any]) -> None:
    if data["side"] != order["action"]:
        raise ProjectionError(f"fill {data['execution_id']} is a {data['side']} but order "
                              f"{order['client_order_id']} is a {order['action']}")
    filled = order["filled_quantity"] + data["quantity"]
    if filled > order["quantity"] * (1 + QTY_EPSILON):
        raise ProjectionError(f"fill {data['execution_id']} over-fills order "
                              f"{order['client_order_id']} ({filled} > {order['quantity']})")
    previous = (order["avg_fill_price"] or 0.0) * order["filled_quantity"]
    order["avg_fill_price"] = (previous + data["price"] * data["quantity"]) / filled
    order["filled_quantity"] = filled
    order["commission"] += data["commission"]
    order["broker_order_id"] = order["broker_order_id"] or data["broker_order_id"]
    order["filled_at"] = data["executed_at"]
    if filled >= order["quantity"] * (1 - QTY_EPSILON):
        order["status"] = "FILLED"


def _transaction(state: OperationState, record: JournalRecord, order: dict[str, Any],
                 role: str, side: PositionSide, position_id: str) -> dict[str, Any]:
    data = record.action_data
    return {
        "_id": record.entry_id, "operation_id": state.operation_id,
        "transaction_type": data["side"], "transaction_role": role,
        "position_type": side.value, "order_id": order["_id"],
        "execution_id": data["execution_id"], "price": data["price"],
        "quantity": data["quantity"], "commission": data["commission"],
        "executed_at": data["executed_at"], "profit": 0.0, "profit_pct": 0.0,
        "related_entry_transaction_id": None, "position_id": position_id,
        "notes": order["order_role"],
    }


def _enter(state: OperationState, record: JournalRecord, order: dict[str, Any],
           changes: Changes) -> None:
    data = record.action_data
    side = PositionSide.LONG if Side(data["side"]) is Side.BUY else PositionSide.SHORT
    signed = data["quantity"] if side is PositionSide.LONG else -data["quantity"]
    position = state.position
    if position is None:
        doc = {
            "_id": record.entry_id, "operation_id": state.operation_id,
            "contract_symbol": _require_operation(state)["asset"], "position_type": side.value,
            "status": "OPEN", "quantity": signed, "entry_price": data["price"],
            "current_price": data["price"], "unrealized_pnl": 0.0, "unrealized_pnl_pct": 0.0,
            "realized_pnl": 0.0, "stop_loss": order["stop_loss"],
            "take_profit": order["take_profit"], "opened_at": data["executed_at"],
            "closed_at": None,
        }
        position = OpenPosition(doc, side, record.entry_id, 0.0, 0.0)
        state.position = position
    else:
        old_qty = position.open_quantity
        doc = position.doc
        doc["entry_price"] = (doc["entry_price"] * old_qty + data["price"] * data["quantity"]) / (
            old_qty + data["quantity"])
        doc["quantity"] += signed
        doc["current_price"] = data["price"]
    position.entry_quantity += data["quantity"]
    position.entry_commission += data["commission"]
    _put(changes, TRANSACTIONS, _transaction(state, record, order, "ENTRY", side, doc["_id"]))
    _put(changes, POSITIONS, doc)


def _exit(state: OperationState, record: JournalRecord, order: dict[str, Any],
          changes: Changes) -> None:
    data = record.action_data
    position = state.position
    assert position is not None
    quantity, doc = data["quantity"], position.doc
    if quantity > position.open_quantity * (1 + QTY_EPSILON):
        raise ProjectionError(
            f"fill {data['execution_id']} closes {quantity} but only "
            f"{position.open_quantity} is open"
        )
    closes_all = quantity >= position.open_quantity * (1 - QTY_EPSILON)
    unallocated = position.entry_commission - position.allocated_commission
    entry_share = unallocated if closes_all else unallocated * quantity / position.open_quantity
    position.allocated_commission += entry_share
    commission = entry_share + data["commission"]
    gross = gross_pnl(position.side, doc["entry_price"], data["price"], quantity)
    net = gross - commission
    net_pct = pnl_pct(net, doc["entry_price"], quantity)
    transaction = _transaction(state, record, order, "EXIT", position.side, doc["_id"])
    transaction.update(profit=net, profit_pct=net_pct,
                       related_entry_transaction_id=position.entry_transaction_id)
    _put(changes, TRANSACTIONS, transaction)
    _put(changes, TRADES, _trade(state, record, position, order, gross, net, commission))
    _close_part(state, position, data, quantity, net, closes_all)
    _put(changes, POSITIONS, doc)


def _trade(state: OperationState, record: JournalRecord, position: OpenPosition,
           order: dict[str, Any], gross: float, net: float, commission: float) -> dict[str, Any]:
    data, doc = record.action_data, position.doc
    return {
        "_id": record.entry_id, "operation_id": state.operation_id, "position_id": doc["_id"],
        "position_type": position.side.value,
        "entry_transaction_id": position.entry_transaction_id,
        "exit_transaction_id": record.entry_id, "entry_price": doc["entry_price"],
        "exit_price": data["price"], "quantity": data["quantity"], "gross_pnl": gross,
        "pnl": net, "pnl_pct": pnl_pct(net, doc["entry_price"], data["quantity"]),
        "total_commission": commission, "entry_time": doc["opened_at"],
        "exit_time": data["executed_at"],
        "duration_seconds": (data["executed_at"] - doc["opened_at"]).total_seconds(),
        "exit_reason": "REVERSAL" if order["order_role"] == "ENTRY" else order["order_role"],
    }


def _close_part(state: OperationState, position: OpenPosition, data: Mapping[str, Any],
                quantity: float, net: float, closes_all: bool) -> None:
    doc = position.doc
    doc["realized_pnl"] += net
    doc["current_price"] = data["price"]
    doc["quantity"] += quantity if position.side is PositionSide.SHORT else -quantity
    if closes_all:
        doc.update(quantity=0.0, status="CLOSED", closed_at=data["executed_at"],
                   unrealized_pnl=0.0, unrealized_pnl_pct=0.0)
        state.position = None
    day = data["executed_at"].date().isoformat()
    state.pnl_today = (state.pnl_today if state.pnl_day == day else 0.0) + net
    state.pnl_day = day
    operation = _require_operation(state)
    operation["total_pnl"] += net
    operation["trade_count"] += 1
    operation["current_capital"] = operation["initial_capital"] + operation["total_pnl"]
    operation["total_pnl_pct"] = operation["total_pnl"] / operation["initial_capital"]


_HANDLERS: dict[str, Callable[[OperationState, JournalRecord, Changes], None]] = {
    "OPERATION_CREATED": _on_created,
    "OPERATION_UPDATED": _on_updated,
    "OPERATION_PAUSED": _status_setter("paused"),
    "OPERATION_RESUMED": _status_setter("active"),
    "OPERATION_CLOSE_REQUESTED": _status_setter("closing"),
    "OPERATION_CLOSED": _status_setter("closed"),
    "OPERATION_FAILED": _status_setter("error"),
    "SIGNAL_GENERATED": _on_signal,
    "MARKET_DATA_REJECTED": _on_data_rejected,
    "RISK_RULE_TRIGGERED": _on_risk_rule,
    "ORDER_SUBMITTED": _on_order_submitted,
    "ORDER_ACCEPTED": _on_order_accepted,
    "ORDER_REJECTED": _on_order_ended("REJECTED"),
    "ORDER_CANCELLED": _on_order_ended("CANCELLED"),
    "ORDER_FILLED": _on_order_filled,
}
