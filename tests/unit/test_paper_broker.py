"""Behaviour of the built-in paper broker (fills, brackets, OCO, accounts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from live_trading.brokers.paper import (
    InMemoryPaperStore,
    PaperBroker,
    PaperBrokerConfig,
    PaperChanges,
)
from live_trading.domain.orders import Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import Bar, OrderType, Side
from live_trading.engine.ports import Broker, SimulatedMarket

ASSET = "USD-CAD"


def on_tick(price: float) -> float:
    """``price`` on the default FX tick (0.00001), half to even."""
    return float(Decimal(repr(price)).quantize(Decimal("0.00001"), ROUND_HALF_EVEN))


ACC = "op-1"
T0 = datetime(2024, 1, 2, 10, tzinfo=UTC)
HS = 0.5  # default half-spread, bps
CFG = PaperBrokerConfig()


def bar(i: int, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar(time=T0 + timedelta(hours=i), open=o, high=h, low=lo, close=c)


def order(cid: str, side: Side = Side.BUY, qty: float = 1000.0, **kw) -> OrderRequest:
    kw.setdefault("account", ACC)
    kw.setdefault("asset", ASSET)
    return OrderRequest(client_order_id=cid, side=side, quantity=qty, **kw)


def stop(cid: str, side: Side, price: float, **kw) -> OrderRequest:
    return order(cid, side, order_type=OrderType.STOP, stop_price=price, **kw)


def limit(cid: str, side: Side, price: float, **kw) -> OrderRequest:
    return order(cid, side, order_type=OrderType.LIMIT, limit_price=price, **kw)


class Recorder:
    def __init__(self) -> None:
        self.reports: list = []

    async def __call__(self, report) -> None:
        self.reports.append(report)

    def fills(self) -> list[Execution]:
        return [r for r in self.reports if isinstance(r, Execution)]

    def cancels(self) -> list[OrderCancelled]:
        return [r for r in self.reports if isinstance(r, OrderCancelled)]


async def make(config: PaperBrokerConfig = CFG) -> tuple[PaperBroker, Recorder]:
    broker = PaperBroker(config)
    rec = Recorder()
    broker.set_listener(rec)
    await broker.connect()
    return broker, rec


async def submit_ok(broker: PaperBroker, request: OrderRequest) -> str:
    ack = await broker.submit_order(request)
    assert ack.accepted, ack.reason
    assert ack.client_order_id == request.client_order_id
    return ack.broker_order_id


async def long_bracket(broker: PaperBroker, sl: float, tp: float) -> None:
    await submit_ok(broker, order("e"))
    await submit_ok(broker, stop("sl", Side.SELL, sl, parent_client_order_id="e", oco_group="g"))
    await submit_ok(broker, limit("tp", Side.SELL, tp, parent_client_order_id="e", oco_group="g"))


# -- protocols, config, connection ---------------------------------------------


async def test_implements_ports_and_connects() -> None:
    broker = PaperBroker()
    assert isinstance(broker, Broker)
    assert isinstance(broker, SimulatedMarket)
    assert broker.name == "paper"
    assert not broker.connected
    await broker.connect()
    assert broker.connected
    await broker.disconnect()
    assert not broker.connected


@pytest.mark.parametrize(
    "kw",
    [
        {"half_spread_bps": -0.1},
        {"slippage_bps": -1},
        {"commission_bps": -0.2},
        {"commission_minimum": -1.0},
        {"slippage_bps": float("nan")},
    ],
)
def test_config_rejects_negative(kw: dict) -> None:
    with pytest.raises(ValueError):
        PaperBrokerConfig(**kw)


# -- market orders --------------------------------------------------------------


async def test_market_buy_fills_at_next_open_plus_half_spread() -> None:
    broker, rec = await make()
    await broker.on_bar(ACC, ASSET, bar(0, 1.3900, 1.3950, 1.3850, 1.3920))
    bid = await submit_ok(broker, order("b1", Side.BUY, 1000))
    assert rec.reports == []  # not filled at submission
    await broker.on_bar(ACC, ASSET, bar(1, 1.4000, 1.4100, 1.3900, 1.4050))
    (fill,) = rec.fills()
    expected = on_tick(1.4000 * (1 + HS / 1e4))
    assert fill.price == pytest.approx(expected, rel=1e-12)
    assert fill.quantity == 1000 and fill.side is Side.BUY
    assert fill.client_order_id == "b1" and fill.broker_order_id == bid
    assert fill.account == ACC and fill.asset == ASSET
    assert fill.time == T0 + timedelta(hours=1)
    assert fill.commission == pytest.approx(1000 * expected * 0.2 / 1e4)
    assert await broker.open_orders(ACC) == []
    assert await broker.executions(ACC) == [fill]


async def test_market_sell_receives_open_minus_spread_and_slippage() -> None:
    cfg = PaperBrokerConfig(half_spread_bps=1.0, slippage_bps=2.0)
    broker, rec = await make(cfg)
    await submit_ok(broker, order("s1", Side.SELL, 500))
    await broker.on_bar(ACC, ASSET, bar(0, 1.3500, 1.3600, 1.3400, 1.3550))
    (fill,) = rec.fills()
    assert fill.side is Side.SELL
    assert fill.price == on_tick(1.3500 * (1 - (1.0 + 2.0) / 1e4)) == 1.3496


async def test_commission_minimum_applies_to_small_fills() -> None:
    cfg = PaperBrokerConfig(commission_bps=0.2, commission_minimum=2.0)
    broker, rec = await make(cfg)
    await submit_ok(broker, order("small", qty=1000))
    await submit_ok(broker, order("big", qty=1_000_000))
    await broker.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4100, 1.3900, 1.4050))
    small, big = rec.fills()
    price = 1.4000 * (1 + HS / 1e4)
    assert small.commission == pytest.approx(2.0)  # 1000 * 1.4 * 0.2 bp = 0.028 < 2
    assert big.commission == pytest.approx(1_000_000 * price * 0.2 / 1e4)  # 28.0 > 2


# -- brackets and OCO ------------------------------------------------------------


async def test_bracket_entry_then_take_profit_cancels_stop_loss() -> None:
    broker, rec = await make()
    await long_bracket(broker, sl=1.3900, tp=1.4100)
    await broker.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4050, 1.3950, 1.4020))
    (entry,) = rec.fills()
    assert entry.client_order_id == "e"
    assert entry.price == pytest.approx(on_tick(1.4000 * (1 + HS / 1e4)))
    assert [o.client_order_id for o in await broker.open_orders(ACC)] == ["sl", "tp"]

    await broker.on_bar(ACC, ASSET, bar(1, 1.4030, 1.4150, 1.4000, 1.4120))
    assert len(rec.reports) == 3
    tp_fill, sl_cancel = rec.reports[1:]
    assert isinstance(tp_fill, Execution) and tp_fill.client_order_id == "tp"
    assert tp_fill.price == pytest.approx(1.4100)  # limit, no spread or slippage
    assert tp_fill.side is Side.SELL
    assert isinstance(sl_cancel, OrderCancelled)
    assert sl_cancel.client_order_id == "sl" and sl_cancel.reason == "OCO"
    assert await broker.open_orders(ACC) == []
    assert await broker.positions(ACC) == {}


async def test_same_bar_stop_and_target_touched_stop_wins() -> None:
    broker, rec = await make()
    await long_bracket(broker, sl=1.3900, tp=1.4100)
    await broker.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4010, 1.3990, 1.4000))
    await broker.on_bar(ACC, ASSET, bar(1, 1.4000, 1.4200, 1.3800, 1.4000))
    fills = rec.fills()
    assert [f.client_order_id for f in fills] == ["e", "sl"]
    assert fills[1].price == pytest.approx(1.3900)
    assert [(c.client_order_id, c.reason) for c in rec.cancels()] == [("tp", "OCO")]


async def test_children_fill_in_the_entry_bar_when_touched() -> None:
    broker, rec = await make()
    await long_bracket(broker, sl=1.3900, tp=1.4100)
    await broker.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4120, 1.3950, 1.4100))
    assert [f.client_order_id for f in rec.fills()] == ["e", "tp"]
    assert [(c.client_order_id, c.reason) for c in rec.cancels()] == [("sl", "OCO")]


async def test_children_inactive_until_parent_fills() -> None:
    broker, rec = await make()
    await submit_ok(broker, limit("e", Side.BUY, 1.3800))
    await submit_ok(
        broker, stop("sl", Side.SELL, 1.3700, parent_client_order_id="e", oco_group="g")
    )
    await submit_ok(
        broker, limit("tp", Side.SELL, 1.4000, parent_client_order_id="e", oco_group="g")
    )
    # Touches both children's prices, but the entry limit is not reached.
    await broker.on_bar(ACC, ASSET, bar(0, 1.3900, 1.4100, 1.3810, 1.3900))
    assert rec.reports == []
    assert len(await broker.open_orders(ACC)) == 3
    await broker.on_bar(ACC, ASSET, bar(1, 1.3850, 1.3870, 1.3790, 1.3820))
    assert [f.client_order_id for f in rec.fills()] == ["e"]
    assert rec.fills()[0].price == pytest.approx(1.3800)
    await broker.on_bar(ACC, ASSET, bar(2, 1.3900, 1.4050, 1.3850, 1.4000))
    assert [f.client_order_id for f in rec.fills()] == ["e", "tp"]


async def test_children_of_a_limit_entry_start_on_the_next_bar() -> None:
    broker, rec = await make()
    await submit_ok(broker, limit("e", Side.BUY, 1.3800))
    await submit_ok(broker, stop("sl", Side.SELL, 1.3750, parent_client_order_id="e"))
    # The entry limit fills inside this bar; the bar also reaches the stop, but
    # whether before or after the entry is unknown: the child starts next bar.
    await broker.on_bar(ACC, ASSET, bar(0, 1.3900, 1.3900, 1.3700, 1.3800))
    assert [f.client_order_id for f in rec.fills()] == ["e"]
    await broker.on_bar(ACC, ASSET, bar(1, 1.3800, 1.3810, 1.3740, 1.3760))
    assert [f.client_order_id for f in rec.fills()] == ["e", "sl"]
    assert await broker.positions(ACC) == {}


# -- gaps ------------------------------------------------------------------------


async def test_gap_through_stop_fills_at_open_plus_slippage() -> None:
    cfg = PaperBrokerConfig(slippage_bps=1.0)
    broker, rec = await make(cfg)
    await submit_ok(broker, stop("sl", Side.SELL, 1.3900))
    await submit_ok(broker, stop("bs", Side.BUY, 1.4100, account="op-2"))
    await broker.on_bar(ACC, ASSET, bar(0, 1.3800, 1.3850, 1.3750, 1.3800))
    await broker.on_bar("op-2", ASSET, bar(0, 1.4200, 1.4250, 1.4150, 1.4200))
    sell, buy = rec.fills()
    assert sell.price == pytest.approx(on_tick(1.3800 * (1 - 1.0 / 1e4)))
    assert buy.price == pytest.approx(on_tick(1.4200 * (1 + 1.0 / 1e4)))


async def test_stop_without_gap_fills_at_stop_plus_slippage() -> None:
    cfg = PaperBrokerConfig(slippage_bps=1.0)
    broker, rec = await make(cfg)
    await submit_ok(broker, stop("sl", Side.SELL, 1.3900))
    await broker.on_bar(ACC, ASSET, bar(0, 1.3950, 1.3960, 1.3890, 1.3900))
    (fill,) = rec.fills()
    assert fill.price == pytest.approx(on_tick(1.3900 * (1 - 1.0 / 1e4)))


async def test_gap_through_limit_fills_at_better_open() -> None:
    cfg = PaperBrokerConfig(slippage_bps=3.0)  # never applied to limits
    broker, rec = await make(cfg)
    await submit_ok(broker, limit("tp", Side.SELL, 1.4100))
    await submit_ok(broker, limit("bl", Side.BUY, 1.3800, account="op-2"))
    await broker.on_bar(ACC, ASSET, bar(0, 1.4200, 1.4250, 1.4150, 1.4200))
    await broker.on_bar("op-2", ASSET, bar(0, 1.3700, 1.3750, 1.3650, 1.3700))
    sell, buy = rec.fills()
    assert sell.price == pytest.approx(1.4200)
    assert buy.price == pytest.approx(1.3700)


async def test_untouched_stop_and_limit_keep_working() -> None:
    broker, rec = await make()
    await submit_ok(broker, stop("s", Side.SELL, 1.3900))
    await submit_ok(broker, limit("l", Side.SELL, 1.4100))
    await broker.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4099, 1.3901, 1.4000))
    assert rec.reports == []
    assert len(await broker.open_orders(ACC)) == 2


# -- rejections and cancellation ---------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (order("z", qty=0), "quantity"),
        (order("n", qty=float("nan")), "quantity"),
        (order("neg", qty=-5), "quantity"),
        (order("s", order_type=OrderType.STOP), "stop_price"),
        (order("l", order_type=OrderType.LIMIT, limit_price=0.0), "limit_price"),
        (stop("c", Side.SELL, 1.39, parent_client_order_id="nope"), "unknown parent"),
    ],
)
async def test_rejections(request_: OrderRequest, fragment: str) -> None:
    broker, rec = await make()
    ack = await broker.submit_order(request_)
    assert not ack.accepted and ack.broker_order_id is None
    assert fragment in ack.reason
    assert await broker.open_orders(ACC) == []


async def test_duplicate_client_id_and_foreign_parent_rejected() -> None:
    broker, _ = await make()
    await submit_ok(broker, order("a"))
    dup = await broker.submit_order(order("a", Side.SELL))
    assert not dup.accepted and "duplicate" in dup.reason
    foreign = await broker.submit_order(
        stop("c", Side.SELL, 1.39, account="op-2", parent_client_order_id="a")
    )
    assert not foreign.accepted and "unknown parent" in foreign.reason
    assert [o.side for o in await broker.open_orders(ACC)] == [Side.BUY]


async def test_cancel_working_order_reports_and_ignores_unknown() -> None:
    broker, rec = await make()
    bid = await submit_ok(broker, limit("l", Side.BUY, 1.3000))
    await broker.cancel_order("l")
    (cancel,) = rec.reports
    assert isinstance(cancel, OrderCancelled)
    assert (cancel.client_order_id, cancel.broker_order_id) == ("l", bid)
    assert cancel.reason == "cancelled by request"
    await broker.cancel_order("l")  # finished: ignored
    await broker.cancel_order("never-seen")
    assert len(rec.reports) == 1
    await broker.on_bar(ACC, ASSET, bar(0, 1.3000, 1.3000, 1.2000, 1.2500))
    assert rec.fills() == []


async def test_cancel_unfilled_parent_cancels_children() -> None:
    broker, rec = await make()
    await submit_ok(broker, limit("e", Side.BUY, 1.3000))
    await submit_ok(
        broker, stop("sl", Side.SELL, 1.2900, parent_client_order_id="e", oco_group="g")
    )
    await submit_ok(
        broker, limit("tp", Side.SELL, 1.3100, parent_client_order_id="e", oco_group="g")
    )
    await broker.cancel_order("e")
    assert [c.client_order_id for c in rec.cancels()] == ["e", "sl", "tp"]
    assert rec.cancels()[0].reason == "cancelled by request"
    assert await broker.open_orders(ACC) == []


# -- end of feed, positions, accounts, ids -------------------------------------------


async def test_fill_at_last_price_uses_last_close_and_activates_children() -> None:
    broker, rec = await make()
    await broker.fill_at_last_price(ACC, ASSET)  # no bar seen yet: no-op
    await broker.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4100, 1.3900, 1.4050))
    await submit_ok(broker, order("x", Side.SELL))
    await submit_ok(broker, stop("sl", Side.BUY, 1.4100, parent_client_order_id="x"))
    await broker.fill_at_last_price(ACC, ASSET)
    (fill,) = rec.fills()
    assert fill.price == pytest.approx(on_tick(1.4050 * (1 - HS / 1e4)))
    assert fill.time == T0
    # The child is now working but was not worked against the last bar
    # (whose high 1.4100 touches its stop).
    assert [o.client_order_id for o in await broker.open_orders(ACC)] == ["sl"]


async def test_positions_net_long_short_flat() -> None:
    broker, _ = await make()
    await submit_ok(broker, order("b", Side.BUY, 1000, asset="EUR-USD"))
    await submit_ok(broker, order("s", Side.SELL, 300))
    await broker.on_bar(ACC, "EUR-USD", bar(0, 1.1, 1.11, 1.09, 1.1))
    await broker.on_bar(ACC, ASSET, bar(0, 1.4, 1.41, 1.39, 1.4))
    assert await broker.positions(ACC) == {"EUR-USD": 1000, ASSET: -300}
    await submit_ok(broker, order("b2", Side.BUY, 300))
    await broker.on_bar(ACC, ASSET, bar(1, 1.4, 1.41, 1.39, 1.4))
    assert await broker.positions(ACC) == {"EUR-USD": 1000}


async def test_accounts_are_isolated() -> None:
    broker, rec = await make()
    await submit_ok(broker, order("a1"))
    await submit_ok(broker, order("b1", account="op-2"))
    await broker.on_bar(ACC, ASSET, bar(0, 1.4, 1.41, 1.39, 1.4))
    assert [f.client_order_id for f in rec.fills()] == ["a1"]
    assert [o.client_order_id for o in await broker.open_orders("op-2")] == ["b1"]
    assert await broker.positions("op-2") == {}
    assert await broker.executions("op-2") == []
    await broker.fill_at_last_price("op-2", ASSET)  # op-2 has seen no bar
    assert len(rec.fills()) == 1
    await broker.on_bar("op-2", ASSET, bar(5, 1.5, 1.51, 1.49, 1.5))
    assert rec.fills()[1].price == pytest.approx(on_tick(1.5 * (1 + HS / 1e4)))
    assert len(await broker.executions(ACC)) == 1


async def test_ids_unique_across_broker_instances() -> None:
    broker_ids, exec_ids = [], []
    for _ in range(2):
        broker, rec = await make()
        for i in range(5):
            broker_ids.append(await submit_ok(broker, order(f"o{i}")))
        await broker.on_bar(ACC, ASSET, bar(0, 1.4, 1.41, 1.39, 1.4))
        exec_ids.extend(f.execution_id for f in rec.fills())
    assert len(set(broker_ids)) == 10 and len(set(exec_ids)) == 10


# -- durability (in-memory store): restart, idempotent bars, atomic commits ------


class FailingStore(InMemoryPaperStore):
    """A store whose commits fail (the venue's database is down)."""

    async def commit(self, changes: PaperChanges) -> None:
        raise ConnectionError("store down")


async def restart(store: InMemoryPaperStore) -> tuple[PaperBroker, Recorder]:
    broker = PaperBroker(CFG, store=store)
    rec = Recorder()
    broker.set_listener(rec)
    await broker.connect()
    return broker, rec


async def test_new_broker_over_the_same_store_sees_the_committed_book() -> None:
    store = InMemoryPaperStore()
    first, _ = await restart(store)
    await long_bracket(first, sl=1.3900, tp=1.4100)
    await first.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4010, 1.3990, 1.4000))
    second, rec = await restart(store)
    assert second.state == first.state and second.state is not first.state
    assert [o.client_order_id for o in await second.open_orders(ACC)] == ["sl", "tp"]
    await second.on_bar(ACC, ASSET, bar(1, 1.4030, 1.4150, 1.4000, 1.4120))
    assert [r.client_order_id for r in rec.reports] == ["tp", "sl"]
    assert first.state != second.state  # the old instance's view is not shared


