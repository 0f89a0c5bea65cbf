"""The IB adapter against a fake TWS that misbehaves as TWS does: requests
that never answer, a partial sync at connect, IB's link lost (1100) and
restored (1101/1102) with fills in the gap, error 326."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.ibkr.deadlines import TIMEOUTS
from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.values import OrderType
from live_trading.engine.ports import BrokerTimeout, ConnectionState
from tests.fakes.tws_server import FakeTWS
from tests.fakes.tws_session import OP, make_broker, req, wait_for

pytestmark = pytest.mark.timeout(60)

REQ_ALL_OPEN_ORDERS, REQ_POSITIONS, REQ_CONTRACT_DETAILS = 16, 61, 9
REQ_EXECUTIONS, REQ_COMPLETED_ORDERS, REQ_OPEN_ORDERS = 7, 99, 5


@pytest.fixture
async def fake():
    fake = FakeTWS()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session(fake):
    session = make_broker(fake)
    await session.broker.connect()
    yield session
    await session.broker.disconnect()


@pytest.mark.parametrize(
    ("msg_id", "call"),
    [
        (REQ_ALL_OPEN_ORDERS, "open_orders"),
        (REQ_POSITIONS, "account_positions"),
        (REQ_CONTRACT_DETAILS, "instrument_spec"),
    ],
)
async def test_a_request_that_never_answers_raises_broker_timeout(session, msg_id, call):
    session.fake.adversary.silence(msg_id)
    before = TIMEOUTS[call]
    calls = {
        "open_orders": lambda: session.broker.open_orders(OP),
        "account_positions": session.broker.account_positions,
        "instrument_spec": lambda: session.broker.instrument_spec("USD-CAD"),
    }
    with pytest.raises(BrokerTimeout) as raised:  # not a hang: within the 0.5 s deadline
        await asyncio.wait_for(calls[call](), 20)
    assert raised.value.call == call and raised.value.deadline_s == 0.5
    assert call in str(raised.value) and TIMEOUTS[call] == before + 1
    assert session.fake.unanswered and int(session.fake.unanswered[-1][0]) == msg_id


async def test_a_partial_sync_is_not_connected_and_is_retried(fake):
    fake.adversary.silence(REQ_COMPLETED_ORDERS, times=1)  # the first sync misses a part
    session = make_broker(fake)
    await session.broker.connect()
    try:
        assert session.states == [
            ConnectionState.CONNECTING,
            ConnectionState.RECONNECTING,
            ConnectionState.CONNECTED,
        ]
        reason = session.events[1][0]
        assert "partial sync" in reason and "completed orders request timed out" in reason
        assert sum(1 for f in fake.received if f[0] == "71") == 2  # connected twice
    finally:
        await session.broker.disconnect()


async def test_a_sync_that_never_completes_never_says_connected(fake):
    fake.adversary.silence(REQ_EXECUTIONS)
    session = make_broker(fake, connect_attempts=2)
    with pytest.raises(ConnectionError, match="executions request timed out"):
        await session.broker.connect()
    assert ConnectionState.CONNECTED not in session.states
    assert session.broker.connection_state is ConnectionState.DISCONNECTED


async def test_fills_missed_by_a_partial_resync_are_delivered_once_synced(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-1"] = "rest"
    assert (await broker.submit_order(req(1, order_type=OrderType.LIMIT, limit=1.3))).accepted
    await fake.outage()
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    gap_fill = fake.fill("LT-op1-1")
    fake.adversary.silence(REQ_EXECUTIONS, times=2)  # two reconnections sync partially
    await fake.resume()
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    partial = [r for r, s in session.events if "partial sync" in r]
    assert len(partial) == 2
    assert all(s is ConnectionState.RECONNECTING for r, s in session.events if r in partial)
    await broker.drain()
    assert [f.execution_id for f in session.reports.fills()] == [gap_fill.exec_id]


async def test_1100_then_1102_rereads_fills_made_during_the_gap(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-2"] = "rest"
    assert (await broker.submit_order(req(2, order_type=OrderType.LIMIT, limit=1.3))).accepted
    fake.link_lost()
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    with pytest.raises(ConnectionError):
        await broker.submit_order(req(3))
    gap_fill = fake.fill("LT-op1-2")  # not pushed: IB's link is down
    await asyncio.sleep(0.1)
    assert session.reports.fills() == []
    executions_before = sum(1 for f in fake.received if f[0] == "7")
    fake.link_restored(1102)
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    await broker.drain()
    assert [f.execution_id for f in session.reports.fills()] == [gap_fill.exec_id]
    assert sum(1 for f in fake.received if f[0] == "7") == executions_before + 1
    assert any(f[0] == "5" for f in fake.received[-3:])  # open orders re-read too
    assert "1102" in session.events[-1][0]


async def test_1101_renews_bar_subscriptions(session):
    from live_trading.domain.values import BarSize

    async def on_bar(*_args) -> None:
        pass

    await session.broker.subscribe_bars("USD-CAD", BarSize.MIN_1, on_bar)
    await wait_for(lambda: len(session.fake.bar_subs) == 1)
    session.fake.link_lost()
    session.fake.link_restored(1101)
    await wait_for(lambda: sum(1 for f in session.fake.received if f[0] == "50") == 2)
    await session.broker.unsubscribe_bars("USD-CAD", BarSize.MIN_1)


async def test_client_id_in_use_names_the_setting(session):
    second = make_broker(session.fake, client_id=7)
    with pytest.raises(ConnectionError) as raised:
        await second.broker.connect()
    text = str(raised.value)
    assert "326" in text and "client id 7" in text and "IBKR_CLIENT_ID" in text
    assert session.broker.connection_state is ConnectionState.CONNECTED  # the first is fine


async def test_instrument_spec_from_contract_details_cached(session):
    spec = await session.broker.instrument_spec("USD-CAD")
    assert spec == InstrumentSpec("USD-CAD", tick_size=0.00005, lot_size=1.0, min_quantity=1.0)
    asked = sum(1 for f in session.fake.received if f[0] == "9")
    assert await session.broker.instrument_spec("USD-CAD") is spec
    assert sum(1 for f in session.fake.received if f[0] == "9") == asked
    with pytest.raises(LookupError):
        await session.broker.instrument_spec("GBP-JPY")  # IB has no such contract


async def test_an_order_cancelled_while_away_is_reported_after_the_sync(session):
    fake, broker = session.fake, session.broker
    fake.behaviour["LT-op1-4"] = "rest"
    assert (await broker.submit_order(req(4, order_type=OrderType.LIMIT, limit=1.3))).accepted
    await fake.outage()
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    fake.cancel_at_venue("LT-op1-4")  # only reqCompletedOrders will tell
    await fake.resume()
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    await broker.drain()
    assert [(type(r).__name__, r.client_order_id) for r in session.reports] == [
        ("OrderCancelled", "LT-op1-4")
    ]
