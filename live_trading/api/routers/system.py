"""Overall statistics and health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from live_trading.api.auth import Viewer
from live_trading.api.deps import EngineDep, ServicesDep
from live_trading.api.routers.history import mark_position
from live_trading.api.schemas import HealthOut, OverallStatsOut
from live_trading.domain.stats import trade_stats
from live_trading.journal.documents import Position, Trade, TradingOperation
from live_trading.journal.serialize import document_json

router = APIRouter(tags=["system"])


@router.get("/api/stats/overall")
async def overall_stats(engine: EngineDep, user: Viewer) -> OverallStatsOut:
    """P/L and trade statistics across all operations."""
    operations = await TradingOperation.find({}).to_list()
    # only the three fields the statistics need, without a document model per
    # trade, sorted here (bench/api_load.py: 100,000 trades took 14 s this way
    # through Beanie and a server-side sort, ~2 s as below)
    cursor = Trade.get_pymongo_collection().find(
        {}, {"_id": 0, "exit_time": 1, "pnl": 1, "total_commission": 1}
    )
    closed = sorted(await cursor.to_list(None), key=lambda t: t["exit_time"])
    result = trade_stats([t["pnl"] for t in closed], [t["total_commission"] for t in closed])
    unrealized = 0.0
    for position in await Position.find({"status": "OPEN"}).to_list():
        doc = mark_position(document_json(position), engine.last_price(str(position.operation_id)))
        unrealized += doc["unrealized_pnl"]
    by_status: dict[str, int] = {}
    for operation in operations:
        by_status[operation.status] = by_status.get(operation.status, 0) + 1
    return OverallStatsOut(
        **result.as_dict(),
        realized_pnl=result.total_pnl,
        unrealized_pnl=unrealized,
        operations=len(operations),
        operations_by_status=by_status,
    )


@router.get(
    "/health",
    response_model=HealthOut,
    responses={
        503: {
            "model": HealthOut,
            "description": "the store, the broker or the worker is down (see `problems`)",
        }
    },
)
async def health(services: ServicesDep) -> JSONResponse:
    """Store, broker, trading worker and engine status (no authentication);
    503 when the store does not answer, the broker is not connected or the
    worker is enabled but not running. See
    :func:`live_trading.observability.health.health_report`."""
    from fastapi.encoders import jsonable_encoder

    from live_trading.observability.health import health_report

    healthy, body = await health_report(services)
    return JSONResponse(status_code=200 if healthy else 503, content=jsonable_encoder(body))
