"""Folding a commission reported after its fill (COMMISSION_REPORTED).

Some venues report a fill's commission after the fill itself (IB's
``commissionReport`` follows ``execDetails``, seconds later or never). The
fill is journaled at once (its commission as reported then, often 0.0) and
the commission later, as an event of its own that *sets* the fill's
commission: the difference to what the fill carried is added to

* the order's commission and the operation's ``total_commission``;
* the fill's transaction(s) (a reversal's two parts pro rata);
* for an exit, its trade (``total_commission``, ``pnl``, ``pnl_pct``), the
  exit transaction's ``profit``, the position's ``realized_pnl``, the
  operation's ``total_pnl`` and the P/L of the trade's UTC day;
* for an entry, the open position's entry commission, charged to its exits
  like any entry commission; when the position has already been closed, to
  its last trade.

The same report seen twice changes nothing (the difference is then 0). A
fill older than the last :data:`~.state.RECENT_FILLS` fills is no longer
corrected (its documents are no longer held): the event is journaled but
folds to nothing.
"""

from __future__ import annotations

from typing import Any

from .events import CommissionReported
from .fills import book_net, doc_key
from .pnl import pnl_pct
from .state import (
    ORDERS,
    POSITIONS,
    TRADES,
    TRANSACTIONS,
    Changes,
    JournalRecord,
    OperationState,
    ProjectionError,
    order_of,
    put,
    require_operation,
)
from .values import TransactionRole


def on_commission_reported(
    state: OperationState, record: JournalRecord, event: CommissionReported, changes: Changes
) -> None:
    """Set the commission of the fill ``event.execution_id`` (see the module).

    Raises:
        ProjectionError: the journal has no fill with that execution id.
    """
    execution_id = event.execution_id
    if execution_id not in state.execution_ids:
        raise ProjectionError(
            f"commission for execution {execution_id}, which the journal does not have"
        )
    fill = state.fills.get(execution_id)
    if fill is None:
        return  # older than RECENT_FILLS fills: no longer corrected
    delta = float(event.commission) - fill["commission"]
    if delta == 0:
        return
    fill["commission"] = float(event.commission)
    order = order_of(state, fill["client_order_id"])
    order["commission"] += delta
    put(changes, ORDERS, order)
    require_operation(state)["total_commission"] += delta
    for part in fill["parts"]:
        share = delta * part["quantity"] / fill["quantity"]
        transaction = state.recent_docs.get(doc_key(TRANSACTIONS, part["transaction"]))
        if transaction is not None:
            transaction["commission"] += share
            put(changes, TRANSACTIONS, transaction)
        if part["role"] == TransactionRole.EXIT:
            _charge_trade(state, part["trade"], share, changes)
        elif state.position is not None and state.position.doc["_id"] == part["position"]:
            state.position.entry_commission += share
        else:
            _charge_trade(state, _last_trade(state, part["position"]), share, changes)


def _last_trade(state: OperationState, position_id: str) -> str | None:
    """The id of the last trade of a closed position still held, or None."""
    last = None
    for key, doc in state.recent_docs.items():
        if key.startswith(f"{TRADES}:") and doc["position_id"] == position_id:
            last = doc["_id"]
    return last


def _charge_trade(
    state: OperationState, trade_id: str | None, amount: float, changes: Changes
) -> None:
    """Charge ``amount`` (quote currency) more commission to a trade."""
    trade = state.recent_docs.get(doc_key(TRADES, trade_id)) if trade_id else None
    if trade is None:
        return
    trade["total_commission"] += amount
    trade["pnl"] -= amount
    trade["pnl_pct"] = pnl_pct(trade["pnl"], trade["entry_price"], trade["quantity"])
    put(changes, TRADES, trade)
    exit_tx = state.recent_docs.get(doc_key(TRANSACTIONS, trade["exit_transaction_id"]))
    if exit_tx is not None:
        exit_tx["profit"] = trade["pnl"]
        exit_tx["profit_pct"] = trade["pnl_pct"]
        put(changes, TRANSACTIONS, exit_tx)
    position = _position_doc(state, trade["position_id"])
    if position is not None:
        position["realized_pnl"] -= amount
        put(changes, POSITIONS, position)
    if state.pnl_day == trade["exit_time"].date().isoformat():
        state.pnl_today -= amount
    book_net(state, -amount)


def _position_doc(state: OperationState, position_id: str) -> dict[str, Any] | None:
    if state.position is not None and state.position.doc["_id"] == position_id:
        return state.position.doc
    return state.recent_docs.get(doc_key(POSITIONS, position_id))
