"""Broker call metrics: every adapter call timed, slow calls logged.

:class:`MeteredBroker` wraps any broker adapter: each coroutine method call
is timed (count, errors, timeouts, mean, p50, p99, max per method, over the
last ``WINDOW`` calls; a timeout is a call that raised ``TimeoutError``, e.g.
the port's ``BrokerTimeout``); a call slower than ``slow_call_s`` is logged at
WARNING with its arguments, secrets masked (:func:`mask_secrets`), except the
simulated market's own work (:data:`SIMULATED_MARKET_CALLS`: matching a bar
and committing the paper book durably, not a round trip to a venue; timed
like the others). Everything else passes through unchanged, so the wrapper
speaks whatever ports the adapter does.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("live_trading.brokers")

WINDOW = 2000
# SimulatedMarket's methods (engine/ports.py): the in-process paper book's
# fills, with an fsync'd commit each; never "slow broker calls"
SIMULATED_MARKET_CALLS = frozenset({"on_bar", "fill_at_last_price"})
SECRET_KEYS = re.compile(r"(api_?key|token|secret|password|authorization)", re.IGNORECASE)


def mask_secrets(value: Any) -> Any:
    """``value`` with every secret-looking field replaced by ``"***"``."""
    if isinstance(value, dict):
        return {
            k: "***" if SECRET_KEYS.search(str(k)) else mask_secrets(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(mask_secrets(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return mask_secrets({k: getattr(value, k) for k in value.__dataclass_fields__})
    return value


@dataclass
class CallStats:
    count: int = 0
    errors: int = 0
    timeouts: int = 0
    slow: int = 0
    total_s: float = 0.0
    max_s: float = 0.0
    recent: deque = field(default_factory=lambda: deque(maxlen=WINDOW))

    def add(self, seconds: float, failed: bool, slow: bool) -> None:
        self.count += 1
        self.errors += failed
        self.slow += slow
        self.total_s += seconds
        self.max_s = max(self.max_s, seconds)
        self.recent.append(seconds)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.recent)

        def pct(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

        return {
            "count": self.count,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "slow": self.slow,
            "mean_ms": 1000 * self.total_s / self.count if self.count else 0.0,
            "p50_ms": 1000 * pct(0.50),
            "p99_ms": 1000 * pct(0.99),
            "max_ms": 1000 * self.max_s,
        }


class BrokerMetrics:
    def __init__(self, slow_call_s: float = 0.5) -> None:
        self.slow_call_s = slow_call_s
        self.calls: dict[str, CallStats] = {}
        # Optional hook: on_call(method, seconds, failed) after every call (the
        # Prometheus histograms are fed through it, see bootstrap).
        self.on_call: Callable[[str, float, bool], None] | None = None
        # Optional hook: on_timeout(method) after a call that timed out.
        self.on_timeout: Callable[[str], None] | None = None

    def record_timeout(self, method: str) -> None:
        """Count a call to ``method`` that got no answer within its deadline
        (it is also recorded, as failed, by :meth:`record`)."""
        self.calls.setdefault(method, CallStats()).timeouts += 1
        if self.on_timeout is not None:
            try:
                self.on_timeout(method)
            except Exception:  # a metric must not fail a broker call
                log.exception("broker timeout observer failed")

    def record(self, method: str, seconds: float, failed: bool, args: tuple, kwargs: dict) -> None:
        slow = seconds >= self.slow_call_s and method not in SIMULATED_MARKET_CALLS
        self.calls.setdefault(method, CallStats()).add(seconds, failed, slow)
        if self.on_call is not None:
            try:
                self.on_call(method, seconds, failed)
            except Exception:  # a metric must not fail a broker call
                log.exception("broker call observer failed")
        if slow:
            log.warning(
                "slow broker call %s took %.0f ms: args=%s kwargs=%s",
                method,
                1000 * seconds,
                mask_secrets(list(args)),
                mask_secrets(kwargs),
            )

    def summary(self) -> dict[str, Any]:
        return {name: stats.summary() for name, stats in sorted(self.calls.items())}


class MeteredBroker:
    """A timing proxy around a broker adapter (see module doc)."""

    def __init__(self, inner: Any, metrics: BrokerMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @property
    def inner(self) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        metrics = self._metrics

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started, failed = time.perf_counter(), False
            try:
                return await attribute(*args, **kwargs)
            except TimeoutError:
                failed = True
                metrics.record_timeout(name)
                raise
            except BaseException:
                failed = True
                raise
            finally:
                metrics.record(name, time.perf_counter() - started, failed, args, kwargs)

        return timed
