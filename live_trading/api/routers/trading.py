"""Trading cycles (run one now, the worker's status) and the gateway mode."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from live_trading.api.auth import Trader, Viewer
from live_trading.api.deps import MANUAL_SOURCE, ServicesDep
from live_trading.api.schemas import CycleOut, ModeOut, WorkerStatusOut

router = APIRouter(tags=["trading"])

PositionId = Annotated[
    str | None,
    Query(
        description="only the operation holding this open position (default: every active "
        "operation)"
    ),
]


@router.post("/v1/trading/cycle", response_model_exclude_unset=True)
async def run_cycle(
    services: ServicesDep, user: Trader, position_id: PositionId = None
) -> CycleOut:
    """Run one trading cycle now, journaled with source ``api/manual`` and the
    user: price, triggers and guardrails of every active operation (or of the
    operation holding ``position_id``), closing positions they call for.
    404: no such position; 409: the position is closed."""
    result = await services.worker.run(MANUAL_SOURCE, user.username, position_id)
    return CycleOut.model_validate(jsonable_encoder(result))


@router.get("/v1/trading/worker/status")
async def worker_status(services: ServicesDep, user: Viewer) -> WorkerStatusOut:
    """The scheduled worker: ``running``, ``enabled``, ``interval_seconds``,
    ``cycles``, ``last_cycle_at``, ``next_run_at`` and ``last_result``."""
    return WorkerStatusOut.model_validate(jsonable_encoder(services.worker.status()))


@router.get("/api/v1/mode")
async def mode(services: ServicesDep) -> ModeOut:
    """The gateway's mode: ``trading`` (orders reach the broker, the trade log
    is kept) or ``simulation`` (nothing reaches a broker). No token needed."""
    settings = services.settings
    return ModeOut(
        mode=settings.mode,
        broker=services.engine.deps.broker.name,
        caption=f"Trading Portal - {settings.mode.upper()}",
    )
