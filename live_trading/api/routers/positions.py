"""Closing a position by hand."""

from __future__ import annotations

from fastapi import APIRouter

from live_trading.api.auth import Trader
from live_trading.api.deps import MANUAL_SOURCE, EngineDep
from live_trading.api.schemas import PositionClosingOut

router = APIRouter(prefix="/api/positions", tags=["positions"])


@router.post("/{position_id}/close")
async def close_position(position_id: str, engine: EngineDep, user: Trader) -> PositionClosingOut:
    """Close an open position at market (trader)."""
    operation_id = await engine.close_position(
        position_id, source=MANUAL_SOURCE, user=user.username
    )
    return PositionClosingOut(position_id=position_id, operation_id=operation_id, status="closing")
