"""What each outcome of a broker call journals (engine/order_calls.py), and
how reconciliation settles an order whose outcome is unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from live_trading.domain import events as ev
from live_trading.domain.orders import (
    CancelAck,
    CancelOutcome,
    Execution,
    OrderAck,
    OrderRequest,
)
from live_trading.domain.projection import fold
from live_trading.domain.recovery import BrokerView, plan_reconciliation
from live_trading.domain.values import Side
from live_trading.engine import order_calls
from live_trading.engine.ports import BrokerTimeout, OrderOutcomeUnknown

from .test_projection import created, make_records, submit

OP = "665f1f77bcf86cd799439012"
REQUEST = OrderRequest("LT-x-2", OP, "USD-CAD", Side.BUY, 1000.0)


class _Broker:
    def __init__(self, outcome) -> None:
        self.outcome = outcome

    async def submit_order(self, request):
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    async def cancel_order(self, client_order_id):
        return await self.submit_order(None)


@pytest.mark.parametrize(
    "outcome, expected",
    [
        (OrderAck("LT-x-2", "B1", True), ev.OrderAccepted("LT-x-2", "B1")),
        (OrderAck("LT-x-2", None, False, "margin"), ev.OrderRejected("LT-x-2", "margin")),
        (
            OrderOutcomeUnknown("submit_order", "LT-x-2", "read timed out"),
            ev.OrderOutcomeUnknown("LT-x-2", "submit_order", "read timed out"),
        ),
    ],
)
async def test_submit_outcomes(outcome, expected) -> None:
    assert await order_calls.submit(_Broker(outcome), REQUEST) == expected


async def test_a_timeout_is_unknown_and_a_refused_connection_is_not_sent() -> None:
    unknown = await order_calls.submit(_Broker(BrokerTimeout("submit_order", 10)), REQUEST)
    assert isinstance(unknown, ev.OrderOutcomeUnknown)
    refused = await order_calls.submit(_Broker(ConnectionError("refused")), REQUEST)
    assert isinstance(refused, ev.OrderRejected) and "unreachable" in refused.reason


@pytest.mark.parametrize(
    "outcome, kind",
    [
        (CancelOutcome.REQUESTED, None),
        (CancelOutcome.NOT_FOUND, "NOT_FOUND"),
        (CancelOutcome.ALREADY_DONE, "ALREADY_DONE"),
    ],
)
async def test_cancel_outcomes_are_never_silent(outcome, kind) -> None:
    events = await order_calls.cancel(_Broker(CancelAck("LT-x-2", outcome)), "LT-x-2")
    assert [e.outcome for e in events] == ([kind] if kind else [])
    lost = await order_calls.cancel(
        _Broker(OrderOutcomeUnknown("cancel_order", "LT-x-2", "dropped")), "LT-x-2"
    )
    assert isinstance(lost[0], ev.OrderOutcomeUnknown)


def _unknown_state():
    events = [
        created(),
        submit("U", "BUY", 1000.0),
        ev.OrderOutcomeUnknown("U", "submit_order", "timeout"),
    ]
    return fold(OP, make_records(events, operation_id=OP))[0]


def test_an_unknown_order_absent_from_the_venue_is_rejected() -> None:
    plan = plan_reconciliation(_unknown_state(), BrokerView({}, [], 0.0))
    assert plan.reject_in_journal == ["U"] and plan.cancel_in_journal == []


def test_an_unknown_order_working_or_filled_at_the_venue_is_adopted() -> None:
    state = _unknown_state()
    assert state.orders["U"]["status"] == "PENDING" and state.orders["U"]["outcome_unknown"]
    working = plan_reconciliation(state, BrokerView({"U": REQUEST}, [], 0.0))
    assert working.adopt_orders == ["U"] and not working.reject_in_journal
    done = Execution(
        "X-U", "U", "B", OP, "USD-CAD", Side.BUY, 1000.0, 1.3, 0.0, datetime(2024, 5, 6, tzinfo=UTC)
    )
    filled = plan_reconciliation(state, BrokerView({}, [done], 1000.0))
    assert [e.execution_id for e in filled.adopt_fills] == [done.execution_id]
    assert not filled.reject_in_journal and not filled.cancel_in_journal
