"""Broker call metrics: slow venue calls are logged, the simulated market's
own work (a bar matched and committed durably) is timed but never logged as a
slow broker call."""

from __future__ import annotations

import logging

import pytest

from live_trading.brokers.metrics import SIMULATED_MARKET_CALLS, BrokerMetrics

SLOW_S = 0.541  # seen in a replay: on_bar with its fsync'd commit on a loaded machine


def test_a_slow_venue_call_is_logged_with_masked_arguments(
        caplog: pytest.LogCaptureFixture) -> None:
    metrics = BrokerMetrics(slow_call_s=0.5)
    with caplog.at_level(logging.WARNING, logger="live_trading.brokers"):
        metrics.record("submit_order", SLOW_S, False, ({"api_key": "k", "qty": 1},), {})
    [record] = caplog.records
    assert record.getMessage().startswith("slow broker call submit_order took 541 ms")
    assert "'***'" in record.getMessage() and "'k'" not in record.getMessage()
    assert metrics.summary()["submit_order"]["slow"] == 1


@pytest.mark.parametrize("method", sorted(SIMULATED_MARKET_CALLS))
def test_the_simulated_markets_work_is_timed_not_logged_as_slow(
        method: str, caplog: pytest.LogCaptureFixture) -> None:
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
