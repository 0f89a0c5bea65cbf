"""Order plans: the journal entries and broker requests one decision makes.

Pure functions (no broker, no journal): :class:`OrderManager
<live_trading.engine.order_manager.OrderManager>` decides, these build what it
journals and sends. Client order ids are ``LT-<operation id>-<sequence number
of the intent>``: unique, and they name their operation, so a report can be
routed by id alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from live_trading.domain import events as ev
from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import CommissionReport, Execution, OrderRequest, OrderRole
from live_trading.domain.projection import OperationState
from live_trading.domain.protection import ProtectionRule, protective_levels
from live_trading.domain.values import Bar, OrderType, PositionSide, Side
from live_trading.strategies import Signal

from .instruments import on_lot, on_tick

UNFILLED_ENTRY = "cancel unfilled entry"
NOT_SENT = "not sent: a fill moved the position while the decision's cancels were sent"

FillsMark = tuple[str | None, str | None, float]
"""The last fill journaled and the position it left: side, open quantity."""


def fills_mark(state: OperationState) -> FillsMark:
    """What a decision's orders depend on that a fill can change."""
    position = state.position
    if position is None:
        return (state.last_execution_id, None, 0.0)
    return (state.last_execution_id, position.side.value, position.open_quantity)


def cancel_intents(client_order_ids: list[str], reason: str) -> list[ev.OrderCancelRequested]:
    """ORDER_CANCEL_REQUESTED for each order, journaled before its cancel is sent."""
    return [ev.OrderCancelRequested(cid, reason) for cid in client_order_ids]


def not_sent(plan: _Plan) -> list[ev.OrderCancelled]:
    """ORDER_CANCELLED ("not sent") for each order of an overtaken decision."""
    return [ev.OrderCancelled(r.client_order_id, NOT_SENT) for r in plan.requests]


def client_order_id(operation_id: str, sequence_number: int) -> str:
    return f"LT-{operation_id}-{sequence_number}"


def operation_of(client_id: str) -> str | None:
    """The operation id inside a client order id, or None if not ours."""
    parts = client_id.split("-")
    return parts[1] if len(parts) == 3 and parts[0] == "LT" else None


@dataclass
class _Plan:
    """Events to journal, then broker requests to send, in order, for one
    operation trading one asset."""

    operation_id: str
    asset: str
    events: list[ev.Event] = field(default_factory=list)
    requests: list[OrderRequest] = field(default_factory=list)

    def add_order(
        self,
        seq: int,
        role: OrderRole,
        side: Side,
        quantity: float,
        order_type: OrderType = OrderType.MARKET,
        *,
        stop_price: float | None = None,
        limit_price: float | None = None,
        parent: str | None = None,
        oco: str | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        reason: str = "",
    ) -> None:
        """Add ORDER_SUBMITTED for the order with sequence number ``seq`` and
        its broker request (prices in quote currency, quantity in base units)."""
        cid = client_order_id(self.operation_id, seq)
        self.events.append(
            ev.OrderSubmitted(
                client_order_id=cid,
                role=role,
                side=side,
                order_type=order_type,
                quantity=quantity,
                limit_price=limit_price,
                stop_price=stop_price,
                parent_client_order_id=parent,
                oco_group=oco,
                stop_loss=stop_loss,
                take_profit=take_profit,
                reason=reason,
            )
        )
        self.requests.append(
            OrderRequest(
                client_order_id=cid,
                account=self.operation_id,
                asset=self.asset,
                side=side,
                quantity=quantity,
                order_type=order_type,
                limit_price=limit_price,
                stop_price=stop_price,
                parent_client_order_id=parent,
                oco_group=oco,
            )
        )


def plan_exit(state: OperationState, plan: _Plan, seq: int, reason: str) -> int:
    """Plan a market exit of the open position; returns the last sequence number used."""
    position = state.position
    assert position is not None
    seq += 1
    plan.add_order(
        seq,
        OrderRole.EXIT,
        position.side.exit_side,
        position.open_quantity,
        reason=reason,
    )
    return seq


