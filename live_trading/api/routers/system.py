"""Overall statistics and health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from live_trading.api.deps import EngineDep, ServicesDep
from live_trading.api.routers.history import mark_position
from live_trading.api.serialize import document_json
from live_trading.domain.stats import trade_stats
from live_trading.journal.documents import Position, Trade, TradingOperation

router = APIRouter(tags=["system"])


@router.get("/api/stats/overall")
async def overall_stats(engine: EngineDep) -> dict[str, Any]:
    """P/L and trade statistics across all operations."""
    operations = await TradingOperation.find({}).to_list()
    closed = await Trade.find({}).sort("+exit_time").to_list()
    result = trade_stats([t.pnl for t in closed], [t.total_commission for t in closed])
    unrealized = 0.0
    for position in await Position.find({"status": "OPEN"}).to_list():
        doc = mark_position(document_json(position), engine.last_price(
            str(position.operation_id)))
        unrealized += doc["unrealized_pnl"]
    by_status: dict[str, int] = {}
    for operation in operations:
        by_status[operation.status] = by_status.get(operation.status, 0) + 1
    return {**result.as_dict(), "realized_pnl": result.total_pnl,
            "unrealized_pnl": unrealized, "operations": len(operations),
            "operations_by_status": by_status}


@router.get("/health")
async def health(services: ServicesDep) -> JSONResponse:
    """Store and engine status; 503 when the store does not answer."""
    store_ok = await services.store.ping()
    engine = services.engine
    body = {
        "status": "ok" if store_ok else "degraded",
        "store": {"ok": store_ok, "embedded": services.store.embedded is not None},
        "engine": {"runners": len(engine.runners),
                   "running": sum(1 for t in engine.tasks.values() if not t.done()),
                   "bars_processed": sum(r.bars_processed for r in engine.runners.values())},
        "broker": {"name": engine.deps.broker.name},
    }
    return JSONResponse(status_code=200 if store_ok else 503, content=body)
