"""Global risk controls."""

from __future__ import annotations

from fastapi import APIRouter

from live_trading.api.auth import Trader
from live_trading.api.deps import MANUAL_SOURCE, EngineDep
from live_trading.api.schemas import KillSwitchOut

router = APIRouter(prefix="/api/risk", tags=["risk"])


@router.post("/kill-switch")
async def kill_switch(engine: EngineDep, user: Trader) -> KillSwitchOut:
    """Flatten every position and pause every operation (trader)."""
    operations = await engine.kill_switch(source=MANUAL_SOURCE, user=user.username)
    return KillSwitchOut(operations=operations, count=len(operations))
