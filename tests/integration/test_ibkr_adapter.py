"""The IBKR adapter through the real ib_async client against a fake TWS
speaking the TWS socket protocol (tests/fakes/tws_server.py)."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig
from live_trading.domain.orders import Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import OrderType, Side
from live_trading.engine.ports import Broker, ConnectionState
from tests.fakes.tws_server import FakeTWS

pytestmark = pytest.mark.timeout(60)

OP = "op1"


def req(seq: int, qty: float = 10_000, side: Side = Side.BUY,
        order_type: OrderType = OrderType.MARKET, limit: float | None = None,
        account: str = OP) -> OrderRequest:
    return OrderRequest(client_order_id=f"LT-{account}-{seq}", account=account,
                        asset="USD-CAD", side=side, quantity=qty, order_type=order_type,
                        limit_price=limit)


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def setup():
    fake = FakeTWS()
    port = await fake.start()
    events: list[tuple[str, ConnectionState]] = []
    broker = IBKRBroker(
        IBKRConfig(port=port, client_id=7, connect_timeout_s=5,
                   reconnect_backoff_s=(0.05, 0.1, 0.2), commission_wait_s=0.5),
        on_connection_event=lambda reason, state: events.append((reason, state)))
    reports: list = []

    async def listener(report) -> None:
        reports.append(report)

    broker.set_listener(listener)
    await broker.connect()
    yield fake, broker, reports, events
    await broker.disconnect()
    await fake.stop()


async def test_connects_and_implements_broker(setup):
    fake, broker, _reports, events = setup
    assert isinstance(broker, Broker)
    assert broker.connection_state is ConnectionState.CONNECTED
    assert [s for _, s in events] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    sent = {int(f[0]) for f in fake.received}
    assert {71, 61, 5, 7} <= sent  # startApi, positions, open orders, executions
    assert fake.unhandled == []


async def test_market_order_fills_once_with_commission(setup):
    fake, broker, reports, _ = setup
    ack = await broker.submit_order(req(1))
    assert ack.accepted and ack.broker_order_id == str(fake.orders[0].perm_id)
    await wait_for(lambda: len(reports) == 1)
    await asyncio.sleep(0.2)
    [fill] = reports
    assert isinstance(fill, Execution)
    assert fill.execution_id == fake.executions[0].exec_id
    assert fill.client_order_id == "LT-op1-1" and fill.account == OP
    assert fill.quantity == 10_000 and fill.price == pytest.approx(1.365)
    assert fill.commission == pytest.approx(2.0)
    assert fill.asset == "USD-CAD" and fill.side is Side.BUY
    assert fill.time.utcoffset().total_seconds() == 0
    assert abs((fill.time - fake.executions[0].time).total_seconds()) < 1
    assert fake.orders[0].order_ref == "LT-op1-1"  # our id travels in orderRef
    assert await broker.positions(OP) == {"USD-CAD": 10_000}
    assert await broker.account_positions() == {"USD-CAD": 10_000}


async def test_partial_fills_sum_to_quantity(setup):
    fake, broker, reports, _ = setup
    fake.behaviour["LT-op1-2"] = "partial"
    ack = await broker.submit_order(req(2, qty=25_000, side=Side.SELL))
    assert ack.accepted
    await wait_for(lambda: len(reports) == 2)
    assert all(isinstance(r, Execution) for r in reports)
    assert len({r.execution_id for r in reports}) == 2
    assert sum(r.quantity for r in reports) == pytest.approx(25_000)
    assert await broker.positions(OP) == {"USD-CAD": pytest.approx(-25_000)}


async def test_rejected_order_is_refused_with_reason(setup):
    fake, broker, reports, _ = setup
    fake.behaviour["LT-op1-3"] = "reject"
    ack = await broker.submit_order(req(3))
    assert not ack.accepted
    assert "Insufficient margin" in ack.reason
    await asyncio.sleep(0.2)
    assert reports == []  # no duplicate OrderCancelled for a refused order


async def test_cancel_working_order_reports_cancelled(setup):
    fake, broker, reports, _ = setup
    fake.behaviour["LT-op1-4"] = "rest"
    assert (await broker.submit_order(req(4, order_type=OrderType.LIMIT, limit=1.30))).accepted
    [working] = await broker.open_orders(OP)
    assert working.client_order_id == "LT-op1-4" and working.limit_price == 1.30
    await broker.cancel_order("LT-op1-4")
    await wait_for(lambda: len(reports) == 1)
    assert isinstance(reports[0], OrderCancelled) and reports[0].client_order_id == "LT-op1-4"
    assert await broker.open_orders(OP) == []


async def test_fill_during_disconnect_delivered_once_after_reconnect(setup):
    fake, broker, reports, events = setup
    assert (await broker.submit_order(req(5))).accepted  # fills live
    fake.behaviour["LT-op1-6"] = "rest"
    assert (await broker.submit_order(req(6, order_type=OrderType.LIMIT, limit=1.30))).accepted
    await wait_for(lambda: len(reports) == 1)
    await fake.outage()
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    with pytest.raises(ConnectionError):
        await broker.submit_order(req(7))
    offline = fake.fill("LT-op1-6")  # fills while we are away
    await asyncio.sleep(0.3)  # a few failed reconnection attempts
    await fake.resume()
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    await wait_for(lambda: len(reports) == 2)
    await asyncio.sleep(0.3)
    assert [r.execution_id for r in reports] == [fake.executions[0].exec_id, offline.exec_id]
    assert reports[1].client_order_id == "LT-op1-6" and reports[1].commission == 2.0
    states = [s for _, s in events]
    assert states[:2] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    assert ConnectionState.RECONNECTING in states and states[-1] is ConnectionState.CONNECTED
    assert any("failed" in reason for reason, _ in events)
    assert await broker.positions(OP) == {"USD-CAD": 20_000}
    ids = [e.execution_id for e in await broker.executions(OP)]
    assert ids == [fake.executions[0].exec_id, offline.exec_id]
    assert await broker.executions_since(OP, ids[0]) == [reports[1]]


async def test_order_id_rollback_after_gateway_restart(setup):
    fake, broker, reports, _events = setup
    assert (await broker.submit_order(req(8))).accepted
    await wait_for(lambda: len(reports) == 1)
    old_id = fake.orders[0].order_id
    old_broker_id = await broker.broker_order_id("LT-op1-8")
    await fake.restart(roll_back_ids=True)
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    fake.behaviour["LT-op1-9"] = "rest"
    ack = await broker.submit_order(req(9, order_type=OrderType.LIMIT, limit=1.30))
    assert ack.accepted
    new = fake.orders[1]
    assert new.order_id == old_id  # IB handed out the same orderId again
    assert ack.broker_order_id == str(new.perm_id) != old_broker_id
    assert await broker.broker_order_id("LT-op1-8") == old_broker_id
    assert await broker.broker_order_id("LT-op1-9") == str(new.perm_id)
    [working] = await broker.open_orders(OP)
    assert working.client_order_id == "LT-op1-9"
    await asyncio.sleep(0.2)
    assert len(reports) == 1  # the old fill, replayed by reqExecutions, not re-delivered
    fake.fill("LT-op1-9")
    await wait_for(lambda: len(reports) == 2)
    assert reports[1].client_order_id == "LT-op1-9"
    assert await broker.positions(OP) == {"USD-CAD": 20_000}


async def test_positions_are_per_operation(setup):
    _fake, broker, reports, _ = setup
    assert (await broker.submit_order(req(1, account="opA"))).accepted
    assert (await broker.submit_order(req(1, qty=3_000, side=Side.SELL, account="opB"))).accepted
    await wait_for(lambda: len(reports) == 2)
    assert await broker.positions("opA") == {"USD-CAD": 10_000}
    assert await broker.positions("opB") == {"USD-CAD": -3_000}
    assert await broker.account_positions() == {"USD-CAD": 7_000}


async def test_restarted_adapter_finds_orders_by_order_ref(setup):
    fake, broker, reports, _ = setup
    fake.behaviour["LT-op1-10"] = "rest"
    assert (await broker.submit_order(req(10, order_type=OrderType.LIMIT, limit=1.3))).accepted
    assert (await broker.submit_order(req(11))).accepted
    await wait_for(lambda: len(reports) == 1)
    await broker.disconnect()
    fresh = IBKRBroker(IBKRConfig(port=fake.port, client_id=7, connect_timeout_s=5))
    got: list = []

    async def listener(report) -> None:
        got.append(report)

    fresh.set_listener(listener)
    await fresh.connect()
    try:
        assert [o.client_order_id for o in await fresh.open_orders(OP)] == ["LT-op1-10"]
        assert await fresh.broker_order_id("LT-op1-10") == str(fake.orders[0].perm_id)
        assert [e.execution_id for e in await fresh.executions(OP)] == [
            fake.executions[0].exec_id]
        assert await fresh.positions(OP) == {"USD-CAD": 10_000}
        await asyncio.sleep(0.2)
        assert got == []  # known fills are recorded, not re-delivered
    finally:
        await fresh.disconnect()


def test_config_validation_and_contract_mapping():
    from live_trading.brokers.ibkr import IBKRContractSpec
    from live_trading.brokers.ibkr.parsing import asset_to_contract, request_to_order

    assert IBKRConfig().port == 7497 and IBKRConfig(port=7496).is_live_port
    for bad in ({"port": 0}, {"client_id": -1}, {"account": " "},
                {"reconnect_backoff_s": ()}, {"connect_timeout_s": 0}):
        with pytest.raises(ValueError):
            IBKRConfig(**bad)
    fx = asset_to_contract("USD-CAD")
    assert (fx.symbol, fx.secType, fx.exchange, fx.currency) == ("USD", "CASH", "IDEALPRO", "CAD")
    stock = asset_to_contract("AAPL-USD", {"AAPL-USD": IBKRContractSpec("AAPL", "STK", "SMART",
                                                                        "USD")})
    assert (stock.symbol, stock.secType, stock.exchange) == ("AAPL", "STK", "SMART")
    with pytest.raises(ValueError):
        asset_to_contract("AAPL-USD")
    order = request_to_order(req(1, order_type=OrderType.STOP).__class__(
        "LT-op1-1", OP, "USD-CAD", Side.SELL, 5, OrderType.STOP, stop_price=1.2), "DU1")
    assert (order.orderType, order.auxPrice, order.orderRef, order.account) == (
        "STP", 1.2, "LT-op1-1", "DU1")
