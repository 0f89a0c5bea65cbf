"""Global risk controls: the kill switch."""

from __future__ import annotations

from fastapi import APIRouter

from live_trading.api.auth import Trader, Viewer
from live_trading.api.deps import MANUAL_SOURCE, EngineDep
from live_trading.api.schemas import (
    KillSwitchOperationOut,
    KillSwitchOut,
    KillSwitchProgressOut,
)
from live_trading.engine.errors import OperationNotFoundError
from live_trading.engine.kill_switch import KillSwitchRun

router = APIRouter(prefix="/api/risk", tags=["risk"])


@router.post("/kill-switch")
async def kill_switch(engine: EngineDep, user: Trader) -> KillSwitchOut:
    """Flatten every position and pause every operation (trader); answers
    when every operation is done, with what was done to each. A press while
    another runs joins it (``joined``) and journals nothing."""
    run, joined = await engine.kill_switch(source=MANUAL_SOURCE, user=user.username)
    operations = run.acted_on()
    return KillSwitchOut(
        **_progress(run).model_dump(), operations=operations, count=len(operations), joined=joined
    )


@router.get("/kill-switch")
async def kill_switch_progress(engine: EngineDep, user: Viewer) -> KillSwitchProgressOut:
    """The kill-switch run in progress, or the last one since the engine
    started (404 when there was none)."""
    run = engine.kill_switch_runs.last
    if run is None:
        raise OperationNotFoundError(
            "the kill switch has not been pressed since the engine started"
        )
    return _progress(run)


def _progress(run: KillSwitchRun) -> KillSwitchProgressOut:
    return KillSwitchProgressOut(
        running=run.running,
        total=run.total,
        done=len(run.results),
        presses=run.presses,
        source=run.source,
        user=run.user,
        started_at=run.started_at.isoformat(),
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
        results=[
            KillSwitchOperationOut(operation_id=r.operation_id, outcome=r.outcome, detail=r.detail)
            for r in list(run.results)
        ],
    )