async def test_bar_not_after_the_last_one_is_ignored() -> None:
    broker, rec = await make()
    await broker.on_bar(ACC, ASSET, bar(1, 1.4, 1.41, 1.39, 1.4))
    await submit_ok(broker, order("m"))
    await broker.on_bar(ACC, ASSET, bar(1, 1.5, 1.51, 1.49, 1.5))  # same time
    await broker.on_bar(ACC, ASSET, bar(0, 1.5, 1.51, 1.49, 1.5))  # older
    assert rec.reports == []
    assert broker.state.last_bars[(ACC, ASSET)] == bar(1, 1.4, 1.41, 1.39, 1.4)
    await broker.on_bar("op-2", ASSET, bar(0, 1.5, 1.51, 1.49, 1.5))  # other account's clock
    await broker.on_bar(ACC, ASSET, bar(2, 1.6, 1.61, 1.59, 1.6))
    assert [f.price for f in rec.fills()] == [pytest.approx(on_tick(1.6 * (1 + HS / 1e4)))]


async def test_executions_since() -> None:
    broker, rec = await make()
    for i in range(3):
        await submit_ok(broker, order(f"m{i}"))
        await broker.on_bar(ACC, ASSET, bar(i, 1.4, 1.41, 1.39, 1.4))
    fills = await broker.executions(ACC)
    assert fills == rec.fills()
    assert await broker.executions_since(ACC, None) == fills
    assert await broker.executions_since(ACC, fills[0].execution_id) == fills[1:]
    assert await broker.executions_since(ACC, fills[-1].execution_id) == []
    assert await broker.executions_since(ACC, "unknown") == fills
    assert await broker.executions_since("op-2", None) == []


