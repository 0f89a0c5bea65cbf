"""Prometheus metrics of one running service, on a registry of its own.

:class:`PrometheusMetrics` owns a :class:`prometheus_client.CollectorRegistry`
(never the process-wide default one, so that several apps in one process do
not clash) and these series:

* ``live_trading_operations{status}`` (gauge): trading operations by status.
* ``live_trading_open_positions{asset}`` (gauge): open positions.
* ``live_trading_realized_pnl{asset}`` (gauge): net P/L of the closed trades,
  in the asset's quote currency (USD-CAD: CAD).
* ``live_trading_unrealized_pnl{asset}`` (gauge): open positions marked at the
  engine's last price (the stored mark when the engine has none), quote
  currency, before commissions.
* ``live_trading_broker_connected`` (gauge): 1 when the broker is connected.
* ``live_trading_journal_append_seconds`` (histogram) and
  ``live_trading_journal_entries_total`` (counter): one observation per
  committed append (entries and projections in one transaction).
* ``live_trading_broker_call_seconds{method}`` (histogram),
  ``live_trading_broker_call_errors_total{method}`` and
  ``live_trading_broker_call_timeouts_total{method}`` (counters; a timeout
  is also an error).
* ``live_trading_worker_cycles_total{source,result}`` (counter) and
  ``live_trading_worker_cycle_seconds{source}`` (histogram), fed by
  :meth:`PrometheusMetrics.observe_cycle` (the trading worker's observer).

The gauges are computed at scrape time from the read models
(:meth:`PrometheusMetrics.refresh`); the rest are fed by hooks as things happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from .read_models import ReadModelFigures, read_model_figures

log = logging.getLogger("live_trading.metrics")
# No ``*_created`` series (process-wide switch of prometheus_client): they only
# add noise to a scrape.
disable_created_metrics()

WORKER_SOURCES = ("worker", "api/manual")
CYCLE_RESULTS = ("ok", "error")
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
CYCLE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class PrometheusMetrics:
    """The service's metrics (see the module doc for the series)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._gauges()
        self._timings()

    def _gauges(self) -> None:
        r = self.registry
        self.operations = Gauge(
            "live_trading_operations", "Trading operations by status", ["status"], registry=r
        )
        self.open_positions = Gauge(
            "live_trading_open_positions", "Open positions by asset", ["asset"], registry=r
        )
        self.realized_pnl = Gauge(
            "live_trading_realized_pnl",
            "Net P/L of closed trades by asset, in the asset's quote currency",
            ["asset"],
            registry=r,
        )
        self.unrealized_pnl = Gauge(
            "live_trading_unrealized_pnl",
            "P/L of open positions marked at the last price, quote currency, before commissions",
            ["asset"],
            registry=r,
        )
        self.broker_connected = Gauge(
            "live_trading_broker_connected",
            "1 when the broker connection is up, else 0",
            registry=r,
        )

    def _timings(self) -> None:
        r = self.registry
        self.journal_append = Histogram(
            "live_trading_journal_append_seconds",
            "Time to commit one journal append (entries + projections, one transaction)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.journal_entries = Counter(
            "live_trading_journal_entries", "Journal entries appended", registry=r
        )
        self.broker_calls = Histogram(
            "live_trading_broker_call_seconds",
            "Broker adapter call latency by method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.broker_errors = Counter(
            "live_trading_broker_call_errors",
            "Broker adapter calls that raised, by method",
            ["method"],
            registry=r,
        )
        self.broker_timeouts = Counter(
            "live_trading_broker_call_timeouts",
            "Broker adapter calls with no answer within their deadline, by method",
            ["method"],
            registry=r,
        )
        self.worker_cycles = Counter(
            "live_trading_worker_cycles",
            "Trading cycles run, by source and result",
            ["source", "result"],
            registry=r,
        )
        self.worker_cycle_seconds = Histogram(
            "live_trading_worker_cycle_seconds",
            "Trading cycle duration by source",
            ["source"],
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        for source in WORKER_SOURCES:
            self.worker_cycle_seconds.labels(source=source)
            for result in CYCLE_RESULTS:
                self.worker_cycles.labels(source=source, result=result)

    def observe_journal_append(self, seconds: float, entries: int) -> None:
        """One committed append of ``entries`` entries that took ``seconds``."""
        self.journal_append.observe(seconds)
        self.journal_entries.inc(entries)

    def observe_broker_call(self, method: str, seconds: float, failed: bool) -> None:
        """One broker adapter call to ``method`` that took ``seconds``."""
        self.broker_calls.labels(method=method).observe(seconds)
        if failed:
            self.broker_errors.labels(method=method).inc()

    def observe_broker_timeout(self, method: str) -> None:
        """One broker adapter call to ``method`` that timed out."""
        self.broker_timeouts.labels(method=method).inc()

    def observe_cycle(self, source: str, result: str, seconds: float) -> None:
        """One trading cycle: ``source`` ``worker`` or ``api/manual``, ``result``
        ``ok`` or ``error``, duration in seconds. Never raises (it runs in the
        worker's ``finally``): to keep label values bounded, another source is
        counted as ``other`` and another result as ``error``, with a warning."""
        if source not in WORKER_SOURCES or result not in CYCLE_RESULTS:
            log.warning("trading cycle with unexpected labels source=%r result=%r", source, result)
            source = source if source in WORKER_SOURCES else "other"
            result = result if result in CYCLE_RESULTS else "error"
        self.worker_cycles.labels(source=source, result=result).inc()
        self.worker_cycle_seconds.labels(source=source).observe(seconds)

    async def refresh(
        self, last_price: Callable[[str], float | None], broker_connected: bool
    ) -> ReadModelFigures:
        """Recompute the gauges from the read models (Beanie must be initialised);
        ``last_price(operation_id)`` marks open positions. Returns the figures."""
        figures = await read_model_figures(last_price)
        self._set(self.operations, figures.operations_by_status)
        self._set(self.open_positions, figures.open_positions)
        self._set(self.realized_pnl, figures.realized_pnl)
        self._set(self.unrealized_pnl, figures.unrealized_pnl)
        self.broker_connected.set(1 if broker_connected else 0)
        return figures

    @staticmethod
    def _set(gauge: Gauge, values: dict[str, float]) -> None:
        gauge.clear()
        for label, value in values.items():
            gauge.labels(label).set(value)

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)
