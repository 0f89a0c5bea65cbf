"""The health report served at ``/health``: store, broker, worker, engine.

Unhealthy (HTTP 503) when the store does not answer a ping within
:data:`STORE_PING_TIMEOUT_S`, when the engine's broker is not connected, or
when the trading worker is enabled but not running. Services without a
worker (``services.worker`` None) report ``"worker": null``. A stale live
bar feed (MARKET_DATA_STALE, see :mod:`live_trading.engine.monitor`) makes
the status ``degraded`` and is listed under ``warnings`` and
``market_data.stale``, but is not unhealthy (the service itself works).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Protocol

from live_trading.engine.ports import ConnectionState

STORE_PING_TIMEOUT_S = 5.0


class PingableStore(Protocol):
    """The store as the health report sees it."""

    @property
    def embedded(self) -> object | None: ...  # the embedded server, None on an external MongoDB

    async def ping(self) -> bool: ...


class Services(Protocol):
    """What the health report reads of :class:`live_trading.bootstrap.Services`
    (a Protocol, so that observability does not import the composition root)."""

    settings: Any  # live_trading.config.Settings: its ``mode``
    engine: Any  # live_trading.engine.trading_engine.TradingEngine
    worker: Any  # the trading worker, or None

    @property
    def store(self) -> PingableStore: ...  # read-only: any store that pings


def broker_state(broker: Any) -> str:
    """The broker's :class:`ConnectionState` as a string (``"UNKNOWN"`` when
    the adapter does not say)."""
    try:
        return str(ConnectionState(broker.connection_state))
    except Exception:  # noqa: BLE001 - health reporting must not raise
        return "UNKNOWN"


async def store_ok(services: Services) -> bool:
    """True when the store answers a ping within :data:`STORE_PING_TIMEOUT_S`."""
    try:
        return await asyncio.wait_for(services.store.ping(), STORE_PING_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - a timeout or a closed client: down
        return False


async def worker_status(worker: Any) -> dict[str, Any] | None:
    """``worker.status()`` (awaited if it is a coroutine); None without a worker;
    ``{"running": False, "error": ...}`` when it raises."""
    if worker is None:
        return None
    try:
        status = worker.status()
        if inspect.isawaitable(status):
            status = await status
        return dict(status)
    except Exception as error:  # noqa: BLE001 - report, do not fail the probe
        return {"running": False, "enabled": True, "error": str(error)}


def _broker(broker: Any) -> dict[str, Any]:
    state = broker_state(broker)
    return {"name": broker.name, "state": state, "ok": state == ConnectionState.CONNECTED}


def _engine(services: Services) -> dict[str, Any]:
    engine = services.engine
    return {
        "runners": len(engine.runners),
        "running": sum(1 for t in engine.tasks.values() if not t.done()),
        "bars_processed": sum(r.bars_processed for r in engine.runners.values()),
    }


async def _stale_feeds(services: Services) -> list[dict[str, Any]]:
    monitor = getattr(services.engine, "monitor", None)
    if monitor is None:
        return []
    try:
        return await monitor.stale_feeds()
    except Exception:  # noqa: BLE001 - health reporting must not raise
        return []


async def health_report(services: Services) -> tuple[bool, dict[str, Any]]:
    """``(healthy, body)``. The body: ``status`` (``ok``/``degraded``),
    ``problems`` (what is down), ``mode``, ``store``, ``broker`` (the engine's:
    ``name``, ``state``, ``ok``), ``data_broker`` (only when bars come from a
    broker other than the engine's), ``worker`` (its status or None), ``engine``."""
    adapters = {"broker": services.engine.deps.broker}
    data_broker = getattr(services, "data_broker", None)
    if data_broker is not None and data_broker is not adapters["broker"]:
        adapters["data_broker"] = data_broker  # simulation mode fed by a broker's bars
    stored = await store_ok(services)
    worker = await worker_status(services.worker)
    brokers = {key: _broker(adapter) for key, adapter in adapters.items()}
    problems = [] if stored else ["store: no answer to ping"]
    problems += [f"{key}: {b['state']}" for key, b in brokers.items() if not b["ok"]]
    if worker is not None and worker.get("enabled") and not worker.get("running"):
        problems.append("worker: enabled but not running")
    stale = await _stale_feeds(services)
    warnings = [
        f"market data stale: operation {s['operation_id']} {', '.join(s['bar_sizes'])}"
        for s in stale
    ]
    body = {
        "status": "degraded" if problems or warnings else "ok",
        "problems": problems,
        "warnings": warnings,
        "market_data": {"stale": stale},
        "mode": services.settings.mode,
        "store": {"ok": stored, "embedded": services.store.embedded is not None},
        **brokers,
        "worker": worker,
        "engine": _engine(services),
    }
    return not problems, body
