"""``GET /metrics``: Prometheus text exposition, no authentication.

Series are listed in :mod:`live_trading.observability.metrics`; the gauges
(operations by status, open positions, realized and unrealized P/L per
asset, broker connected) are recomputed from the read models at each scrape.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from live_trading.api.deps import ServicesDep
from live_trading.engine.ports import ConnectionState
from live_trading.observability.health import broker_state

router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text format",
        }
    },
)
async def prometheus_metrics(services: ServicesDep) -> Response:
    """Every series of the service's own registry, in the Prometheus text format."""
    metrics = services.metrics
    assert metrics is not None  # bootstrap.open_services sets it
    connected = broker_state(services.engine.deps.broker) == ConnectionState.CONNECTED
    await metrics.refresh(services.engine.last_price, connected)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
