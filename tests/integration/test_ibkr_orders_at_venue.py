"""Orders through the IB adapter against a fake TWS that misbehaves as TWS
does: orderStatus before openOrder, answers lost, a forgotten order,
modification warnings, commissions late or never, duplicate execDetails,
ids rolled back by the nightly reset, brackets with transmit flags."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.domain.orders import CancelOutcome, Execution, OrderCancelled
from live_trading.domain.values import OrderType, Side
from live_trading.engine.ports import ConnectionState, OrderOutcomeUnknown
from tests.fakes.tws_server import FakeTWS
from tests.fakes.tws_session import OP, make_broker, req, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def session():
    fake = FakeTWS()
    await fake.start()
    session = make_broker(fake)
    await session.broker.connect()
    yield session
    await session.broker.disconnect()
    await fake.stop()


def limit(seq: int, price: float = 1.30, **kw):
    return req(seq, order_type=OrderType.LIMIT, limit=price, **kw)


async def test_one_broker_id_when_order_status_comes_before_open_order(session):
    fake, broker = session.fake, session.broker
    fake.adversary.status_first = True
    ack = await broker.submit_order(req(1))
    perm = str(fake.orders[0].perm_id)
    assert ack.accepted and ack.broker_order_id == perm
    await wait_for(lambda: len(session.reports) == 1)
    assert session.reports[0].broker_order_id == perm
    assert await broker.broker_order_id("LT-op1-1") == perm


async def test_fill_is_reported_at_once_and_its_late_commission_follows(session):
    fake, broker = session.fake, session.broker
    fake.adversary.commission, fake.adversary.commission_delay_s = "late", 0.5
    fake.adversary.duplicate_exec = True
    assert (await broker.submit_order(req(2))).accepted
    await wait_for(lambda: len(session.reports) == 1)
    assert session.reports.commissions == []  # the fill did not wait for it
    [fill] = session.reports.fills()
    assert fill.commission == 0.0
    await wait_for(lambda: len(session.reports.commissions) == 1)
    assert session.reports.commissions[0].commission == pytest.approx(2.0)
    assert session.reports.commissions[0].execution_id == fill.execution_id
    await asyncio.sleep(0.1)
    assert len(session.reports) == 1  # the duplicate execDetails reported nothing
    [known] = await broker.executions(OP)
    assert known.commission == pytest.approx(2.0)


async def test_a_fill_is_not_queued_behind_commission_reports(session):
    """While the listener is busy (journaling), a commission report that
    arrives before the next fill is delivered after it: fills go first."""
    fake, broker = session.fake, session.broker
    fake.adversary.commission, fake.adversary.commission_delay_s = "late", 0.2
    order: list[str] = []
    busy = asyncio.Event()

    async def slow_listener(report) -> None:
        order.append(type(report).__name__)
        if len(order) == 1:
            await busy.wait()  # the first fill's journaling is slow
        session.reports.add(report)

    broker.set_listener(slow_listener)
    assert (await broker.submit_order(req(20))).accepted
    await wait_for(lambda: order == ["Execution"])
    await asyncio.sleep(0.3)  # the first fill's commission has arrived meanwhile
    assert (await broker.submit_order(req(21))).accepted
    await asyncio.sleep(0.05)
    busy.set()
    await wait_for(lambda: len(session.reports.commissions) == 2)
    assert order == ["Execution", "Execution", "CommissionReport", "CommissionReport"]


async def test_a_commission_that_never_comes_never_holds_the_fill(session):
    session.fake.adversary.commission = "never"
    assert (await session.broker.submit_order(req(3))).accepted
    await wait_for(lambda: len(session.reports) == 1)
    await asyncio.sleep(0.2)
    assert session.reports.fills()[0].commission == 0.0 and session.reports.commissions == []


async def test_a_submit_whose_answer_is_lost_is_unknown_not_rejected(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-4"] = "rest"
    fake.adversary.lose_place_answers = 1
    with pytest.raises(OrderOutcomeUnknown) as raised:
        await broker.submit_order(limit(4))
    assert raised.value.client_order_id == "LT-op1-4" and "no answer" in raised.value.detail
    assert [o.order_ref for o in fake.orders] == ["LT-op1-4"]  # the venue has it
    assert [o.client_order_id for o in await broker.open_orders(OP)] == ["LT-op1-4"]


async def test_a_submit_cut_by_a_dropped_connection_is_unknown(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-5"] = "rest"
    fake.adversary.drop_after_place = 1
    with pytest.raises(OrderOutcomeUnknown, match="connection to IB lost"):
        await broker.submit_order(limit(5))
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    assert [o.client_order_id for o in await broker.open_orders(OP)] == ["LT-op1-5"]
    assert await broker.broker_order_id("LT-op1-5") == str(fake.orders[0].perm_id)


async def test_a_submit_while_disconnected_is_certainly_not_sent(session):
    await session.fake.outage()
    await wait_for(lambda: session.broker.connection_state is ConnectionState.RECONNECTING)
    with pytest.raises(ConnectionError):
        await session.broker.submit_order(req(6))
    assert session.fake.orders == []


async def test_cancel_finds_an_order_ib_async_forgot_by_order_ref(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-7"] = "rest"
    assert (await broker.submit_order(limit(7))).accepted
    await broker.disconnect()  # our process restarts...
    fake.adversary.unbound.add("LT-op1-7")  # ...and TWS does not bind the order to it
    fresh = make_broker(fake)
    await fresh.broker.connect()
    try:
        assert fresh.broker._trade_of("LT-op1-7") is None  # ib_async does not know it
        ack = await fresh.broker.cancel_order("LT-op1-7")
        assert ack.outcome is CancelOutcome.REQUESTED
        await wait_for(lambda: fake.orders[0].status == "Cancelled")
        await wait_for(lambda: any(isinstance(r, OrderCancelled) for r in fresh.reports))
        again = await fresh.broker.cancel_order("LT-op1-7")
        assert again.outcome is CancelOutcome.ALREADY_DONE
    finally:
        await fresh.broker.disconnect()


async def test_cancel_of_an_unknown_or_filled_order_says_so(session):
    broker = session.broker
    missing = await broker.cancel_order("LT-op1-404")
    assert missing.outcome is CancelOutcome.NOT_FOUND and "LT-op1-404" in missing.reason
    assert (await broker.submit_order(req(8))).accepted  # fills at once
    await wait_for(lambda: len(session.reports) == 1)
    done = await broker.cancel_order("LT-op1-8")
    assert done.outcome is CancelOutcome.ALREADY_DONE


@pytest.mark.parametrize("bound", [True, False], ids=["bound", "not-bound"])
async def test_cancel_of_an_order_ib_cancelled_while_we_were_away_is_already_done(session, bound):
    """Recovery cancels what the venue has working; one IB cancelled while
    our process was down answers ALREADY_DONE, whether TWS binds it to the
    new session (open/completed order) or not."""
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-10"] = "rest"
    assert (await broker.submit_order(limit(10))).accepted
    await broker.disconnect()  # our process dies...
    fake.cancel_at_venue("LT-op1-10")  # ...and IB cancels the order meanwhile
    if not bound:
        fake.adversary.unbound.add("LT-op1-10")
    fresh = make_broker(fake)
    await fresh.broker.connect()
    try:
        ack = await fresh.broker.cancel_order("LT-op1-10")
        assert ack.outcome is CancelOutcome.ALREADY_DONE and "Cancelled" in ack.reason
        assert await fresh.broker.open_orders(OP) == []
    finally:
        await fresh.broker.disconnect()


async def test_a_cancel_racing_ibs_own_cancel_reports_one_cancellation(session):
    """IB cancels the order as our cancel is on its way (TWS answers 10147,
    "not found"): the cancel was requested, one OrderCancelled follows, and
    a second cancel says ALREADY_DONE."""
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-11"] = "rest"
    assert (await broker.submit_order(limit(11))).accepted
    fake.cancel_at_venue("LT-op1-11")  # its status is still on its way to us
    first = await broker.cancel_order("LT-op1-11")
    assert first.outcome in (CancelOutcome.REQUESTED, CancelOutcome.ALREADY_DONE)
    await wait_for(lambda: any(isinstance(r, OrderCancelled) for r in session.reports))
    again = await broker.cancel_order("LT-op1-11")
    assert again.outcome is CancelOutcome.ALREADY_DONE
    await broker.drain()
    assert [type(r).__name__ for r in session.reports] == ["OrderCancelled"]


async def test_modify_of_a_forgotten_order_reads_it_at_the_venue(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-9"] = "rest"
    assert (await broker.submit_order(limit(9))).accepted
    await broker.disconnect()
    fake.adversary.unbound.add("LT-op1-9")
    fresh = make_broker(fake)
    await fresh.broker.connect()
    try:
        ack = await fresh.broker.modify_order("LT-op1-9", limit_price=1.31)
        assert ack.accepted and fake.orders[0].lmt_price == "1.31"
        unknown = await fresh.broker.modify_order("LT-op1-999", limit_price=1.31)
        assert not unknown.accepted and "not working at IB" in unknown.reason
    finally:
        await fresh.broker.disconnect()


async def test_modify_whose_echo_is_lost_rereads_the_venue(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-10"] = "rest"
    assert (await broker.submit_order(limit(10))).accepted
    fake.adversary.lose_place_answers = 1  # the venue applies it, the echo is lost
    ack = await broker.modify_order("LT-op1-10", limit_price=1.32)
    assert ack.accepted and fake.orders[0].lmt_price == "1.32"
    [working] = await broker.open_orders(OP)
    assert working.limit_price == pytest.approx(1.32)


async def test_a_warning_that_leaves_the_order_live_is_not_a_refusal(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-11"] = "rest"
    assert (await broker.submit_order(limit(11))).accepted
    fake.adversary.modify_warning = (
        399,
        (
            "Order Message: Warning: your order will not be "
            "placed at the exchange until 09:30 US/Eastern"
        ),
    )
    ack = await broker.modify_order("LT-op1-11", quantity=20_000)
    assert ack.accepted and fake.orders[0].quantity == 20_000
    await asyncio.sleep(0.1)
    assert session.reports == []  # no OrderCancelled either


async def test_order_ids_rolled_back_by_the_nightly_reset_are_never_reused(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-12"] = "rest"
    assert (await broker.submit_order(limit(12))).accepted
    old = fake.orders[0]
    await fake.restart(roll_back_ids=True)  # nextValidId back to 1
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    fake.next_valid_id = 1
    fake.behaviour["LT-op1-13"] = "rest"
    assert (await broker.submit_order(limit(13, price=1.25))).accepted
    assert len(fake.orders) == 2 and fake.orders[1].order_id > old.order_id
    assert old.lmt_price == "1.3" and old.order_ref == "LT-op1-12"  # not overwritten
    assert {o.client_order_id for o in await broker.open_orders(OP)} == {"LT-op1-12", "LT-op1-13"}


async def test_a_market_bracket_is_at_the_venue_before_its_entry_can_fill(session):
    fake, broker = session.fake, session.broker
    entry = req(14)
    oco = {"parent_client_order_id": "LT-op1-14", "oco_group": "OCO-LT-op1-14"}
    stop = req("14-SL", side=Side.SELL, order_type=OrderType.STOP, stop=1.36, **oco)
    target = req("14-TP", side=Side.SELL, order_type=OrderType.LIMIT, limit=1.38, **oco)
    acks = await broker.submit_bracket(entry, stop, target)
    assert all(a.accepted and a.broker_order_id for a in acks)
    [fill] = [e for e in fake.executions if e.order.order_ref == "LT-op1-14"]
    assert fill.children_at_fill == ["LT-op1-14-SL", "LT-op1-14-TP"]
    await wait_for(lambda: len(session.reports) == 1)
    assert isinstance(session.reports[0], Execution)
    fake.trade_at(1.3590)  # the stop-loss fills, the OCA group cancels the take-profit
    await wait_for(lambda: len(session.reports) == 3)
    assert [(type(r).__name__, r.client_order_id) for r in session.reports[1:]] == [
        ("Execution", "LT-op1-14-SL"),
        ("OrderCancelled", "LT-op1-14-TP"),
    ]
