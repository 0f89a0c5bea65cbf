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

Fills (positions, transactions, trades, P/L) are folded by
:mod:`live_trading.domain.fills`, commissions reported after their fill by
:mod:`live_trading.domain.commission`; the state itself is
:mod:`live_trading.domain.state`.
"""

from __future__ import annotations

from collections.abc import Callable

from .commission import on_commission_reported
from .fills import on_order_filled
from .state import (
    OPERATIONS,
    ORDERS,
    POSITIONS,
    QTY_EPSILON,
    TRADES,
    TRANSACTIONS,
    WORKING,
    Changes,
    JournalRecord,
    OpenPosition,
    OperationState,
    ProjectionError,
    order_of,
    put,
    require_operation,
)

__all__ = ["OPERATIONS", "ORDERS", "POSITIONS", "QTY_EPSILON", "TRADES", "TRANSACTIONS",
           "WORKING", "Changes", "JournalRecord", "OpenPosition", "OperationState",
           "ProjectionError", "apply", "fold"]


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
    require_operation(state).update(record.action_data["changes"])


def _status_setter(status: str) -> Callable[[OperationState, JournalRecord, Changes], None]:
    def handler(state: OperationState, record: JournalRecord, changes: Changes) -> None:
        operation = require_operation(state)
        operation["status"] = status
        operation["status_reason"] = record.action_data.get("reason") or None
        if status == "closed":
            operation["closed_at"] = record.timestamp

    return handler


def _on_signal(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    state.last_bar_time = record.action_data["bar"]["time"]


def _on_data_rejected(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    state.rejected_data_files.add(record.action_data["file"])


def _on_data_stale(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    state.stale_bar_sizes.add(record.action_data["bar_size"])


def _on_data_resumed(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    state.stale_bar_sizes.discard(record.action_data["bar_size"])


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
        "filled_at": None, "cancelled_at": None, "outcome_unknown": False,
    }
    state.orders[order["client_order_id"]] = order
    state.working[order["client_order_id"]] = order
    state.indexed_orders += 1
    put(changes, ORDERS, order)


def _on_order_accepted(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    order = order_of(state, record.action_data["client_order_id"])
    order["broker_order_id"] = record.action_data["broker_order_id"]
    if order["status"] == "PENDING":
        order["status"] = "SUBMITTED"
    order["outcome_unknown"] = False
    put(changes, ORDERS, order)


def _on_outcome_unknown(state: OperationState, record: JournalRecord,
                        changes: Changes) -> None:
    """The order stays in flight, flagged, until the venue settles it."""
    data = record.action_data
    order = order_of(state, data["client_order_id"])
    if order["status"] not in WORKING:
        return
    order["outcome_unknown"] = True
    order["reason"] = f"outcome unknown ({data['call']}): {data['detail']}"
    put(changes, ORDERS, order)


def _on_order_ended(status: str) -> Callable[[OperationState, JournalRecord, Changes], None]:
    def handler(state: OperationState, record: JournalRecord, changes: Changes) -> None:
        order = order_of(state, record.action_data["client_order_id"])
        if order["status"] == "FILLED":
            return
        order["status"] = status
        order["outcome_unknown"] = False
        state.working.pop(order["client_order_id"], None)
        order["reason"] = record.action_data.get("reason") or order["reason"]
        if status == "CANCELLED":
            order["cancelled_at"] = record.timestamp
        put(changes, ORDERS, order)

    return handler


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
    "MARKET_DATA_STALE": _on_data_stale,
    "MARKET_DATA_RESUMED": _on_data_resumed,
    "ORDER_SUBMITTED": _on_order_submitted,
    "ORDER_ACCEPTED": _on_order_accepted,
    "ORDER_REJECTED": _on_order_ended("REJECTED"),
    "ORDER_CANCELLED": _on_order_ended("CANCELLED"),
    "ORDER_OUTCOME_UNKNOWN": _on_outcome_unknown,
    "ORDER_FILLED": on_order_filled,
    "COMMISSION_REPORTED": on_commission_reported,
}
