"""The FastAPI application and its lifespan (store + engine)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from live_trading.bootstrap import open_services
from live_trading.config import Settings

from .body_limit import BodyLimitMiddleware
from .dashboard import install_dashboard
from .errors import install_error_handlers
from .headers import SecurityHeadersMiddleware
from .openapi_errors import declare_errors
from .proxy import behind_trusted_proxies, check_trusted_proxies
from .ratelimit import RateLimiter
from .routers import (
    auth,
    brokers,
    history,
    metrics,
    operations,
    positions,
    prometheus,
    recovery,
    risk,
    strategies,
    system,
    trade_log,
    trading,
    users,
    ws,
)

DEMO_OPERATION: dict[str, Any] = {
    "asset": "USD-CAD",
    "bar_sizes": ["1 hour"],
    "strategy_name": "MomentumStrategy",
}


async def _create_demo(services) -> None:
    from live_trading.engine.specs import OperationCreate
    from live_trading.journal.documents import TradingOperation

    if await TradingOperation.find({}).count() == 0:
        await services.engine.create_operation(OperationCreate(**DEMO_OPERATION), source="cli/demo")


class HardenedAPI(FastAPI):
    """FastAPI with the hardening layers outside all of its own middleware
    (outside even the 500 handler, so that every answer has them): trusted
    proxy headers, then security headers, then the body limit."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hardening = settings

    def build_middleware_stack(self) -> ASGIApp:
        app = BodyLimitMiddleware(
            super().build_middleware_stack(), self.hardening.max_request_bytes
        )
        return behind_trusted_proxies(
            SecurityHeadersMiddleware(app), self.hardening.trusted_proxies
        )


def create_app(
    settings: Settings | None = None, *, demo: bool = False, dashboard_dir: Path | None = None
) -> FastAPI:
    """The API with its lifespan: opens the store, starts the engine (and,
    with ``demo``, creates the demo operation when there is none). The built
    dashboard (``dashboard_dir``, default ``frontend/dist``) is served at ``/``.

    Raises:
        ValueError: SECRET_KEY is a placeholder outside ENVIRONMENT=development,
            a RATE_LIMIT_* setting is not a rate limit, or a TRUSTED_PROXIES
            entry is not an address or network.
    """
    settings = settings or Settings()
    settings.check_secret_key()
    check_trusted_proxies(settings.trusted_proxies)
    rate_limiter = RateLimiter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await open_services(settings)
        app.state.services = services
        await services.start()
        from live_trading.feed import start_feed

        app.state.feed = await start_feed(services)  # the WebSocket live feed's hub
        if demo:
            await _create_demo(services)
        services.worker.start()
        try:
            yield
        finally:
            await services.worker.stop()
            await app.state.feed.stop()
            await services.close()

    app = HardenedAPI(
        settings,
        title="live_trading",
        version="0.1.0",
        lifespan=lifespan,
        description="Event-sourced live trading: operations, orders, positions, "
        "trades and the journal they are projected from.",
    )
    app.state.rate_limiter = rate_limiter
    install_error_handlers(app)
    for router in (
        operations.router,
        history.router,
        positions.router,
        recovery.router,
        risk.router,
        strategies.router,
        metrics.router,
        brokers.router,
        system.router,
        auth.router,
        users.router,
        trading.router,
        trade_log.router,
        ws.router,
        prometheus.router,
    ):
        app.include_router(declare_errors(router))
    install_dashboard(app, dashboard_dir)  # last: it never shadows an API route
    return app
