"""Global risk controls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from live_trading.api.auth import Trader
from live_trading.api.deps import MANUAL_SOURCE, EngineDep

router = APIRouter(prefix="/api/risk", tags=["risk"])


@router.post("/kill-switch")
async def kill_switch(engine: EngineDep, user: Trader) -> dict[str, Any]:
    """Flatten every position and pause every operation (trader)."""
    operations = await engine.kill_switch(source=MANUAL_SOURCE, user=user.username)
    return {"operations": operations, "count": len(operations)}
