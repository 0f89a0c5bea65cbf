"""Broker call metrics count timeouts per method (brokers/metrics.py)."""

from __future__ import annotations

import pytest

from live_trading.brokers.metrics import BrokerMetrics, MeteredBroker
from live_trading.engine.ports import BrokerTimeout
from live_trading.observability.metrics import PrometheusMetrics


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
    value = prometheus.registry.get_sample_value("live_trading_broker_call_timeouts_total",
                                                 {"method": "open_orders"})
    assert value == 1.0