async def test_failed_commit_changes_nothing_and_reports_nothing() -> None:
    store = InMemoryPaperStore()
    good, _ = await restart(store)
    await submit_ok(good, order("m"))
    await submit_ok(good, limit("l", Side.BUY, 1.0))
    broker = PaperBroker(CFG, store=FailingStore(await store.load()))
    rec = Recorder()
    broker.set_listener(rec)
    await broker.connect()
    before = await store.load()
    with pytest.raises(ConnectionError):
        await broker.on_bar(ACC, ASSET, bar(0, 1.4, 1.41, 1.39, 1.4))
    with pytest.raises(ConnectionError):
        await broker.submit_order(order("n"))
    with pytest.raises(ConnectionError):
        await broker.cancel_order("l")
    assert rec.reports == []
    assert broker.state == before
    await broker.cancel_order("unknown")  # nothing to commit: no error
    await broker.fill_at_last_price(ACC, ASSET)  # no bar committed: nothing to do


# -- instrument specifications and cancel acknowledgements ----------------------


async def test_fills_are_on_the_tick_of_the_asset() -> None:
    broker, rec = await make(PaperBrokerConfig(half_spread_bps=0.37))
    await submit_ok(broker, order("b1", Side.BUY, 1000))
    await broker.on_bar(ACC, ASSET, bar(0, 1.4448, 1.45, 1.44, 1.445))
    await submit_ok(broker, order("j1", Side.BUY, 1000, asset="USD-JPY"))
    await broker.on_bar(ACC, "USD-JPY", bar(0, 151.2345, 151.3, 151.1, 151.2))
    fill, jpy = rec.fills()
    assert fill.price == 1.44485  # 1.4448 * (1 + 0.37 bp) = 1.444853..., on 0.00001
    assert jpy.price == 151.24  # 151.2345 * (1 + 0.37 bp) = 151.24010 on 0.001
    spec = await broker.instrument_spec("USD-JPY")
    assert (spec.tick_size, spec.lot_size, spec.min_quantity) == (0.001, 1.0, 1.0)
    assert (await broker.instrument_spec(ASSET)).tick_size == 0.00001


async def test_configured_instruments_override_the_defaults() -> None:
    from live_trading.domain.instruments import InstrumentSpec

    spec = InstrumentSpec("EUR-USD", 0.0001, 1000.0, 1000.0)
    broker, _ = await make(PaperBrokerConfig(instruments={"EUR-USD": spec}))
    assert await broker.instrument_spec("EUR-USD") == spec


async def test_cancel_says_what_became_of_the_order() -> None:
    from live_trading.domain.orders import CancelOutcome

    broker, _ = await make()
    await submit_ok(broker, stop("sl", Side.SELL, 1.3000))
    assert (await broker.cancel_order("sl")).outcome is CancelOutcome.REQUESTED
    assert (await broker.cancel_order("sl")).outcome is CancelOutcome.ALREADY_DONE
    assert (await broker.cancel_order("nope")).outcome is CancelOutcome.NOT_FOUND
