"""The OANDA adapter answers from the venue's own records: cancel outcomes
(also for orders sent before a restart), modify on unknown, finished or
lost answers, instrument specifications, and "connected means synced"."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.oanda import OANDABroker
from live_trading.domain.orders import CancelOutcome, OrderRequest
from live_trading.domain.values import OrderType, Side
from live_trading.engine.ports import ConnectionState
from tests.integration import test_oanda_faults as faults
from tests.integration.test_oanda_faults import ACC, Reports, cancel_of, config, limit

server = faults.server  # the fixtures, shared
broker = faults.broker

pytestmark = pytest.mark.timeout(60)


async def test_cancel_says_not_found_and_already_done(broker, server) -> None:
    adapter, _ = broker
    assert (await adapter.cancel_order("never-sent")).outcome is CancelOutcome.NOT_FOUND
    assert (
        await adapter.submit_order(OrderRequest("f1", ACC, "USD-CAD", Side.BUY, 1_000))
    ).accepted
    done = await adapter.cancel_order("f1")
    assert done.outcome is CancelOutcome.ALREADY_DONE
    assert (await adapter.submit_order(limit("c1", 1.30000))).accepted
    assert (await adapter.cancel_order("c1")).outcome is CancelOutcome.REQUESTED
    assert (await adapter.cancel_order("c1")).outcome is CancelOutcome.ALREADY_DONE


async def test_an_order_sent_before_a_restart_is_cancelled_at_the_venue(server) -> None:
    before = OANDABroker(config(server.url))
    await before.connect()
    cid = f"LT-{ACC}-7"
    assert (await before.submit_order(limit(cid, 1.30000))).accepted
    await before.disconnect()
    after, reports = OANDABroker(config(server.url)), Reports()
    after.set_listener(reports)
    await after.connect()
    try:
        ack = await after.cancel_order(cid)
        assert ack.outcome is CancelOutcome.REQUESTED
        assert (await reports.wait(cancel_of(cid))).reason == "CLIENT_REQUEST"
        assert server.fake.find_order(f"@{cid}")["state"] == "CANCELLED"
    finally:
        await after.disconnect()


async def test_an_order_sent_before_a_restart_is_modified_at_the_venue(server) -> None:
    before = OANDABroker(config(server.url))
    await before.connect()
    cid = f"LT-{ACC}-8"
    first = await before.submit_order(limit(cid, 1.30000))
    await before.disconnect()
    after = OANDABroker(config(server.url))
    await after.connect()
    try:
        ack = await after.modify_order(cid, limit_price=1.30500)
        assert ack.accepted and ack.broker_order_id != first.broker_order_id
        assert server.fake.find_order(f"@{cid}")["price"] == "1.30500"
    finally:
        await after.disconnect()


async def test_modify_of_an_unknown_or_finished_order_says_so(broker, server) -> None:
    adapter, _ = broker
    unknown = await adapter.modify_order("nope", limit_price=1.2)
    assert not unknown.accepted and "no such working order" in unknown.reason
    await adapter.submit_order(OrderRequest("f2", ACC, "USD-CAD", Side.BUY, 1_000))
    finished = await adapter.modify_order("f2", quantity=2_000)
    assert not finished.accepted and "FILLED" in finished.reason


async def test_a_modify_whose_answer_is_lost_rereads_the_order(broker, server) -> None:
    adapter, _ = broker
    first = await adapter.submit_order(limit("r1", 1.30000))
    server.fake.faults.add("lose", count=1, method="PUT")
    ack = await adapter.modify_order("r1", limit_price=1.31000)
    replacement = server.fake.find_order("@LT-op1-r1")
    assert ack.accepted and ack.broker_order_id == replacement["id"] != first.broker_order_id
    assert replacement["price"] == "1.31000"
    [working] = await adapter.open_orders(ACC)
    assert working.limit_price == pytest.approx(1.31)


async def test_instrument_spec_and_prices_sent_on_the_tick(broker, server) -> None:
    adapter, _ = broker
    spec = await adapter.instrument_spec("USD-CAD")
    assert (spec.tick_size, spec.lot_size, spec.min_quantity) == (0.00001, 1.0, 1.0)
    assert (await adapter.instrument_spec("USD-JPY")).tick_size == 0.001
    with pytest.raises(LookupError):
        await adapter.instrument_spec("XAU-CHF")
    ack = await adapter.submit_order(
        OrderRequest(
            "p1", ACC, "USD-CAD", Side.BUY, 1_000.4, OrderType.LIMIT, limit_price=1.234567891
        )
    )
    order = server.fake.orders[ack.broker_order_id]
    assert (order["price"], order["units"]) == ("1.23457", "1000")
    calls = [path for method, path in server.fake.requests if path.endswith("/instruments")]
    assert len(calls) == 3  # USD_CAD once (cached), USD_JPY, XAU_CHF


async def test_connected_only_once_fully_synced(server) -> None:
    events: list = []
    adapter = OANDABroker(
        config(server.url), on_connection_event=lambda reason, state: events.append(state)
    )
    server.fake.faults.add("5xx", count=6, method="GET", path="/pendingOrders")
    await adapter.connect()
    try:
        assert events[0] is ConnectionState.CONNECTING
        assert ConnectionState.RECONNECTING in events  # a partial sync is not CONNECTED
        assert events[-1] is ConnectionState.CONNECTED
        assert [p for m, p in server.fake.requests if p.endswith("/pendingOrders")]
        assert [p for m, p in server.fake.requests if p.endswith("/openTrades")]
    finally:
        await adapter.disconnect()


async def test_a_sync_that_keeps_failing_does_not_connect(server) -> None:
    adapter = OANDABroker(config(server.url))
    server.fake.faults.add("5xx", count=1000, method="GET", path="/openTrades")
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(adapter.connect(), 30)
    assert adapter.connection_state is ConnectionState.DISCONNECTED
