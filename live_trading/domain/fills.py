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
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

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
from .values import PositionSide, Side


def doc_key(collection: str, doc_id: str) -> str:
    """The key of a document in ``state.recent_docs``."""
    return f"{collection}:{doc_id}"


def on_order_filled(state: OperationState, record: JournalRecord, changes: Changes) -> None:
    data = record.action_data
    if data["execution_id"] in state.execution_ids:
        raise ProjectionError(f"execution {data['execution_id']} recorded twice")
    order = order_of(state, data["client_order_id"])
    _fill_order(order, data)
    if order["status"] not in WORKING:
        state.working.pop(order["client_order_id"], None)
    put(changes, ORDERS, order)
    state.execution_ids.add(data["execution_id"])
    state.last_execution_id = data["execution_id"]
    _start_fill(state, data)
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
    operation = require_operation(state)
    operation["total_commission"] += data["commission"]


def _start_fill(state: OperationState, data: Mapping[str, Any]) -> None:
    """Remember the fill (its parts are added by _enter/_exit); forget the
    oldest beyond RECENT_FILLS, with the documents no other fill refers to."""
    state.fills[data["execution_id"]] = {
        "commission": data["commission"], "quantity": data["quantity"],
        "client_order_id": data["client_order_id"], "parts": []}
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


def _remember_part(state: OperationState, data: Mapping[str, Any], role: str,
                   transaction: dict[str, Any], trade: dict[str, Any] | None) -> None:
    execution_id = data["execution_id"].removesuffix("#reversal")
    fill = state.fills.get(execution_id)
    if fill is None:
        return
    fill["parts"].append({"role": role, "quantity": data["quantity"],
                          "transaction": transaction["_id"],
                          "trade": trade["_id"] if trade else None,
                          "position": transaction["position_id"]})
    state.recent_docs[doc_key(TRANSACTIONS, transaction["_id"])] = transaction
    if trade is not None:
        state.recent_docs[doc_key(TRADES, trade["_id"])] = trade


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
    order["outcome_unknown"] = False
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
            "contract_symbol": require_operation(state)["asset"], "position_type": side.value,
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
    transaction = _transaction(state, record, order, "ENTRY", side, doc["_id"])
    _remember_part(state, data, "ENTRY", transaction, None)
    put(changes, TRANSACTIONS, transaction)
    put(changes, POSITIONS, doc)


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
    trade = _trade(state, record, position, order, gross, net, commission)
    _remember_part(state, data, "EXIT", transaction, trade)
    put(changes, TRANSACTIONS, transaction)
    put(changes, TRADES, trade)
    _close_part(state, position, data, quantity, net, closes_all)
    put(changes, POSITIONS, doc)


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
        state.recent_docs[doc_key(POSITIONS, doc["_id"])] = doc
    day = data["executed_at"].date().isoformat()
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