def plan_entry(
    state: OperationState,
    plan: _Plan,
    seq: int,
    signal: Signal,
    current: PositionSide | None,
    bar: Bar,
    atr: float | None,
    instrument: InstrumentSpec | None = None,
) -> str:
    """Plan the entry bracket: the entry (market, or LIMIT/STOP at the
    signal's price) and its stop-loss and take-profit, measured from the
    entry price (market: the signal bar's close), on the ``instrument``'s
    tick and lot. Returns the decision, in words."""
    target = PositionSide(signal.target) if signal.target else None
    closing = f"close {current.value}" if current and current != target else ""
    if target is None or target == current:
        return closing or "no change"
    spec = state.operation or {}
    rule = ProtectionRule(
        spec["stop_loss_type"],
        spec["stop_loss_value"],
        spec["take_profit_type"],
        spec["take_profit_value"],
    )
    reference = signal.entry_price if signal.entry_price is not None else bar.close
    try:
        levels = protective_levels(target, reference, rule, atr)
    except ValueError as error:
        return f"{closing + '; ' if closing else ''}entry skipped: {error}"
    entry_id = client_order_id(plan.operation_id, seq + 1)
    oco = f"OCO-{entry_id}"
    qty = on_lot(instrument, float(spec["quantity"]))
    reference = on_tick(instrument, reference)
    levels = replace(
        levels,
        stop_loss=on_tick(instrument, levels.stop_loss),
        take_profit=on_tick(instrument, levels.take_profit),
    )
    entry_type = OrderType(signal.entry_type)
    plan.add_order(
        seq + 1,
        OrderRole.ENTRY,
        target.entry_side,
        qty,
        entry_type,
        limit_price=reference if entry_type is OrderType.LIMIT else None,
        stop_price=reference if entry_type is OrderType.STOP else None,
        stop_loss=levels.stop_loss,
        take_profit=levels.take_profit,
    )
    plan.add_order(
        seq + 2,
        OrderRole.STOP_LOSS,
        target.exit_side,
        qty,
        OrderType.STOP,
        stop_price=levels.stop_loss,
        parent=entry_id,
        oco=oco,
    )
    plan.add_order(
        seq + 3,
        OrderRole.TAKE_PROFIT,
        target.exit_side,
        qty,
        OrderType.LIMIT,
        limit_price=levels.take_profit,
        parent=entry_id,
        oco=oco,
    )
    how = "" if entry_type is OrderType.MARKET else f" {entry_type.value} {reference:.6g}"
    opened = f"open {target.value}{how} SL {levels.stop_loss:.6g} TP {levels.take_profit:.6g}"
    return f"{closing}; {opened}" if closing else opened


def bar_data(bar: Bar) -> dict[str, Any]:
    return {
        "time": bar.time,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }


@dataclass(frozen=True)
class _SignalContext:
    """A signal with the bar it came on and the recent bars that led to it."""

    signal: Signal
    bar: Bar
    bar_size: str
    recent_bars: list[Bar]


def _signal_event(context: _SignalContext, decision: str) -> ev.SignalGenerated:
    signal = context.signal
    target = PositionSide(signal.target) if signal.target else None
    return ev.SignalGenerated(
        bar_size=context.bar_size,
        bar=bar_data(context.bar),
        target=target,
        reason=signal.reason,
        indicators=dict(signal.indicators),
        decision=decision,
        recent_bars=[bar_data(b) for b in context.recent_bars],
    )


def fill_event(report: Execution) -> ev.OrderFilled:
    return ev.OrderFilled(
        execution_id=report.execution_id,
        client_order_id=report.client_order_id,
        broker_order_id=report.broker_order_id,
        side=report.side,
        quantity=report.quantity,
        price=report.price,
        commission=report.commission,
        executed_at=report.time,
    )


def commission_event(report: CommissionReport) -> ev.CommissionReported:
    return ev.CommissionReported(
        execution_id=report.execution_id,
        client_order_id=report.client_order_id,
        commission=report.commission,
        reported_at=report.time,
    )
