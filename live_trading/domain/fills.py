"""Folding a fill (ORDER_FILLED) into positions, transactions and trades.

A fill on the side of the open position (or with none open) is an ENTRY; a
fill on the other side is an EXIT; one larger than the open quantity
reverses the position (the excess opens a new one, as a broker's net
position does). Each EXIT makes one trade, charged the exit's commission and
the entry commission not yet charged, pro rata to the share of the open
quantity it closes (the last exit takes what is left, so commissions add up
exactly, scale-ins included).

Each fill's parts (the transaction, and the trade of an exit) are remembered
in ``state.fills`` / ``state.recent_docs`` for the last
:data:`~.state.RECENT_FILLS` fills, so that a commission reported later
(:mod:`.commission`) can correct them.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from .events import OrderFilled
from .orders import OrderRole, OrderStatus
from .pnl import gross_pnl, pnl_pct
from .state import (
    ORDERS,
    POSITIONS,
    QTY_EPSILON,
    RECENT_FILLS,
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
from .values import PositionSide, PositionStatus, Side, TransactionRole


def doc_key(collection: str, doc_id: str) -> str:
    """The key of a document in ``state.recent_docs``."""
    return f"{collection}:{doc_id}"


def on_order_filled(
    state: OperationState, record: JournalRecord, fill: OrderFilled, changes: Changes
) -> None:
    """Fold the fill ``fill`` (journaled as ``record``) into its order, the
    position, transactions and trades.

    Raises:
        ProjectionError: the execution was recorded before, the order is
            unknown, on the other side, or would be over-filled.
    """
    if fill.execution_id in state.execution_ids:
        raise ProjectionError(f"execution {fill.execution_id} recorded twice")
    order = order_of(state, fill.client_order_id)
    _fill_order(order, fill)
    if order["status"] not in WORKING:
        state.working.pop(order["client_order_id"], None)
    put(changes, ORDERS, order)
    state.execution_ids.add(fill.execution_id)
    state.last_execution_id = fill.execution_id
    _start_fill(state, fill)
    position = state.position
    if position is None or fill.side is position.side.entry_side:
        _enter(state, record.entry_id, fill, order, changes)
    elif fill.quantity > position.open_quantity * (1 + QTY_EPSILON):
        (closing_id, closing), (opening_id, opening) = _split_reversal(
            record, fill, position.open_quantity
        )
        _exit(state, closing_id, closing, order, changes)
        _enter(state, opening_id, opening, order, changes)
    else:
        _exit(state, record.entry_id, fill, order, changes)
    operation = require_operation(state)
    operation["total_commission"] += fill.commission


def _start_fill(state: OperationState, fill: OrderFilled) -> None:
    """Remember the fill (its parts are added by _enter/_exit); forget the
    oldest beyond RECENT_FILLS, with the documents no other fill refers to."""
    state.fills[fill.execution_id] = {
        "commission": fill.commission,
        "quantity": fill.quantity,
        "client_order_id": fill.client_order_id,
        "parts": [],
    }
    while len(state.fills) > RECENT_FILLS:
        _, oldest = state.fills.popitem(last=False)  # an OrderedDict: O(1)
        # a position's fills are consecutive: the next fill is the only one
        # that may still refer to the oldest's position
        after = next(iter(state.fills.values()))["parts"]
        for part in oldest["parts"]:
            state.recent_docs.pop(doc_key(TRANSACTIONS, part["transaction"]), None)
            if part["trade"]:
                state.recent_docs.pop(doc_key(TRADES, part["trade"]), None)
            if all(p["position"] != part["position"] for p in after):
                state.recent_docs.pop(doc_key(POSITIONS, part["position"]), None)


def _remember_part(
    state: OperationState,
    fill: OrderFilled,
    role: TransactionRole,
    transaction: dict[str, Any],
    trade: dict[str, Any] | None,
) -> None:
    remembered = state.fills.get(fill.execution_id.removesuffix("#reversal"))
    if remembered is None:
        return
    remembered["parts"].append(
        {
            "role": role,
            "quantity": fill.quantity,
            "transaction": transaction["_id"],
            "trade": trade["_id"] if trade else None,
            "position": transaction["position_id"],
        }
    )
    state.recent_docs[doc_key(TRANSACTIONS, transaction["_id"])] = transaction
    if trade is not None:
        state.recent_docs[doc_key(TRADES, trade["_id"])] = trade


def _split_reversal(
    record: JournalRecord, fill: OrderFilled, open_quantity: float
) -> tuple[tuple[str, OrderFilled], tuple[str, OrderFilled]]:
    """A fill larger than the open position on its other side reverses it
    (brokers hold net positions): the part that closes the position, and the
    rest, which opens a new one. Commission is split pro rata. The opening
    part's transaction and position ids are derived from the entry's event id
    (deterministic, so a rebuild gives the same ids); its transaction carries
    the execution id suffixed ``#reversal``. Returns (entry id, fill) of the
    closing part, then of the opening part."""
    share = open_quantity / fill.quantity
    closing = replace(fill, quantity=open_quantity, commission=fill.commission * share)
    opening = replace(
        fill,
        quantity=fill.quantity - open_quantity,
        commission=fill.commission * (1 - share),
        execution_id=f"{fill.execution_id}#reversal",
    )
    return (record.entry_id, closing), (uuid.UUID(record.event_id).hex[:24], opening)


def _fill_order(order: dict[str, Any], fill: OrderFilled) -> None:
    if fill.side != order["action"]:
        raise ProjectionError(
            f"fill {fill.execution_id} is a {fill.side} but order "
            f"{order['client_order_id']} is a {order['action']}"
        )
    filled = order["filled_quantity"] + fill.quantity
    if filled > order["quantity"] * (1 + QTY_EPSILON):
        raise ProjectionError(
            f"fill {fill.execution_id} over-fills order "
            f"{order['client_order_id']} ({filled} > {order['quantity']})"
        )
    previous = (order["avg_fill_price"] or 0.0) * order["filled_quantity"]
    order["avg_fill_price"] = (previous + fill.price * fill.quantity) / filled
    order["filled_quantity"] = filled
    order["commission"] += fill.commission
    order["broker_order_id"] = order["broker_order_id"] or fill.broker_order_id
    order["filled_at"] = fill.executed_at
    order["outcome_unknown"] = False
    if filled >= order["quantity"] * (1 - QTY_EPSILON):
        order["status"] = OrderStatus.FILLED


def _transaction(
    state: OperationState,
    entry_id: str,
    fill: OrderFilled,
    order: dict[str, Any],
    role: TransactionRole,
    side: PositionSide,
    position_id: str,
) -> dict[str, Any]:
    return {
        "_id": entry_id,
        "operation_id": state.operation_id,
        "transaction_type": fill.side,
        "transaction_role": role,
        "position_type": side,
        "order_id": order["_id"],
        "execution_id": fill.execution_id,
        "price": fill.price,
        "quantity": fill.quantity,
        "commission": fill.commission,
        "executed_at": fill.executed_at,
        "profit": 0.0,
        "profit_pct": 0.0,
        "related_entry_transaction_id": None,
        "position_id": position_id,
        "notes": order["order_role"],
    }


def _enter(
    state: OperationState, entry_id: str, fill: OrderFilled, order: dict[str, Any], changes: Changes
) -> None:
    side = PositionSide.LONG if fill.side is Side.BUY else PositionSide.SHORT
    signed = fill.quantity if side is PositionSide.LONG else -fill.quantity
    position = state.position
    if position is None:
        doc = {
            "_id": entry_id,
            "operation_id": state.operation_id,
            "contract_symbol": require_operation(state)["asset"],
            "position_type": side,
            "status": PositionStatus.OPEN,
            "quantity": signed,
            "entry_price": fill.price,
            "current_price": fill.price,
            "unrealized_pnl": 0.0,
            "unrealized_pnl_pct": 0.0,
            "realized_pnl": 0.0,
            "stop_loss": order["stop_loss"],
            "take_profit": order["take_profit"],
            "opened_at": fill.executed_at,
            "closed_at": None,
        }
        position = OpenPosition(doc, side, entry_id, 0.0, 0.0)
        state.position = position
    else:
        old_qty = position.open_quantity
        doc = position.doc
        doc["entry_price"] = (doc["entry_price"] * old_qty + fill.price * fill.quantity) / (
            old_qty + fill.quantity
        )
        doc["quantity"] += signed
        doc["current_price"] = fill.price
    position.entry_quantity += fill.quantity
    position.entry_commission += fill.commission
    transaction = _transaction(
        state, entry_id, fill, order, TransactionRole.ENTRY, side, doc["_id"]
    )
    _remember_part(state, fill, TransactionRole.ENTRY, transaction, None)
    put(changes, TRANSACTIONS, transaction)
    put(changes, POSITIONS, doc)


def _exit(
    state: OperationState, entry_id: str, fill: OrderFilled, order: dict[str, Any], changes: Changes
) -> None:
    position = state.position
    assert position is not None
    quantity, doc = fill.quantity, position.doc
    if quantity > position.open_quantity * (1 + QTY_EPSILON):
        raise ProjectionError(
            f"fill {fill.execution_id} closes {quantity} but only {position.open_quantity} is open"
        )
    closes_all = quantity >= position.open_quantity * (1 - QTY_EPSILON)
    unallocated = position.entry_commission - position.allocated_commission
    entry_share = unallocated if closes_all else unallocated * quantity / position.open_quantity
    position.allocated_commission += entry_share
    commission = entry_share + fill.commission
    gross = gross_pnl(position.side, doc["entry_price"], fill.price, quantity)
    net = gross - commission
    net_pct = pnl_pct(net, doc["entry_price"], quantity)
    transaction = _transaction(
        state, entry_id, fill, order, TransactionRole.EXIT, position.side, doc["_id"]
    )
    transaction.update(
        profit=net, profit_pct=net_pct, related_entry_transaction_id=position.entry_transaction_id
    )
    trade = _trade(state, entry_id, fill, position, order, gross, net, commission)
    _remember_part(state, fill, TransactionRole.EXIT, transaction, trade)
    put(changes, TRANSACTIONS, transaction)
    put(changes, TRADES, trade)
    _close_part(state, position, fill, quantity, net, closes_all)
    put(changes, POSITIONS, doc)


def _trade(
    state: OperationState,
    entry_id: str,
    fill: OrderFilled,
    position: OpenPosition,
    order: dict[str, Any],
    gross: float,
    net: float,
    commission: float,
) -> dict[str, Any]:
    doc = position.doc
    return {
        "_id": entry_id,
        "operation_id": state.operation_id,
        "position_id": doc["_id"],
        "position_type": position.side,
        "entry_transaction_id": position.entry_transaction_id,
        "exit_transaction_id": entry_id,
        "entry_price": doc["entry_price"],
        "exit_price": fill.price,
        "quantity": fill.quantity,
        "gross_pnl": gross,
        "pnl": net,
        "pnl_pct": pnl_pct(net, doc["entry_price"], fill.quantity),
        "total_commission": commission,
        "entry_time": doc["opened_at"],
        "exit_time": fill.executed_at,
        "duration_seconds": (fill.executed_at - doc["opened_at"]).total_seconds(),
        "exit_reason": (
            "REVERSAL" if order["order_role"] == OrderRole.ENTRY else order["order_role"]
        ),
    }


def _close_part(
    state: OperationState,
    position: OpenPosition,
    fill: OrderFilled,
    quantity: float,
    net: float,
    closes_all: bool,
) -> None:
    doc = position.doc
    doc["realized_pnl"] += net
    doc["current_price"] = fill.price
    doc["quantity"] += quantity if position.side is PositionSide.SHORT else -quantity
    if closes_all:
        doc.update(
            quantity=0.0,
            status=PositionStatus.CLOSED,
            closed_at=fill.executed_at,
            unrealized_pnl=0.0,
            unrealized_pnl_pct=0.0,
        )
        state.position = None
        state.recent_docs[doc_key(POSITIONS, doc["_id"])] = doc
    day = fill.executed_at.date().isoformat()
    state.pnl_today = (state.pnl_today if state.pnl_day == day else 0.0) + net
    state.pnl_day = day
    operation = require_operation(state)
    operation["trade_count"] += 1
    book_net(state, net)


def book_net(state: OperationState, net: float) -> None:
    """Add ``net`` (quote currency) to the operation's closed P/L."""
    operation = require_operation(state)
    operation["total_pnl"] += net
    operation["current_capital"] = operation["initial_capital"] + operation["total_pnl"]
    operation["total_pnl_pct"] = operation["total_pnl"] / operation["initial_capital"]
