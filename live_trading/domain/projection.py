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

Each record is decoded to its event (:func:`.events.decode_as`) and handed
to the handler of its event class; the handlers read the event's typed
fields and write them into the read-model documents under the documents'
own names (an order's ``role`` is its document's ``order_role``, its
``side`` the ``action``, as the stored read models have always named them).
Records of event types without a handler change only the operation's
``last_sequence_number``.

Fills (positions, transactions, trades, P/L) are folded by
:mod:`live_trading.domain.fills`, commissions reported after their fill by
:mod:`live_trading.domain.commission`; the state itself is
:mod:`live_trading.domain.state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import events as ev
from .commission import on_commission_reported
from .fills import on_order_filled
from .orders import OrderStatus
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
from .values import OperationStatus, OrderType

__all__ = [
    "OPERATIONS",
    "ORDERS",
    "POSITIONS",
    "QTY_EPSILON",
    "TRADES",
    "TRANSACTIONS",
    "WORKING",
    "Changes",
    "JournalRecord",
    "OpenPosition",
    "OperationState",
    "ProjectionError",
    "apply",
    "fold",
]


def apply(state: OperationState, record: JournalRecord) -> Changes:
    """Fold ``record`` into ``state`` (mutated) and return the changed documents.

    Raises:
        ProjectionError: the record is not the next in sequence, is not a
            valid event of its type, or cannot be applied (``state`` may then
            be partly updated: discard it).
    """
    if record.sequence_number != state.last_sequence + 1:
        raise ProjectionError(
            f"operation {state.operation_id}: expected sequence "
            f"{state.last_sequence + 1}, got {record.sequence_number}"
        )
    kind = ev.event_type(record.action_type)
    if state.operation is None and kind is not ev.OperationCreated:
        raise ProjectionError(
            f"operation {state.operation_id}: {record.action_type} before OPERATION_CREATED"
        )
    changes: Changes = {}
    if kind is not None and (handler := _HANDLERS.get(kind)) is not None:
        try:
            event = ev.decode_as(kind, record.action_data)
        except ev.EventDecodeError as exc:
            raise ProjectionError(
                f"operation {state.operation_id}, sequence {record.sequence_number}: {exc}"
            ) from None
        handler(state, record, event, changes)
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


def _on_created(
    state: OperationState, record: JournalRecord, event: ev.OperationCreated, changes: Changes
) -> None:
    if state.operation is not None:
        raise ProjectionError(f"operation {state.operation_id} created twice")
    spec = dict(event.spec)
    state.operation = {
        "_id": state.operation_id,
        **spec,
        "status": OperationStatus.ACTIVE,
        "created_at": record.timestamp,
        "updated_at": record.timestamp,
        "closed_at": None,
        "current_capital": spec["initial_capital"],
        "total_pnl": 0.0,
        "total_pnl_pct": 0.0,
        "total_commission": 0.0,
        "trade_count": 0,
        "last_sequence_number": 0,
        "status_reason": None,
    }


def _on_updated(
    state: OperationState, record: JournalRecord, event: ev.OperationUpdated, changes: Changes
) -> None:
    require_operation(state).update(event.changes)


_StatusEvent = (
    ev.OperationPaused
    | ev.OperationResumed
    | ev.OperationCloseRequested
    | ev.OperationClosed
    | ev.OperationFailed
)


_StatusHandler = Callable[[OperationState, JournalRecord, _StatusEvent, Changes], None]


def _status_setter(status: OperationStatus) -> _StatusHandler:
    def handler(
        state: OperationState, record: JournalRecord, event: _StatusEvent, changes: Changes
    ) -> None:
        operation = require_operation(state)
        operation["status"] = status
        operation["status_reason"] = event.reason or None
        if status is OperationStatus.CLOSED:
            operation["closed_at"] = record.timestamp

    return handler


def _on_signal(
    state: OperationState, record: JournalRecord, event: ev.SignalGenerated, changes: Changes
) -> None:
    state.last_bar_time = event.bar["time"]


def _on_data_rejected(
    state: OperationState, record: JournalRecord, event: ev.MarketDataRejected, changes: Changes
) -> None:
    state.rejected_data_files.add(event.file)


def _on_data_stale(
    state: OperationState, record: JournalRecord, event: ev.MarketDataStale, changes: Changes
) -> None:
    state.stale_bar_sizes.add(event.bar_size)


def _on_data_resumed(
    state: OperationState, record: JournalRecord, event: ev.MarketDataResumed, changes: Changes
) -> None:
    state.stale_bar_sizes.discard(event.bar_size)


def _on_risk_rule(
    state: OperationState, record: JournalRecord, event: ev.RiskRuleTriggered, changes: Changes
) -> None:
    if event.rule == "max_daily_loss":
        state.entries_blocked_day = event.day


def _on_order_submitted(
    state: OperationState, record: JournalRecord, event: ev.OrderSubmitted, changes: Changes
) -> None:
    if event.client_order_id in state.orders:
        raise ProjectionError(f"order {event.client_order_id} submitted twice")
    parent = state.orders.get(event.parent_client_order_id or "")
    order = {
        "_id": record.entry_id,
        "operation_id": state.operation_id,
        "client_order_id": event.client_order_id,
        "broker_order_id": None,
        "order_role": event.role,
        "order_type": event.order_type,
        "action": event.side,
        "quantity": event.quantity,
        "price": event.limit_price if event.order_type is OrderType.LIMIT else event.stop_price,
        "stop_loss": event.stop_loss,
        "take_profit": event.take_profit,
        "parent_order_id": parent["_id"] if parent else None,
        "status": OrderStatus.PENDING,
        "filled_quantity": 0.0,
        "avg_fill_price": None,
        "commission": 0.0,
        "reason": event.reason or None,
        "placed_at": record.timestamp,
        "filled_at": None,
        "cancelled_at": None,
        "outcome_unknown": False,
    }
    state.orders[event.client_order_id] = order
    state.working[event.client_order_id] = order
    state.indexed_orders += 1
    put(changes, ORDERS, order)


def _on_order_accepted(
    state: OperationState, record: JournalRecord, event: ev.OrderAccepted, changes: Changes
) -> None:
    order = order_of(state, event.client_order_id)
    order["broker_order_id"] = event.broker_order_id
    if order["status"] == OrderStatus.PENDING:
        order["status"] = OrderStatus.SUBMITTED
    order["outcome_unknown"] = False
    put(changes, ORDERS, order)


def _on_outcome_unknown(
    state: OperationState, record: JournalRecord, event: ev.OrderOutcomeUnknown, changes: Changes
) -> None:
    """The order stays in flight, flagged, until the venue settles it."""
    order = order_of(state, event.client_order_id)
    if order["status"] not in WORKING:
        return
    order["outcome_unknown"] = True
    order["reason"] = f"outcome unknown ({event.call}): {event.detail}"
    put(changes, ORDERS, order)


def _on_order_ended(
    status: OrderStatus,
) -> Callable[[OperationState, JournalRecord, ev.OrderRejected | ev.OrderCancelled, Changes], None]:
    def handler(
        state: OperationState,
        record: JournalRecord,
        event: ev.OrderRejected | ev.OrderCancelled,
        changes: Changes,
    ) -> None:
        order = order_of(state, event.client_order_id)
        if order["status"] == OrderStatus.FILLED:
            return
        order["status"] = status
        order["outcome_unknown"] = False
        state.working.pop(order["client_order_id"], None)
        order["reason"] = event.reason or order["reason"]
        if status is OrderStatus.CANCELLED:
            order["cancelled_at"] = record.timestamp
        put(changes, ORDERS, order)

    return handler


_HANDLERS: dict[type[ev.Event], Callable[[OperationState, JournalRecord, Any, Changes], None]] = {
    ev.OperationCreated: _on_created,
    ev.OperationUpdated: _on_updated,
    ev.OperationPaused: _status_setter(OperationStatus.PAUSED),
    ev.OperationResumed: _status_setter(OperationStatus.ACTIVE),
    ev.OperationCloseRequested: _status_setter(OperationStatus.CLOSING),
    ev.OperationClosed: _status_setter(OperationStatus.CLOSED),
    ev.OperationFailed: _status_setter(OperationStatus.ERROR),
    ev.SignalGenerated: _on_signal,
    ev.MarketDataRejected: _on_data_rejected,
    ev.RiskRuleTriggered: _on_risk_rule,
    ev.MarketDataStale: _on_data_stale,
    ev.MarketDataResumed: _on_data_resumed,
    ev.OrderSubmitted: _on_order_submitted,
    ev.OrderAccepted: _on_order_accepted,
    ev.OrderRejected: _on_order_ended(OrderStatus.REJECTED),
    ev.OrderCancelled: _on_order_ended(OrderStatus.CANCELLED),
    ev.OrderOutcomeUnknown: _on_outcome_unknown,
    ev.OrderFilled: on_order_filled,
    ev.CommissionReported: on_commission_reported,
}
"""The projection's handler of each event class (others change no document)."""
