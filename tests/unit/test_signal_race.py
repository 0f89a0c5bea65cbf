"""A signal that arrives while the position it would close is closing: the
exit fill of the previous bar is journaled while the order manager cancels
the working orders (a real venue's fill reaches the journal milliseconds
after the order; seen through the fake TWS at 30+ bars a second). The order
manager plans from the state after the cancels, never from the stale one."""

from __future__ import annotations

from datetime import UTC, datetime

from live_trading.domain import events as ev
from live_trading.domain.orders import (
    CancelAck,
    CancelOutcome,
    Execution,
    OrderAck,
    OrderCancelled,
    OrderRequest,
)
from live_trading.domain.values import Bar, PositionSide, Side
from live_trading.engine.order_manager import OrderManager, client_order_id
from live_trading.engine.order_plans import NOT_SENT
from live_trading.journal.memory_journal import MemoryJournal
from live_trading.journal.service import JournalService
from live_trading.strategies import Signal

from .test_projection import created, fill, submit

OP = "665f1f77bcf86cd799439077"
BAR = Bar(datetime(2024, 5, 6, 12, 0, tzinfo=UTC), 1.3700, 1.3710, 1.3690, 1.3705)


class _VenueFillingTheStop:
    """Cancels answer REQUESTED, but the stop-loss fills at the venue first:
    its execution is reported (journaled) before the cancel returns."""

    def __init__(self) -> None:
        self.manager: OrderManager | None = None
        self.submitted: list[OrderRequest] = []

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        if client_order_id == "SL":
            assert self.manager is not None
            await self.manager.on_report(
                Execution(
                    "EX-SL", "SL", "B-SL", OP, "USD-CAD", Side.SELL, 1000.0, 1.3650, 0.0, BAR.time
                )
            )
        return CancelAck(client_order_id, CancelOutcome.REQUESTED)

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        self.submitted.append(request)
        return OrderAck(request.client_order_id, f"B-{request.client_order_id}", True)


async def test_a_position_closed_during_the_cancels_is_not_exited_again() -> None:
    journal = JournalService(MemoryJournal())
    await journal.record(
        OP,
        [
            created(),
            submit("E", "BUY", 1000.0),
            ev.OrderAccepted("E", "B-E"),
            fill("E", "BUY", 1000.0, 1.3700, 0.0, minute=0),
            submit("SL", "SELL", 1000.0, role="STOP_LOSS", order_type="STOP", stop_price=1.365),
            ev.OrderAccepted("SL", "B-SL"),
        ],
        source="engine",
        new_operation=True,
    )
    venue = _VenueFillingTheStop()
    manager = OrderManager(OP, "USD-CAD", journal, venue)
    venue.manager = manager
    await manager.on_signal(Signal(PositionSide.SHORT, "crossed below"), BAR, "1 hour", 0.001)
    state = await journal.state(OP)
    roles = [state.orders[r.client_order_id]["order_role"] for r in venue.submitted]
    assert "EXIT" not in roles, "the position closed by its stop is not exited a second time"
    assert roles[0] == "ENTRY" and state.position is None
    unsent = [o for o in state.orders.values() if o["reason"] == NOT_SENT]
    assert sorted(o["order_role"] for o in unsent) == ["ENTRY", "EXIT", "STOP_LOSS", "TAKE_PROFIT"]
    assert all(o["status"] == "CANCELLED" for o in unsent), "the overtaken intents are ended"
    sent = {r.client_order_id for r in venue.submitted}
    assert not sent & {o["client_order_id"] for o in unsent}


class _VenueCancelling:
    """A venue that confirms each cancel (reported, so journaled) before the
    cancel call returns, as TWS's orderStatus Cancelled can."""

    def __init__(self) -> None:
        self.manager: OrderManager | None = None
        self.submitted: list[OrderRequest] = []

    async def cancel_order(self, cid: str) -> CancelAck:
        assert self.manager is not None
        await self.manager.on_report(OrderCancelled(cid, f"B-{cid}", "cancelled", BAR.time))
        return CancelAck(cid, CancelOutcome.REQUESTED)

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        self.submitted.append(request)
        return OrderAck(request.client_order_id, f"B-{request.client_order_id}", True)


async def test_a_reversal_journals_its_signal_before_the_cancels_it_causes() -> None:
    store = MemoryJournal()
    journal = JournalService(store)
    await journal.record(
        OP,
        [
            created(),
            submit("E", "BUY", 1000.0),
            ev.OrderAccepted("E", "B-E"),
            fill("E", "BUY", 1000.0, 1.3700, 0.0, minute=0),
            submit("SL", "SELL", 1000.0, role="STOP_LOSS", order_type="STOP", stop_price=1.365),
            ev.OrderAccepted("SL", "B-SL"),
        ],
        source="engine",
        new_operation=True,
    )
    before = (await journal.state(OP)).last_sequence
    appends: list[list[str]] = []
    record = journal.record

    async def counted(operation_id, events, **kwargs):
        appends.append([e.ACTION_TYPE for e in events])
        return await record(operation_id, events, **kwargs)

    journal.record = counted  # type: ignore[method-assign]
    venue = _VenueCancelling()
    manager = OrderManager(OP, "USD-CAD", journal, venue)
    venue.manager = manager
    await manager.on_signal(Signal(PositionSide.SHORT, "crossed below"), BAR, "1 hour", 0.001)
    new = await store.read(OP, before)
    kinds = [r.action_type for r in new]
    assert new[0].action_data["decision"].startswith("close LONG; open SHORT")
    decision = ["SIGNAL_GENERATED", "ORDER_CANCEL_REQUESTED"] + ["ORDER_SUBMITTED"] * 4
    answers = ["ORDER_CANCELLED"] + ["ORDER_ACCEPTED"] * 4
    assert appends == [decision, answers], "one append for the decision, one for its answers"
    assert kinds == decision + answers
    roles = [r.action_data["role"] for r in new if r.action_type == "ORDER_SUBMITTED"]
    assert roles == ["EXIT", "ENTRY", "STOP_LOSS", "TAKE_PROFIT"]
    for r in new:  # each order's id is the sequence number of its intent
        if r.action_type == "ORDER_SUBMITTED":
            assert r.action_data["client_order_id"] == client_order_id(OP, r.sequence_number)
    state = await journal.state(OP)
    assert state.orders["SL"]["status"] == "CANCELLED"
    assert [r.client_order_id for r in venue.submitted] == [
        r.action_data["client_order_id"] for r in new if r.action_type == "ORDER_SUBMITTED"
    ]
