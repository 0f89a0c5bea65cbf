"""Broker call metrics: slow venue calls are logged, the simulated market's
own work (a bar matched and committed durably) is timed but never logged as a
slow broker call; timeouts are counted per method."""

from __future__ import annotations

import logging

import pytest

from live_trading.brokers.metrics import SIMULATED_MARKET_CALLS, BrokerMetrics, MeteredBroker
from live_trading.engine.ports import BrokerTimeout
from live_trading.observability.metrics import PrometheusMetrics

SLOW_S = 0.541  # seen in a replay: on_bar with its fsync'd commit on a loaded machine


def test_a_slow_venue_call_is_logged_with_masked_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = BrokerMetrics(slow_call_s=0.5)
    with caplog.at_level(logging.WARNING, logger="live_trading.brokers"):
        metrics.record("submit_order", SLOW_S, False, ({"api_key": "k", "qty": 1},), {})
    [record] = caplog.records
    assert record.getMessage().startswith("slow broker call submit_order took 541 ms")
    assert "'***'" in record.getMessage() and "'k'" not in record.getMessage()
    assert metrics.summary()["submit_order"]["slow"] == 1


@pytest.mark.parametrize("method", sorted(SIMULATED_MARKET_CALLS))
def test_the_simulated_markets_work_is_timed_not_logged_as_slow(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = BrokerMetrics(slow_call_s=0.5)
    with caplog.at_level(logging.WARNING, logger="live_trading.brokers"):
        for _ in range(30):
            metrics.record(method, SLOW_S, False, ("op", "USD-CAD"), {})
    assert caplog.records == []
    stats = metrics.summary()[method]
    assert stats["count"] == 30 and stats["slow"] == 0
    assert stats["max_ms"] == pytest.approx(1000 * SLOW_S)


def test_the_simulated_market_calls_are_the_ports_methods() -> None:
    from live_trading.engine.ports import SimulatedMarket

    ports = {name for name in vars(SimulatedMarket) if not name.startswith("_")}
    assert SIMULATED_MARKET_CALLS == ports


class _Venue:
    name = "venue"

    async def open_orders(self, account: str) -> list:
        raise BrokerTimeout("open_orders", 10.0)

    async def positions(self, account: str) -> dict:
        raise ConnectionError("down")


async def test_a_timeout_is_counted_per_method_and_exported() -> None:
    metrics = BrokerMetrics()
    prometheus = PrometheusMetrics()
    metrics.on_timeout = prometheus.observe_broker_timeout
    broker = MeteredBroker(_Venue(), metrics)
    with pytest.raises(BrokerTimeout):
        await broker.open_orders("acc")
    with pytest.raises(ConnectionError):
        await broker.positions("acc")
    summary = metrics.summary()
    assert summary["open_orders"]["timeouts"] == 1 and summary["open_orders"]["errors"] == 1
    assert summary["positions"]["timeouts"] == 0 and summary["positions"]["errors"] == 1
    value = prometheus.registry.get_sample_value(
        "live_trading_broker_call_timeouts_total", {"method": "open_orders"}
    )
    assert value == 1.0
