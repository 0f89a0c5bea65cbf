"""Decisions of a trading cycle, as pure functions of an operation's state
and a price (used by the scheduled worker and by manual cycles).

**Triggers.** An open position's stop-loss and take-profit levels are
checked against the price at which it would be closed: the bid for a LONG,
the ask for a SHORT (the last price when the source has no quote). A level
that is crossed while a working protective order holds it is left to the
broker, which fills that order; a crossed level that no working order holds
(the order was rejected, cancelled, or never reached the broker) makes the
cycle close the position at market.

**Guardrails.** ``broker_connected``; ``emergency_stop_loss`` (the open
position's loss, marked at the price, reached ``emergency_stop_loss_pct`` of
its entry notional: the cycle closes it); ``max_daily_loss`` (the closed P/L
of the day reached minus the limit: no new positions that day, enforced when
an entry is planned); ``max_position_size``. Amounts in quote currency,
quantities in units of the base asset, fractions as 0.05 = 5 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .orders import OrderRole
from .pnl import pnl_pct, unrealized_pnl
from .projection import OperationState
from .risk import daily_loss_breached
from .values import PositionSide

NO_ACTION = "none"
FLATTEN = "flatten"
BROKER_HOLDS = "broker_holds_order"
_ROLE_OF = {"stop_loss": OrderRole.STOP_LOSS, "take_profit": OrderRole.TAKE_PROFIT}


@dataclass(frozen=True)
class CyclePrice:
    """A price for a cycle (quote currency); ``bid``/``ask`` may be None."""

    last: float
    bid: float | None = None
    ask: float | None = None

    def exit_price(self, side: PositionSide) -> float:
        """Where a position of ``side`` would be closed: bid for LONG, ask for SHORT."""
        quote = self.bid if side is PositionSide.LONG else self.ask
        return quote if quote is not None else self.last


@dataclass(frozen=True)
class TriggerResult:
    price: float
    position_side: PositionSide | None
    stop_loss: float | None
    take_profit: float | None
    triggered: str | None
    action: str


def evaluate_triggers(state: OperationState, price: CyclePrice) -> TriggerResult:
    """Check the open position's protective levels against ``price``."""
    position = state.position
    if position is None:
        return TriggerResult(price.last, None, None, None, None, NO_ACTION)
    side = position.side
    mark = price.exit_price(side)
    stop, target = position.doc.get("stop_loss"), position.doc.get("take_profit")
    triggered = _crossed(side, mark, stop, target)
    action = NO_ACTION
    if triggered is not None:
        held = any(o["order_role"] == _ROLE_OF[triggered] for o in state.working_orders())
        action = BROKER_HOLDS if held else FLATTEN
    return TriggerResult(mark, side, stop, target, triggered, action)


def _crossed(
    side: PositionSide, mark: float, stop: float | None, target: float | None
) -> str | None:
    sign = 1 if side is PositionSide.LONG else -1
    if stop is not None and sign * (mark - stop) <= 0:
        return "stop_loss"
    if target is not None and sign * (mark - target) >= 0:
        return "take_profit"
    return None


def evaluate_guardrails(
    state: OperationState,
    price: CyclePrice,
    *,
    broker_connected: bool,
    max_position_size: float | None,
) -> tuple[list[dict[str, Any]], str]:
    """Every guardrail's check and the action they call for (``none`` or
    ``flatten``: only a breached emergency stop-loss flattens)."""
    operation = state.operation or {}
    checks = [
        _check(
            "broker_connected",
            broker_connected,
            broker_connected,
            True,
            "orders can reach the broker" if broker_connected else "the broker is not connected",
        )
    ]
    loss_check = _emergency_check(
        state, price, float(operation.get("emergency_stop_loss_pct") or 0.0)
    )
    if loss_check is not None:
        checks.append(loss_check)
    limit = operation.get("max_daily_loss")
    breached = daily_loss_breached(state, limit)
    checks.append(
        _check(
            "max_daily_loss",
            not breached,
            state.pnl_today,
            limit,
            f"closed P/L on {state.pnl_day or 'no day yet'}"
            + (": no new positions that day" if breached else ""),
        )
    )
    if state.position is not None and max_position_size is not None:
        quantity = state.position.open_quantity
        checks.append(
            _check(
                "max_position_size",
                quantity <= max_position_size,
                quantity,
                max_position_size,
                "open quantity (base units)",
            )
        )
    emergency = loss_check is not None and not loss_check["passed"]
    return checks, FLATTEN if emergency else NO_ACTION


def _emergency_check(
    state: OperationState, price: CyclePrice, limit_pct: float
) -> dict[str, Any] | None:
    position = state.position
    if position is None or limit_pct <= 0:
        return None
    entry, quantity = float(position.doc["entry_price"]), position.open_quantity
    pnl = unrealized_pnl(position.side, entry, price.exit_price(position.side), quantity)
    fraction = pnl_pct(pnl, entry, quantity)
    passed = fraction > -limit_pct
    return _check(
        "emergency_stop_loss",
        passed,
        fraction,
        -limit_pct,
        "unrealized P/L as a fraction of the entry notional"
        + ("" if passed else ": closing the position"),
    )


def _check(name: str, passed: bool, value: Any, limit: Any, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": bool(passed), "value": value, "limit": limit, "detail": detail}
