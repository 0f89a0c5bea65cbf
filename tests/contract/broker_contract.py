"""The broker contract: what every adapter must do, written once.

A test module per adapter subclasses :class:`BrokerContract` and provides a
``venue`` fixture yielding a :class:`Venue`: the connected adapter, plus a
driver that moves that venue's market (the paper broker is shown bars; a
fake TWS or v20 server is given prices). Every test here then runs against
that adapter unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import CancelOutcome, Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import OrderType, Side
from live_trading.engine.order_operations import OrderOperations
from live_trading.engine.ports import Broker, ConnectionState

ASSET = "USD-CAD"


class MarketDriver(Protocol):
    async def trade_at(self, price: float) -> None:
        """Make the market trade at ``price`` (bid/ask around it): working
        market orders fill, stops and limits at that price trigger."""


@dataclass
class Venue:
    broker: Any
    driver: MarketDriver
    account: str
    reports: list = field(default_factory=list)

    async def wait_for(self, predicate, timeout_s: float = 5.0) -> list:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            found = [r for r in self.reports if predicate(r)]
            if found:
                return found
            await asyncio.sleep(0.02)
        return []

    def fills(self, cid: str) -> list[Execution]:
        return [r for r in self.reports if isinstance(r, Execution) and r.client_order_id == cid]


def cid(venue: Venue, n: int) -> str:
    return f"LT-{venue.account}-{n}"


class BrokerContract:
    async def test_is_a_broker_and_connected(self, venue: Venue) -> None:
        assert isinstance(venue.broker, Broker)
        assert venue.broker.connection_state is ConnectionState.CONNECTED

    async def test_market_order_fills_once_and_moves_the_position(self, venue: Venue) -> None:
        ack = await venue.broker.submit_order(
            OrderRequest(cid(venue, 1), venue.account, ASSET, Side.BUY, 10_000)
        )
        assert ack.accepted and ack.broker_order_id
        await venue.driver.trade_at(1.3700)
        [fill] = await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == cid(venue, 1)
        )
        assert fill.side is Side.BUY and fill.quantity == 10_000 and fill.price > 1.36
        assert fill.commission >= 0 and fill.time.tzinfo is not None
        assert [e.execution_id for e in await venue.broker.executions(venue.account)] == [
            fill.execution_id
        ]
        assert await venue.broker.executions_since(venue.account, fill.execution_id) == []
        assert (await venue.broker.positions(venue.account))[ASSET] == 10_000
        assert await venue.broker.broker_order_id(cid(venue, 1)) == ack.broker_order_id

    async def test_a_working_order_can_be_modified_and_cancelled(self, venue: Venue) -> None:
        request = OrderRequest(
            cid(venue, 2),
            venue.account,
            ASSET,
            Side.BUY,
            5_000,
            OrderType.LIMIT,
            limit_price=1.2000,
        )
        assert (await venue.broker.submit_order(request)).accepted
        await venue.driver.trade_at(1.3700)  # far above the limit: must not fill
        assert [o.client_order_id for o in await venue.broker.open_orders(venue.account)] == [
            cid(venue, 2)
        ]
        modified = await venue.broker.modify_order(cid(venue, 2), limit_price=1.2100)
        assert modified.accepted
        [working] = await venue.broker.open_orders(venue.account)
        assert working.limit_price == pytest.approx(1.2100)
        cancelled = await venue.broker.cancel_order(cid(venue, 2))
        assert cancelled.outcome is CancelOutcome.REQUESTED
        assert cancelled.client_order_id == cid(venue, 2)
        assert await venue.wait_for(
            lambda r: isinstance(r, OrderCancelled) and r.client_order_id == cid(venue, 2)
        )
        assert await venue.broker.open_orders(venue.account) == []
        assert venue.fills(cid(venue, 2)) == []

    async def test_a_bad_order_is_refused_not_raised(self, venue: Venue) -> None:
        ack = await venue.broker.submit_order(
            OrderRequest(cid(venue, 3), venue.account, ASSET, Side.SELL, 10_000, OrderType.STOP)
        )
        assert not ack.accepted and ack.reason

    async def test_bracket_stop_loss_fills_and_cancels_the_take_profit(self, venue: Venue):
        ops = OrderOperations(venue.broker, venue.account)
        entry = cid(venue, 4)
        acks = await ops.place_bracket_order(
            entry, ASSET, Side.BUY, 10_000, stop_loss=1.3600, take_profit=1.3900
        )
        assert acks.entry.accepted and acks.stop_loss.accepted and acks.take_profit.accepted
        await venue.driver.trade_at(1.3700)
        assert await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == entry
        )
        await venue.driver.trade_at(1.3590)
        [stop] = await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == f"{entry}-SL"
        )
        assert stop.side is Side.SELL and stop.price <= 1.3600 + 1e-9
        assert await venue.wait_for(
            lambda r: isinstance(r, OrderCancelled) and r.client_order_id == f"{entry}-TP"
        )
        assert (await venue.broker.positions(venue.account)).get(ASSET, 0.0) == 0.0

    async def test_close_position_flattens(self, venue: Venue) -> None:
        ops = OrderOperations(venue.broker, venue.account)
        await ops.place_market_order(cid(venue, 5), ASSET, Side.SELL, 3_000)
        await venue.driver.trade_at(1.3700)
        assert await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == cid(venue, 5)
        )
        assert (await ops.get_positions())[ASSET] == -3_000
        ack = await ops.close_position(cid(venue, 6), ASSET)
        assert ack is not None and ack.accepted
        await venue.driver.trade_at(1.3710)
        assert await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == cid(venue, 6)
        )
        assert (await ops.get_positions()).get(ASSET, 0.0) == 0.0

    async def test_a_cancel_of_an_order_the_venue_never_had_says_not_found(
        self, venue: Venue
    ) -> None:
        ack = await venue.broker.cancel_order(cid(venue, 97))
        assert ack.outcome is CancelOutcome.NOT_FOUND
        assert ack.client_order_id == cid(venue, 97)
        assert await venue.broker.open_orders(venue.account) == []

    async def test_a_cancel_of_a_filled_order_says_already_done(self, venue: Venue) -> None:
        await venue.broker.submit_order(
            OrderRequest(cid(venue, 8), venue.account, ASSET, Side.BUY, 2_000)
        )
        await venue.driver.trade_at(1.3700)
        assert await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == cid(venue, 8)
        )
        ack = await venue.broker.cancel_order(cid(venue, 8))
        assert ack.outcome is CancelOutcome.ALREADY_DONE
        assert (await venue.broker.positions(venue.account))[ASSET] == 2_000

    async def test_instrument_spec_and_fills_on_the_tick(self, venue: Venue) -> None:
        spec = await venue.broker.instrument_spec(ASSET)
        assert isinstance(spec, InstrumentSpec) and spec.asset == ASSET
        assert 0 < spec.tick_size < 0.01 and spec.lot_size > 0
        assert spec.min_quantity >= spec.lot_size
        await venue.broker.submit_order(
            OrderRequest(cid(venue, 9), venue.account, ASSET, Side.SELL, 1_000)
        )
        await venue.driver.trade_at(1.37003)
        [fill] = await venue.wait_for(
            lambda r: isinstance(r, Execution) and r.client_order_id == cid(venue, 9)
        )
        assert spec.round_price(fill.price) == pytest.approx(fill.price, abs=1e-12)
