"""Trigger and guardrail decisions of a trading cycle, on hand-made states."""

from __future__ import annotations

import pytest

from live_trading.domain.cycle import (
    BROKER_HOLDS,
    FLATTEN,
    NO_ACTION,
    CyclePrice,
    evaluate_guardrails,
    evaluate_triggers,
)
from live_trading.domain.projection import OpenPosition, OperationState
from live_trading.domain.values import PositionSide


def _state(
    side: str,
    entry: float = 1.4000,
    stop: float | None = 1.3900,
    target: float | None = 1.4200,
    working: tuple[str, ...] = (),
    emergency: float = 0.05,
) -> OperationState:
    state = OperationState(
        "op",
        operation={
            "status": "active",
            "quantity": 10_000,
            "emergency_stop_loss_pct": emergency,
            "max_daily_loss": 500,
        },
    )
    if side:
        state.position = OpenPosition(
            doc={
                "entry_price": entry,
                "stop_loss": stop,
                "take_profit": target,
                "quantity": 10_000 if side == "LONG" else -10_000,
            },
            side=PositionSide(side),
            entry_transaction_id="t",
            entry_quantity=10_000,
            entry_commission=0.0,
        )
    for i, role in enumerate(working):
        state.orders[f"o{i}"] = {"order_role": role, "status": "SUBMITTED"}
    return state


@pytest.mark.parametrize(
    ("side", "stop", "target", "bid", "ask", "expected"),
    [
        ("LONG", 1.3900, 1.4200, 1.3899, 1.3901, "stop_loss"),  # bid below the stop
        ("LONG", 1.3900, 1.4200, 1.3900, 1.3902, "stop_loss"),  # at the stop
        ("LONG", 1.3900, 1.4200, 1.4100, 1.4102, None),
        ("LONG", 1.3900, 1.4200, 1.4200, 1.4202, "take_profit"),
        ("SHORT", 1.4100, 1.3800, 1.4099, 1.4101, "stop_loss"),  # the ask crosses
        ("SHORT", 1.4100, 1.3800, 1.4098, 1.4099, None),
        ("SHORT", 1.4100, 1.3800, 1.3798, 1.3800, "take_profit"),
    ],
)
def test_triggers_use_the_closing_side_of_the_quote(side, stop, target, bid, ask, expected):
    price = CyclePrice(last=(bid + ask) / 2, bid=bid, ask=ask)
    result = evaluate_triggers(_state(side, stop=stop, target=target), price)
    assert result.triggered == expected
    assert result.price == (bid if side == "LONG" else ask)
    assert result.action == (FLATTEN if expected else NO_ACTION)


def test_a_level_held_by_a_working_order_is_left_to_the_broker():
    state = _state("LONG", working=("STOP_LOSS", "TAKE_PROFIT"))
    assert evaluate_triggers(state, CyclePrice(1.3800)).action == BROKER_HOLDS
    only_target = _state("LONG", working=("TAKE_PROFIT",))
    assert evaluate_triggers(only_target, CyclePrice(1.3800)).action == FLATTEN


def test_no_position_no_trigger():
    result = evaluate_triggers(_state(""), CyclePrice(1.4))
    assert (result.triggered, result.action, result.position_side) == (None, NO_ACTION, None)


def test_the_emergency_stop_loss_compares_the_loss_with_the_entry_notional():
    state = _state("SHORT", entry=1.4000, emergency=0.02)
    checks, action = evaluate_guardrails(
        state, CyclePrice(1.4000 * 1.019), broker_connected=True, max_position_size=None
    )
    [check] = [c for c in checks if c["name"] == "emergency_stop_loss"]
    assert check["passed"] and action == NO_ACTION
    assert check["value"] == pytest.approx(-0.019)
    checks, action = evaluate_guardrails(
        state, CyclePrice(1.4000 * 1.021), broker_connected=True, max_position_size=None
    )
    assert action == FLATTEN


def test_guardrails_report_the_broker_the_daily_loss_and_the_size():
    state = _state("LONG")
    state.pnl_day, state.pnl_today = "2025-01-02", -600.0
    checks, action = evaluate_guardrails(
        state, CyclePrice(1.4), broker_connected=False, max_position_size=5_000
    )
    by_name = {c["name"]: c for c in checks}
    assert not by_name["broker_connected"]["passed"]
    assert not by_name["max_daily_loss"]["passed"] and by_name["max_daily_loss"]["value"] == -600
    assert not by_name["max_position_size"]["passed"]
    assert action == NO_ACTION  # none of these closes a position
