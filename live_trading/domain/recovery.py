"""Crash recovery decisions: pure functions of the journal's state and the
broker's view. :mod:`live_trading.engine.recovery` carries them out.

Reconciliation (journal vs broker, per operation):

* a broker fill whose execution id the journal lacks, for an order the
  journal knows, is adopted (journaled once, by execution id); a fill for an
  order the journal never intended is reported, not adopted;
* an order the journal has in flight (PENDING: intent journaled, broker never
  acknowledged; SUBMITTED: acknowledged, not finished) is adopted when the
  broker works it, and cancelled in the journal when the broker does not (it
  never arrived, or ended while we were down);
* an order whose submission's outcome is unknown (ORDER_OUTCOME_UNKNOWN:
  sent, answer lost) is settled by the venue's records: working there ->
  adopted (accepted); fills there -> adopted (filled); neither -> rejected,
  "not at the venue" (the view must come from a complete sync);
* an order of ours the broker works but the journal has finished or never
  heard of is cancelled at the broker;
* every difference is recorded as a mismatch with both views.

Crash-recovery modes, per open position, with the unrealized P/L measured at
``mark`` (the last price seen) as a fraction of the entry notional:

* CLOSE_ALL: close it at market;
* RESUME: close it only if its unrealized loss exceeds
  ``emergency_stop_loss_pct``, then resume the operation;
* EMERGENCY_EXIT: the same rule: close the losers beyond the threshold, keep
  the rest and resume. (With one net position per operation the two modes
  act alike; they differ in intent, and RESUME is the default for live.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .orders import Execution, OrderRequest, OrderStatus
from .pnl import pnl_pct, unrealized_pnl
from .projection import OperationState

POSITION_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class BrokerView:
    """What the broker says about one operation's account and asset."""

    open_orders: dict[str, OrderRequest]
    executions: list[Execution]
    position: float  # signed net quantity of the operation's asset


@dataclass
class ReconciliationPlan:
    adopt_fills: list[Execution] = field(default_factory=list)
    foreign_fills: list[Execution] = field(default_factory=list)
    adopt_orders: list[str] = field(default_factory=list)  # PENDING, working at broker
    cancel_in_journal: list[str] = field(default_factory=list)  # in flight, not at broker
    reject_in_journal: list[str] = field(default_factory=list)  # outcome unknown, not there
    cancel_at_broker: list[str] = field(default_factory=list)  # ours, not working in journal
    keep_orders: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PositionDecision:
    action: str  # "close" or "keep"
    reason: str
    mark: float | None
    unrealized_pnl: float | None
    unrealized_pct: float | None


def plan_reconciliation(state: OperationState, view: BrokerView) -> ReconciliationPlan:
    plan = ReconciliationPlan()
    for execution in view.executions:
        if execution.execution_id in state.execution_ids:
            continue
        target = (
            plan.adopt_fills if execution.client_order_id in state.orders else plan.foreign_fills
        )
        target.append(execution)
    filled = _filled_quantities(state, plan.adopt_fills)
    for order in state.working_orders():
        cid = order["client_order_id"]
        if cid in view.open_orders:
            acknowledged = order["status"] != OrderStatus.PENDING
            (plan.keep_orders if acknowledged else plan.adopt_orders).append(cid)
        elif filled.get(cid, 0.0) <= 0.0 and _never_acknowledged(order):
            plan.reject_in_journal.append(cid)
        elif filled.get(cid, 0.0) < order["quantity"] * (1 - 1e-9):
            plan.cancel_in_journal.append(cid)
    working = {o["client_order_id"] for o in state.working_orders()}
    plan.cancel_at_broker = [cid for cid in view.open_orders if cid not in working]
    return plan


def _never_acknowledged(order: dict[str, Any]) -> bool:
    """Sent, but whether the venue took it is unknown (and it never said)."""
    return order["status"] == OrderStatus.PENDING and bool(order.get("outcome_unknown"))


def _filled_quantities(state: OperationState, adopted: list[Execution]) -> dict[str, float]:
    filled = {cid: o["filled_quantity"] for cid, o in state.orders.items()}
    for execution in adopted:
        filled[execution.client_order_id] = (
            filled.get(execution.client_order_id, 0.0) + execution.quantity
        )
    return filled


def journal_position(state: OperationState) -> float:
    """The journal's signed net quantity (+ long, - short)."""
    return state.position.doc["quantity"] if state.position else 0.0


def positions_agree(journal_quantity: float, broker_quantity: float) -> bool:
    return abs(journal_quantity - broker_quantity) <= POSITION_EPSILON * max(
        1.0, abs(journal_quantity), abs(broker_quantity)
    )


def decide_position(
    mode: str, state: OperationState, mark: float | None, emergency_stop_loss_pct: float
) -> PositionDecision | None:
    """What the crash-recovery ``mode`` does with the open position (None if flat)."""
    position = state.position
    if position is None:
        return None
    quantity, entry = position.open_quantity, position.doc["entry_price"]
    pnl = pct = None
    if mark is not None:
        pnl = unrealized_pnl(position.side, entry, mark, quantity)
        pct = pnl_pct(pnl, entry, quantity)
    if mode == "CLOSE_ALL":
        return PositionDecision("close", "CLOSE_ALL closes every open position", mark, pnl, pct)
    if pct is None:
        return PositionDecision("keep", f"{mode}: no price to measure the loss", mark, None, None)
    if -pct > emergency_stop_loss_pct:
        return PositionDecision(
            "close",
            f"{mode}: unrealized loss {-pct:.4%} exceeds {emergency_stop_loss_pct:.4%}",
            mark,
            pnl,
            pct,
        )
    return PositionDecision(
        "keep",
        f"{mode}: unrealized {pct:+.4%} within the {emergency_stop_loss_pct:.4%} limit",
        mark,
        pnl,
        pct,
    )


def execution_view(execution: Execution) -> dict[str, Any]:
    return {
        "execution_id": execution.execution_id,
        "client_order_id": execution.client_order_id,
        "broker_order_id": execution.broker_order_id,
        "side": execution.side.value,
        "quantity": execution.quantity,
        "price": execution.price,
        "commission": execution.commission,
        "time": execution.time,
    }
