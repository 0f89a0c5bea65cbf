"""The IBKR adapter through the real ib_async client against a fake TWS
speaking the TWS socket protocol (tests/fakes/tws_server.py)."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig
from live_trading.domain.orders import CommissionReport, Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import OrderType, Side
from live_trading.engine.ports import Broker, ConnectionState
from tests.fakes.tws_server import FakeTWS

pytestmark = pytest.mark.timeout(60)

OP = "op1"


def req(
    seq: int,
    qty: float = 10_000,
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.MARKET,
    limit: float | None = None,
    account: str = OP,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=f"LT-{account}-{seq}",
        account=account,
        asset="USD-CAD",
        side=side,
        quantity=qty,
        order_type=order_type,
        limit_price=limit,
    )


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class Reports(list):
    """Fills and cancellations in order; CommissionReports kept apart in
    ``commissions`` (they follow their fill)."""

    def __init__(self) -> None:
        super().__init__()
        self.commissions: list[CommissionReport] = []

    def add(self, report) -> None:
        if isinstance(report, CommissionReport):
            assert any(
                isinstance(r, Execution) and r.execution_id == report.execution_id for r in self
            ), "a CommissionReport came before its fill"
            self.commissions.append(report)
        else:
            self.append(report)


@pytest.fixture
async def setup():
    fake = FakeTWS()
    port = await fake.start()
    events: list[tuple[str, ConnectionState]] = []
    broker = IBKRBroker(
        IBKRConfig(
            port=port,
            client_id=7,
            connect_timeout_s=5,
            reconnect_backoff_s=(0.05, 0.1, 0.2),
        ),
        on_connection_event=lambda reason, state: events.append((reason, state)),
    )
    reports = Reports()

    async def listener(report) -> None:
        reports.add(report)

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
    assert fill.commission == 0.0  # reported at once; the commission follows
    await wait_for(lambda: len(reports.commissions) == 1)
    [commission] = reports.commissions
    assert (commission.execution_id, commission.client_order_id, commission.commission) == (
        fill.execution_id,
        "LT-op1-1",
        pytest.approx(2.0),
    )
    [known] = await broker.executions(OP)
    assert known.commission == pytest.approx(2.0)
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
    assert fake.next_valid_id_sent[-1] <= old_id  # the gateway rolled its ids back...
    assert new.order_id > old_id  # ...the adapter never reuses one
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
        assert [e.execution_id for e in await fresh.executions(OP)] == [fake.executions[0].exec_id]
        assert await fresh.positions(OP) == {"USD-CAD": 10_000}
        await asyncio.sleep(0.2)
        assert got == []  # known fills are recorded, not re-delivered
    finally:
        await fresh.disconnect()


def test_config_validation_and_contract_mapping():
    from live_trading.brokers.ibkr import IBKRContractSpec
    from live_trading.brokers.ibkr.parsing import asset_to_contract, request_to_order

    assert IBKRConfig().port == 7497 and IBKRConfig(port=7496).is_live_port
    for bad in (
        {"port": 0},
        {"client_id": -1},
        {"account": " "},
        {"reconnect_backoff_s": ()},
        {"connect_timeout_s": 0},
    ):
        with pytest.raises(ValueError):
            IBKRConfig(**bad)
    fx = asset_to_contract("USD-CAD")
    assert (fx.symbol, fx.secType, fx.exchange, fx.currency) == ("USD", "CASH", "IDEALPRO", "CAD")
    stock = asset_to_contract(
        "AAPL-USD", {"AAPL-USD": IBKRContractSpec("AAPL", "STK", "SMART", "USD")}
    )
    assert (stock.symbol, stock.secType, stock.exchange) == ("AAPL", "STK", "SMART")
    with pytest.raises(ValueError):
        asset_to_contract("AAPL-USD")
    order = request_to_order(
        req(1, order_type=OrderType.STOP).__class__(
            "LT-op1-1", OP, "USD-CAD", Side.SELL, 5, OrderType.STOP, stop_price=1.2
        ),
        "DU1",
    )
    assert (order.orderType, order.auxPrice, order.orderRef, order.account) == (
        "STP",
        1.2,
        "LT-op1-1",
        "DU1",
    )


# ------------------------------------------------------------------ brackets
def child(
    seq: int, kind: str, side: Side, order_type: OrderType, price: float, account: str = OP
) -> OrderRequest:
    parent = f"LT-{account}-{seq}"
    return OrderRequest(
        client_order_id=f"{parent}-{kind}",
        account=account,
        asset="USD-CAD",
        side=side,
        quantity=10_000,
        order_type=order_type,
        limit_price=price if order_type is OrderType.LIMIT else None,
        stop_price=price if order_type is OrderType.STOP else None,
        parent_client_order_id=parent,
        oco_group=f"OCO-{parent}",
    )


async def test_bracket_children_are_held_until_the_parent_fills(setup):
    fake, broker, reports, _ = setup
    fake.default_behaviour = "rest"
    assert (await broker.submit_order(req(20, order_type=OrderType.LIMIT, limit=1.30))).accepted
    assert (await broker.submit_order(child(20, "SL", Side.SELL, OrderType.STOP, 1.29))).accepted
    assert (await broker.submit_order(child(20, "TP", Side.SELL, OrderType.LIMIT, 1.32))).accepted
    parent, sl, tp = fake.orders
    assert sl.parent_id == tp.parent_id == parent.order_id  # IB parentId, not a copy
    assert sl.oca_group == tp.oca_group == "OCO-LT-op1-20"
    fake.trade_at(1.33)  # above the TP: must not fill a child of an unfilled parent
    await asyncio.sleep(0.2)
    assert reports == [] and fake.held(tp)
    working = {o.client_order_id: o for o in await broker.open_orders(OP)}
    assert working["LT-op1-20-TP"].parent_client_order_id == "LT-op1-20"
    fake.trade_at(1.30)  # parent fills, children become active
    await wait_for(lambda: len(reports) == 1)
    fake.trade_at(1.32)  # TP fills, the OCA group cancels the SL
    await wait_for(lambda: len(reports) == 3)
    assert [(type(r).__name__, r.client_order_id) for r in reports] == [
        ("Execution", "LT-op1-20"),
        ("Execution", "LT-op1-20-TP"),
        ("OrderCancelled", "LT-op1-20-SL"),
    ]
    assert reports[1].account == OP  # "-TP" is not part of the operation id
    assert await broker.positions(OP) == {}


async def test_cancelling_a_parent_cancels_its_children(setup):
    fake, broker, reports, _ = setup
    fake.default_behaviour = "rest"
    assert (await broker.submit_order(req(21, order_type=OrderType.LIMIT, limit=1.30))).accepted
    assert (await broker.submit_order(child(21, "SL", Side.SELL, OrderType.STOP, 1.29))).accepted
    assert (await broker.submit_order(child(21, "TP", Side.SELL, OrderType.LIMIT, 1.32))).accepted
    await broker.cancel_order("LT-op1-21")
    await wait_for(lambda: len(reports) == 3)
    assert {r.client_order_id for r in reports if isinstance(r, OrderCancelled)} == {
        "LT-op1-21",
        "LT-op1-21-SL",
        "LT-op1-21-TP",
    }
    assert await broker.open_orders(OP) == []


async def test_bracket_child_of_filled_or_unknown_parent(setup):
    fake, broker, reports, _ = setup
    assert (await broker.submit_order(req(22))).accepted  # market: fills at once
    await wait_for(lambda: len(reports) == 1)
    ack = await broker.submit_order(child(22, "SL", Side.SELL, OrderType.STOP, 1.30))
    assert ack.accepted and fake.orders[-1].parent_id == 0  # works on its own
    refused = await broker.submit_order(child(99, "SL", Side.SELL, OrderType.STOP, 1.30))
    assert not refused.accepted and "unknown parent" in refused.reason
    fake.behaviour["LT-op1-23"] = "reject"
    assert not (await broker.submit_order(req(23))).accepted
    refused = await broker.submit_order(child(23, "SL", Side.SELL, OrderType.STOP, 1.30))
    assert not refused.accepted and "Inactive" in refused.reason


async def test_modify_waits_for_ib_echo_and_reports_errors(setup):
    fake, broker, _reports, _ = setup
    fake.behaviour["LT-op1-24"] = "rest"
    assert (await broker.submit_order(req(24, order_type=OrderType.LIMIT, limit=1.30))).accepted
    ack = await broker.modify_order("LT-op1-24", limit_price=1.31, quantity=20_000)
    assert ack.accepted
    assert fake.orders[0].lmt_price == "1.31" and fake.orders[0].quantity == 20_000
    fake.orders[0].status = "Filled"  # IB no longer knows it as working: error 103/10147
    original = fake._place_order

    def refuse(conn, f):
        fake._send(
            conn, 4, 2, int(f[1]), 10147, "OrderId 1 that needs to be modified is not found.", ""
        )

    fake._place_order = refuse
    try:
        ack = await broker.modify_order("LT-op1-24", limit_price=1.32)
    finally:
        fake._place_order = original
    assert not ack.accepted and "10147" in ack.reason
