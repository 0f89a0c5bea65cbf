"""The price a trading cycle evaluates: the broker's quote when the engine
trades on broker data and the broker (behind its metering proxy) has market
data; otherwise, or when the quote fails, the last bar's close."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from live_trading.brokers.metrics import BrokerMetrics, MeteredBroker
from live_trading.domain.values import Bar, BarSize
from live_trading.engine.cycle import TradingCycles
from live_trading.engine.ports import Quote

QUOTE_TIME = datetime(2025, 1, 15, 12, 0, 5, tzinfo=UTC)
BAR = Bar(datetime(2025, 1, 15, 11, tzinfo=UTC), 1.40, 1.41, 1.39, 1.405, 10.0)


class RoutingOnly:
    """A broker without market data."""

    name = "routing-only"


class Quoting(RoutingOnly):
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[str] = []

    async def get_market_quote(self, asset: str) -> Quote:
        self.asked.append(asset)
        if self.fail:
            raise ConnectionError("no quote")
        return Quote(asset, 1.4000, 1.4002, QUOTE_TIME)


def cycles(inner: object, *, quotes_from_broker: bool) -> TradingCycles:
    engine = SimpleNamespace(deps=SimpleNamespace(broker=MeteredBroker(inner, BrokerMetrics())))
    return TradingCycles(engine, quotes_from_broker=quotes_from_broker, max_position_size=None)


RUNNER = SimpleNamespace(last_bar=BAR, bar_size=BarSize.HOUR_1)


async def test_a_broker_with_market_data_gives_the_quote() -> None:
    broker = Quoting()
    price, at, source = await cycles(broker, quotes_from_broker=True)._price(RUNNER, "USD-CAD")
    assert (price.last, price.bid, price.ask, at, source) == (
        pytest.approx(1.4001),
        1.4000,
        1.4002,
        QUOTE_TIME,
        "broker_quote",
    )
    assert broker.asked == ["USD-CAD"]


async def test_a_broker_without_market_data_falls_back_to_the_last_bar() -> None:
    price, at, source = await cycles(RoutingOnly(), quotes_from_broker=True)._price(
        RUNNER, "USD-CAD"
    )
    assert (price.last, at, source) == (1.405, datetime(2025, 1, 15, 12, tzinfo=UTC), "last_bar")


async def test_a_failed_quote_or_replay_data_falls_back_to_the_last_bar() -> None:
    failing = Quoting(fail=True)
    assert (await cycles(failing, quotes_from_broker=True)._price(RUNNER, "USD-CAD"))[
        2
    ] == "last_bar"
    replaying = Quoting()
    assert (await cycles(replaying, quotes_from_broker=False)._price(RUNNER, "USD-CAD"))[
        2
    ] == "last_bar"
    assert replaying.asked == []
