"""The OANDA v20 adapter against a fake v20 server over real HTTP
(uvicorn on a loopback port; see ``tests/fakes/oanda_v20.py``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from live_trading.brokers.oanda import OANDABroker, OANDAConfig, parsing
from live_trading.domain.orders import CancelOutcome, Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import BarSize, OrderType, Side
from live_trading.engine.ports import Broker, ConnectionState, MarketData
from tests.fakes.oanda_v20 import (
    ACCOUNT,
    TOKEN,
    FakeOANDA,
    FakeOANDAServer,
    free_port,
    make_candles,
)

ACC = "op1"


@pytest.fixture
def server() -> Iterator[FakeOANDAServer]:
    srv = FakeOANDAServer(FakeOANDA()).start()
    srv.fake.set_price("USD_CAD", 1.35000, 1.35020)
    yield srv
    srv.stop()


class Reports:
    def __init__(self) -> None:
        self.items: list = []

    async def __call__(self, report) -> None:
        self.items.append(report)

    async def wait(self, predicate: Callable, timeout: float = 5.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for item in self.items:
                if predicate(item):
                    return item
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching report in {self.items}")


def config(url: str, token: str = TOKEN) -> OANDAConfig:
    return OANDAConfig(
        account_id=ACCOUNT,
        api_key=token,
        base_url=url,
        poll_interval_s=0.05,
        heartbeat_timeout_s=2.0,
        reconnect_delay_s=0.1,
        retry_backoff_s=0.02,
        clock_skew_s=0.0,
    )


@pytest.fixture
async def broker(server: FakeOANDAServer) -> AsyncIterator[tuple[OANDABroker, Reports]]:
    adapter = OANDABroker(config(server.url), bar_poll_interval_s=0.1)
    reports = Reports()
    adapter.set_listener(reports)
    await adapter.connect()
    yield adapter, reports
    await adapter.disconnect()


def market(
    cid: str, side: Side = Side.BUY, qty: float = 10_000, asset: str = "USD-CAD", account: str = ACC
) -> OrderRequest:
    return OrderRequest(cid, account, asset, side, qty)


# -- parsing ----------------------------------------------------------------------------


def test_parsing_round_trips() -> None:
    assert parsing.to_instrument("usd-cad") == "USD_CAD"
    assert parsing.to_asset("USD_CAD") == "USD-CAD"
    assert parsing.to_granularity(BarSize.HOUR_1) == "H1"
    assert parsing.to_bar_size("D") is BarSize.DAY_1
    moment = parsing.parse_time("2024-03-04T05:06:07.123456789Z")
    assert moment == datetime(2024, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    assert parsing.parse_time(parsing.format_time(moment)) == moment
    assert parsing.parse_time("2024-03-04T05:06:07Z").microsecond == 0
    assert parsing.price_str(1.234567) == "1.23457"
    assert parsing.units_str(Side.SELL, 10000.0) == "-10000"


# -- connection --------------------------------------------------------------------------


async def test_connect_implements_ports(broker) -> None:
    adapter, _ = broker
    assert adapter.connection_state == ConnectionState.CONNECTED
    assert isinstance(adapter, Broker)
    assert isinstance(adapter, MarketData)


async def test_bad_token_is_a_clear_connection_error(server) -> None:
    adapter = OANDABroker(config(server.url, token="wrong-token-0000000000"))
    with pytest.raises(ConnectionError, match="401"):
        await adapter.connect()
    assert adapter.connection_state == ConnectionState.DISCONNECTED


async def test_unreachable_is_a_connection_error() -> None:
    adapter = OANDABroker(config(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ConnectionError, match="unreachable"):
        await adapter.connect()


async def test_api_key_never_in_repr_or_logs(server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = config(server.url)
    adapter = OANDABroker(cfg)
    assert TOKEN not in repr(cfg) and TOKEN not in str(cfg) and TOKEN not in repr(adapter)
    await adapter.connect()
    await adapter.submit_order(market("k1"))
    await adapter.submit_order(market("k2", asset="XXX-YYY"))
    await adapter.sync()
    await adapter.disconnect()
    with pytest.raises(ConnectionError):
        await OANDABroker(config(server.url, token="bad-token-secret-123456")).connect()
    assert caplog.records, "expected some logging to inspect"
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert TOKEN not in text
        assert "bad-token-secret-123456" not in text


# -- orders --------------------------------------------------------------------------------


async def test_market_order_fills(broker, server) -> None:
    adapter, reports = broker
    ack = await adapter.submit_order(market("m1"))
    assert ack.accepted and ack.broker_order_id
    fill = await reports.wait(lambda r: isinstance(r, Execution))
    tx = next(t for t in server.fake.transactions if t["type"] == "ORDER_FILL")
    assert fill.execution_id == tx["id"]
    assert fill.client_order_id == "m1" and fill.account == ACC
    assert fill.broker_order_id == ack.broker_order_id
    assert fill.price == pytest.approx(1.35020)  # bought at the ask
    assert fill.side is Side.BUY and fill.quantity == 10_000 and fill.asset == "USD-CAD"
    assert fill.time.tzinfo is not None and fill.time.microsecond % 1000 == 0
    assert await adapter.broker_order_id("m1") == ack.broker_order_id
    # The fake's order carries our prefixed client id.
    assert server.fake.orders[ack.broker_order_id]["clientExtensions"]["id"] == f"LT-{ACC}-m1"
    await asyncio.sleep(0.2)
    assert sum(isinstance(r, Execution) for r in reports.items) == 1  # once per transaction


async def test_bracket_stop_loss_fills_and_take_profit_is_cancelled(broker, server) -> None:
    adapter, reports = broker
    assert (await adapter.submit_order(market("e1"))).accepted
    sl = await adapter.submit_order(
        OrderRequest(
            "e1-sl",
            ACC,
            "USD-CAD",
            Side.SELL,
            10_000,
            OrderType.STOP,
            stop_price=1.34500,
            parent_client_order_id="e1",
            oco_group="g1",
        )
    )
    tp = await adapter.submit_order(
        OrderRequest(
            "e1-tp",
            ACC,
            "USD-CAD",
            Side.SELL,
            10_000,
            OrderType.LIMIT,
            limit_price=1.36000,
            parent_client_order_id="e1",
            oco_group="g1",
        )
    )
    assert sl.accepted and tp.accepted, (sl, tp)
    assert server.fake.orders[sl.broker_order_id]["type"] == "STOP_LOSS"
    assert server.fake.orders[tp.broker_order_id]["type"] == "TAKE_PROFIT"
    working = {o.client_order_id: o for o in await adapter.open_orders(ACC)}
    assert set(working) == {"e1-sl", "e1-tp"}
    server.fake.set_price("USD_CAD", 1.34400, 1.34420)  # through the stop
    stop_fill = await reports.wait(
        lambda r: isinstance(r, Execution) and r.client_order_id == "e1-sl"
    )
    assert stop_fill.side is Side.SELL and stop_fill.quantity == 10_000
    assert stop_fill.price == pytest.approx(1.34400)
    cancelled = await reports.wait(
        lambda r: isinstance(r, OrderCancelled) and r.client_order_id == "e1-tp"
    )
    assert cancelled.reason == "LINKED_TRADE_CLOSED"
    assert await adapter.positions(ACC) == {}
    assert await adapter.open_orders(ACC) == []


async def test_submit_bracket_uses_on_fill_orders(broker, server) -> None:
    adapter, reports = broker
    acks = await adapter.submit_bracket(
        market("b1"),
        OrderRequest(
            "b1-sl",
            ACC,
            "USD-CAD",
            Side.SELL,
            10_000,
            OrderType.STOP,
            stop_price=1.34500,
            parent_client_order_id="b1",
        ),
        OrderRequest(
            "b1-tp",
            ACC,
            "USD-CAD",
            Side.SELL,
            10_000,
            OrderType.LIMIT,
            limit_price=1.36000,
            parent_client_order_id="b1",
        ),
    )
    assert all(a.accepted for a in acks), acks
    create = next(t for t in server.fake.transactions if t["type"] == "MARKET_ORDER")
    assert create["stopLossOnFill"]["price"] == "1.34500"
    assert create["takeProfitOnFill"]["price"] == "1.36000"
    server.fake.set_price("USD_CAD", 1.36100, 1.36120)  # through the take-profit
    tp_fill = await reports.wait(
        lambda r: isinstance(r, Execution) and r.client_order_id == "b1-tp"
    )
    assert tp_fill.price == pytest.approx(1.36000)
    await reports.wait(lambda r: isinstance(r, OrderCancelled) and r.client_order_id == "b1-sl")


async def test_limit_order_fills_when_price_moves_and_children_follow(broker, server) -> None:
    adapter, reports = broker
    ack = await adapter.submit_order(
        OrderRequest("l1", ACC, "USD-CAD", Side.BUY, 5_000, OrderType.LIMIT, limit_price=1.34000)
    )
    assert ack.accepted
    child = await adapter.submit_order(
        OrderRequest(
            "l1-sl",
            ACC,
            "USD-CAD",
            Side.SELL,
            5_000,
            OrderType.STOP,
            stop_price=1.33000,
            parent_client_order_id="l1",
        )
    )
    assert child.accepted and child.broker_order_id.startswith("on-fill-of-")
    assert {o.client_order_id for o in await adapter.open_orders(ACC)} == {"l1", "l1-sl"}
    await asyncio.sleep(0.2)
    assert not any(isinstance(r, Execution) for r in reports.items)
    server.fake.set_price("USD_CAD", 1.33990, 1.34000)
    fill = await reports.wait(lambda r: isinstance(r, Execution) and r.client_order_id == "l1")
    assert fill.price == pytest.approx(1.34000) and fill.quantity == 5_000
    for _ in range(100):  # the held stop-loss is placed on the trade
        if await adapter.broker_order_id("l1-sl") and not (
            await adapter.broker_order_id("l1-sl")
        ).startswith("on-fill"):
            break
        await asyncio.sleep(0.02)
    sl_id = await adapter.broker_order_id("l1-sl")
    assert server.fake.orders[sl_id]["type"] == "STOP_LOSS"
    assert await adapter.positions(ACC) == {"USD-CAD": 5_000}


async def test_cancel_and_modify_pending_order(broker, server) -> None:
    adapter, reports = broker
    ack = await adapter.submit_order(
        OrderRequest("s1", ACC, "USD-CAD", Side.BUY, 1_000, OrderType.STOP, stop_price=1.36000)
    )
    assert ack.accepted
    changed = await adapter.modify_order("s1", stop_price=1.37000)
    assert changed.accepted and changed.broker_order_id != ack.broker_order_id
    assert server.fake.orders[changed.broker_order_id]["price"] == "1.37000"
    [working] = await adapter.open_orders(ACC)
    assert working.stop_price == 1.37000
    await adapter.cancel_order("s1")
    cancelled = await reports.wait(lambda r: isinstance(r, OrderCancelled))
    assert cancelled.client_order_id == "s1" and cancelled.reason == "CLIENT_REQUEST"
    assert cancelled.broker_order_id == changed.broker_order_id
    await asyncio.sleep(0.2)
    assert len(reports.items) == 1  # the replacement's cancel half is not reported
    assert (await adapter.cancel_order("s1")).outcome is CancelOutcome.ALREADY_DONE
    assert (await adapter.cancel_order("unknown")).outcome is CancelOutcome.NOT_FOUND


async def test_rejected_orders_carry_oanda_reason(broker, server) -> None:
    adapter, reports = broker
    server.fake.max_units = 50_000
    big = await adapter.submit_order(market("r1", qty=100_000))
    assert not big.accepted and "INSUFFICIENT_MARGIN" in big.reason
    bad = await adapter.submit_order(market("r2", asset="XXX-YYY"))
    assert not bad.accepted and "instrument" in bad.reason.lower()
    orphan = await adapter.submit_order(
        OrderRequest(
            "r3",
            ACC,
            "USD-CAD",
            Side.SELL,
            1,
            OrderType.STOP,
            stop_price=1.3,
            parent_client_order_id="nope",
        )
    )
    assert not orphan.accepted
    await asyncio.sleep(0.2)
    assert reports.items == []  # the FOK cancel of a refused order is not reported


async def test_executions_since_and_positions_per_account(broker, server) -> None:
    adapter, _ = broker
    await adapter.submit_order(market("a1", Side.BUY, 10_000))
    await adapter.submit_order(market("a2", Side.SELL, 4_000))
    await adapter.submit_order(market("x1", Side.BUY, 7_000, account="other"))
    server.fake.set_price("EUR_USD", 1.1, 1.1002)
    await adapter.submit_order(market("a3", Side.SELL, 1_000, asset="EUR-USD"))
    fills = await adapter.executions(ACC)
    assert [f.client_order_id for f in fills] == ["a1", "a2", "a3"]
    later = await adapter.executions_since(ACC, fills[0].execution_id)
    assert [f.client_order_id for f in later] == ["a2", "a3"]
    assert await adapter.executions_since(ACC, "not-an-id") == fills
    assert await adapter.positions(ACC) == {"USD-CAD": 6_000, "EUR-USD": -1_000}
    assert await adapter.positions("other") == {"USD-CAD": 7_000}
    assert await adapter.account_positions() == {"USD-CAD": 13_000, "EUR-USD": -1_000}
    closed = await adapter.close_position("USD-CAD")
    assert closed
    assert await adapter.account_positions() == {"EUR-USD": -1_000}


# -- market data ------------------------------------------------------------------------------


async def test_candles_are_bars(broker, server) -> None:
    adapter, _ = broker
    start = datetime(2024, 1, 2, tzinfo=UTC)
    candles = make_candles(
        start, timedelta(hours=1), [1.35, 1.351, 1.352, 1.3505, 1.349], complete_last=False
    )
    server.fake.set_candles("USD_CAD", "H1", candles)
    bars = await adapter.get_historical_data(
        "USD-CAD", BarSize.HOUR_1, start, start + timedelta(hours=10)
    )
    assert len(bars) == 4  # the incomplete last candle is left out
    for bar, candle in zip(bars, candles, strict=False):
        assert bar.time == parsing.parse_time(candle["time"])
        assert (bar.open, bar.high, bar.low, bar.close) == tuple(
            float(candle["mid"][k]) for k in "ohlc"
        )
    assert bars[0].time == start
    window = await adapter.get_historical_data(
        "USD-CAD", BarSize.HOUR_1, start + timedelta(hours=1), start + timedelta(hours=3)
    )
    assert [b.time.hour for b in window] == [1, 2]


async def test_quote(broker) -> None:
    adapter, _ = broker
    quote = await adapter.get_market_quote("USD-CAD")
    assert (quote.asset, quote.bid, quote.ask) == ("USD-CAD", 1.35, 1.3502)
    assert quote.time.tzinfo is not None


async def test_streaming_prices(broker, server) -> None:
    adapter, _ = broker
    seen = []

    async def consume() -> None:
        async for quote in adapter.stream_prices(["USD-CAD"]):
            seen.append(quote)
            if len(seen) >= 3:
                return

    task = asyncio.create_task(consume())
    for step in range(1, 40):
        if task.done():
            break
        await asyncio.sleep(0.1)
        server.fake.set_price("USD_CAD", 1.35 + step / 10_000, 1.3502 + step / 10_000)
    await asyncio.wait_for(task, 5)
    assert len(seen) == 3
    assert all(q.asset == "USD-CAD" and q.ask > q.bid for q in seen)
    assert seen[0].bid < seen[-1].bid  # distinct PRICE messages, heartbeats skipped


async def test_stream_unknown_instrument_raises(broker) -> None:
    adapter, _ = broker
    with pytest.raises(ConnectionError, match="400"):
        async for _ in adapter.stream_prices(["XXX-YYY"]):
            break


async def test_subscribe_bars_delivers_new_closed_candles(broker, server) -> None:
    adapter, _ = broker
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    base = now - timedelta(minutes=3)
    server.fake.set_candles(
        "USD_CAD", "M1", make_candles(base, timedelta(minutes=1), [1.35, 1.351])
    )
    got = []

    async def on_bar(asset, bar_size, bar) -> None:
        got.append((asset, bar_size, bar))

    await adapter.subscribe_bars("USD-CAD", BarSize.MIN_1, on_bar)
    await asyncio.sleep(0.3)
    assert got == []  # candles closed before subscribing are not delivered
    server.fake.set_candles(
        "USD_CAD", "M1", make_candles(base, timedelta(minutes=1), [1.35, 1.351, 1.352])
    )
    for _ in range(50):
        if got:
            break
        await asyncio.sleep(0.05)
    await adapter.unsubscribe_bars("USD-CAD", BarSize.MIN_1)
    assert len(got) == 1
    assert got[0][2].time == base + timedelta(minutes=2) and got[0][2].close == 1.352
