"""The OANDA adapter against a fake v20 that misbehaves as OANDA does:
429s with Retry-After, 5xx, answers that drip or are lost after the venue
processed the request, stalled feeds, a `to` in the future refused.
Each test drives one behaviour through the adapter over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from live_trading.brokers.oanda import OANDABroker, OANDAConfig
from live_trading.domain.orders import CancelOutcome, Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import BarSize, OrderType, Side
from live_trading.engine.ports import BrokerTimeout, ConnectionState, OrderOutcomeUnknown
from tests.fakes.oanda_v20 import ACCOUNT, TOKEN, FakeOANDA, FakeOANDAServer, make_candles

pytestmark = pytest.mark.timeout(60)
ACC = "op1"


@pytest.fixture
def server() -> Iterator[FakeOANDAServer]:
    srv = FakeOANDAServer(FakeOANDA()).start()
    srv.fake.set_price("USD_CAD", 1.35000, 1.35020)
    yield srv
    srv.stop()


def config(url: str, **overrides) -> OANDAConfig:
    settings = {
        "poll_interval_s": 0.05,
        "heartbeat_timeout_s": 0.5,
        "reconnect_delay_s": 0.05,
        "timeout_s": 1.0,
        "retry_backoff_s": 0.02,
        "max_retries": 3,
        "protect_attempts": 2,
        "transaction_timeout_s": 1.0,
        "clock_skew_s": 0.0,
        **overrides,
    }
    return OANDAConfig(account_id=ACCOUNT, api_key=TOKEN, base_url=url, **settings)


class Reports(list):
    async def __call__(self, report) -> None:
        self.append(report)

    async def wait(self, predicate, timeout_s: float = 10.0):
        for _ in range(int(timeout_s / 0.02)):
            found = [r for r in self if predicate(r)]
            if found:
                return found[0]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching report in {list(self)}")


@pytest.fixture
async def broker(server) -> AsyncIterator[tuple[OANDABroker, Reports]]:
    events: list = []
    adapter = OANDABroker(
        config(server.url),
        bar_poll_interval_s=0.05,
        on_connection_event=lambda reason, state: events.append(state),
    )
    adapter.events = events
    reports = Reports()
    adapter.set_listener(reports)
    await adapter.connect()
    yield adapter, reports
    await adapter.disconnect()


def fill_of(cid: str):
    return lambda r: isinstance(r, Execution) and r.client_order_id == cid


def cancel_of(cid: str):
    return lambda r: isinstance(r, OrderCancelled) and r.client_order_id == cid


def limit(
    cid: str,
    price: float,
    side: Side = Side.BUY,
    qty: float = 5_000,
    parent: str | None = None,
    kind: OrderType = OrderType.LIMIT,
) -> OrderRequest:
    return OrderRequest(
        cid,
        ACC,
        "USD-CAD",
        side,
        qty,
        kind,
        limit_price=price if kind is OrderType.LIMIT else None,
        stop_price=price if kind is OrderType.STOP else None,
        parent_client_order_id=parent,
    )


async def held_bracket(adapter: OANDABroker) -> None:
    """A LIMIT entry at 1.34 with its stop-loss and take-profit held."""
    assert (await adapter.submit_order(limit("e1", 1.34000))).accepted
    assert (
        await adapter.submit_order(
            limit("e1-sl", 1.33000, Side.SELL, parent="e1", kind=OrderType.STOP)
        )
    ).accepted
    assert (await adapter.submit_order(limit("e1-tp", 1.36000, Side.SELL, parent="e1"))).accepted


# -- defect 7: a fill is reported even when its stop-loss cannot be placed --------------


async def test_fill_reported_and_trade_closed_when_its_stop_loss_cannot_be_placed(
    broker, server
) -> None:
    adapter, reports = broker
    await held_bracket(adapter)
    server.fake.faults.add("429", count=1000, method="POST", order_type="STOP_LOSS")
    server.fake.set_price("USD_CAD", 1.33990, 1.34000)  # the entry fills
    entry = await reports.wait(fill_of("e1"))
    assert entry.quantity == 5_000
    closed = await reports.wait(fill_of("e1-sl"))  # closed at market, as its stop-loss
    assert closed.side is Side.SELL and closed.quantity == 5_000
    cancelled = await reports.wait(cancel_of("e1-tp"))
    assert "stop-loss" in cancelled.reason
    assert await adapter.account_positions() == {}
    assert await adapter.positions(ACC) == {}
    assert not [o for o in server.fake.orders.values() if o["state"] == "PENDING"]


async def test_held_children_placement_is_retried_after_429_and_503(broker, server) -> None:
    adapter, reports = broker
    await held_bracket(adapter)
    server.fake.faults.add("429", count=2, method="POST", order_type="STOP_LOSS", retry_after=0.05)
    server.fake.faults.add("5xx", count=1, method="POST", order_type="TAKE_PROFIT")
    server.fake.set_price("USD_CAD", 1.33990, 1.34000)
    await reports.wait(fill_of("e1"))
    for _ in range(250):
        pending = {o["type"] for o in server.fake.orders.values() if o["state"] == "PENDING"}
        if pending == {"STOP_LOSS", "TAKE_PROFIT"}:
            break
        await asyncio.sleep(0.02)
    assert pending == {"STOP_LOSS", "TAKE_PROFIT"}, "the trade has its stop and its target"
    assert {o.client_order_id for o in await adapter.open_orders(ACC)} == {"e1-sl", "e1-tp"}
    assert not [r for r in reports if isinstance(r, OrderCancelled)]
    assert sum(map(fill_of("e1"), reports)) == 1


# -- defect 8: candles only for closed bars -------------------------------------------------


async def test_history_up_to_a_future_end_is_not_refused(broker, server) -> None:
    adapter, _ = broker
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    server.fake.set_candles(
        "USD_CAD", "M1", make_candles(start, timedelta(minutes=1), [1.35, 1.351, 1.352])
    )
    bars = await adapter.get_historical_data(
        "USD-CAD", BarSize.MIN_1, start, datetime.now(UTC) + timedelta(hours=1)
    )
    assert [b.close for b in bars] == [1.35, 1.351, 1.352]


async def test_bar_stream_delivers_each_closed_bar_once(broker, server) -> None:
    adapter, _ = broker
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=4)
    step = timedelta(minutes=1)
    server.fake.set_candles("USD_CAD", "M1", make_candles(base, step, [1.35, 1.351]))
    got = []

    async def on_bar(asset, bar_size, bar) -> None:
        got.append(bar.time)

    await adapter.subscribe_bars("USD-CAD", BarSize.MIN_1, on_bar)
    await asyncio.sleep(0.3)
    server.fake.set_candles("USD_CAD", "M1", make_candles(base, step, [1.35, 1.351, 1.352]))
    await asyncio.sleep(0.3)
    server.fake.set_candles("USD_CAD", "M1", make_candles(base, step, [1.35, 1.351, 1.352, 1.353]))
    for _ in range(100):
        if len(got) >= 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # more polls: nothing delivered twice
    await adapter.unsubscribe_bars("USD-CAD", BarSize.MIN_1)
    assert got == [base + 2 * step, base + 3 * step]


# -- defect 9: 429 and 5xx retried ------------------------------------------------------------


async def test_a_submit_answered_429_is_retried_after_retry_after(broker, server) -> None:
    adapter, reports = broker
    server.fake.faults.add("429", count=2, method="POST", retry_after=0.1)
    ack = await adapter.submit_order(OrderRequest("m1", ACC, "USD-CAD", Side.BUY, 1_000))
    assert ack.accepted
    await reports.wait(fill_of("m1"))
    assert [k for k, *_ in server.fake.faults.injected] == ["429", "429"]
    assert sum(t["type"] == "MARKET_ORDER" for t in server.fake.transactions) == 1


async def test_a_cancel_answered_429_is_retried_and_reported(broker, server) -> None:
    adapter, reports = broker
    assert (await adapter.submit_order(limit("l1", 1.30000))).accepted
    server.fake.faults.add("429", count=2, method="PUT", path="/cancel")
    ack = await adapter.cancel_order("l1")
    assert ack.outcome is CancelOutcome.REQUESTED
    assert (await reports.wait(cancel_of("l1"))).reason == "CLIENT_REQUEST"


async def test_reads_answered_5xx_are_retried(broker, server) -> None:
    adapter, _ = broker
    assert (await adapter.submit_order(limit("l2", 1.30000))).accepted
    server.fake.faults.add("5xx", count=2, method="GET", path="/pendingOrders", status=502)
    assert [o.client_order_id for o in await adapter.open_orders(ACC)] == ["l2"]


# -- defect 10: an overall deadline -----------------------------------------------------------


async def test_a_dripping_answer_ends_at_the_deadline(broker, server) -> None:
    adapter, _ = broker
    server.fake.faults.add("drip", count=1, method="GET", path="/pendingOrders", interval_s=0.3)
    with pytest.raises(BrokerTimeout) as timeout:
        await asyncio.wait_for(adapter.open_orders(ACC), 20)
    assert timeout.value.call == "open_orders" and timeout.value.deadline_s == 1.0


async def test_a_slow_submit_does_not_stop_the_feed_for_good(broker, server) -> None:
    adapter, reports = broker
    assert (await adapter.submit_order(limit("w1", 1.34000))).accepted
    server.fake.faults.add("drip", count=1, method="POST", interval_s=0.3)
    slow = asyncio.create_task(adapter.submit_order(limit("w2", 1.30000)))
    await asyncio.sleep(0.2)
    server.fake.set_price("USD_CAD", 1.33990, 1.34000)  # w1 fills meanwhile
    ack = await asyncio.wait_for(slow, 20)
    assert ack.accepted  # settled by re-reading the order after the deadline
    assert ack.broker_order_id == server.fake.find_order(f"@LT-{ACC}-w2")["id"]
    await reports.wait(fill_of("w1"))


# -- defect 11: unknown is not rejected ---------------------------------------------------------


async def test_a_processed_post_whose_answer_is_lost_is_settled(broker, server) -> None:
    adapter, reports = broker
    server.fake.faults.add("lose", count=1, method="POST")
    ack = await adapter.submit_order(OrderRequest("u1", ACC, "USD-CAD", Side.BUY, 2_000))
    order = server.fake.find_order(f"@LT-{ACC}-u1")
    assert ack.accepted and ack.broker_order_id == order["id"]
    await reports.wait(fill_of("u1"))
    await asyncio.sleep(0.2)
    assert sum(map(fill_of("u1"), reports)) == 1
    assert sum(t["type"] == "MARKET_ORDER" for t in server.fake.transactions) == 1


async def test_a_lost_answer_not_settled_raises_outcome_unknown(broker, server) -> None:
    adapter, reports = broker
    server.fake.faults.add("lose", count=1, method="POST")
    server.fake.faults.add("5xx", count=50, method="GET", path="/orders/@")
    with pytest.raises(OrderOutcomeUnknown) as unknown:
        await adapter.submit_order(OrderRequest("u2", ACC, "USD-CAD", Side.BUY, 2_000))
    assert unknown.value.call == "submit_order" and unknown.value.client_order_id == "u2"
    server.fake.faults.clear()
    fills = await adapter.executions_since(ACC, None)  # the venue's truth settles it
    assert [f.client_order_id for f in fills] == ["u2"]
    await reports.wait(fill_of("u2"))  # and the fill is still reported


async def test_a_submit_that_never_left_is_a_connection_error(server) -> None:
    adapter = OANDABroker(config(server.url))
    await adapter.connect()
    server.stop()
    try:
        with pytest.raises(ConnectionError):
            await adapter.submit_order(OrderRequest("n1", ACC, "USD-CAD", Side.BUY, 1_000))
    finally:
        await adapter.disconnect()


# -- defect 12: watchdogs ----------------------------------------------------------------------


def test_the_price_stream_watchdog_follows_oandas_advice() -> None:
    settings = OANDAConfig(account_id=ACCOUNT, api_key=TOKEN)
    assert settings.heartbeat_timeout_s == 10.0  # OANDA heartbeats every 5 s
    assert settings.transaction_timeout_s == 20.0


async def test_a_stalled_price_stream_is_reconnected(broker, server) -> None:
    adapter, _ = broker
    seen = []

    async def consume() -> None:
        async for quote in adapter.stream_prices(["USD-CAD"]):
            seen.append(quote)

    task = asyncio.create_task(consume())
    try:
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        server.fake.stall_streams = True
        connections = server.fake.stream_connections
        for _ in range(250):
            if server.fake.stream_connections > connections:
                break
            await asyncio.sleep(0.02)
        assert server.fake.stream_connections > connections, "the silent stream was dropped"
        server.fake.stall_streams = False
        count = len(seen)
        server.fake.set_price("USD_CAD", 1.35100, 1.35120)
        for _ in range(250):
            if len(seen) > count:
                break
            await asyncio.sleep(0.02)
        assert seen[-1].bid == 1.351
    finally:
        task.cancel()


async def test_a_stalled_transaction_feed_reconnects_and_catches_up(broker, server) -> None:
    adapter, reports = broker
    assert (await adapter.submit_order(limit("t1", 1.34000))).accepted
    server.fake.faults.add(
        "drip", count=3, method="GET", path="/transactions/sinceid", interval_s=0.5
    )
    server.fake.set_price("USD_CAD", 1.33990, 1.34000)  # fills while the feed drips
    await reports.wait(fill_of("t1"), timeout_s=30)
    for _ in range(100):
        if adapter.connection_state is ConnectionState.CONNECTED:
            break
        await asyncio.sleep(0.05)
    assert ConnectionState.RECONNECTING in adapter.events
    assert adapter.events[-1] is ConnectionState.CONNECTED
    assert sum(map(fill_of("t1"), reports)) == 1
