"""Closing a position by hand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from live_trading.api.deps import MANUAL_SOURCE, EngineDep

router = APIRouter(prefix="/api/positions", tags=["positions"])


@router.post("/{position_id}/close")
async def close_position(position_id: str, engine: EngineDep) -> dict[str, Any]:
    """Close an open position at market."""
    operation_id = await engine.close_position(position_id, source=MANUAL_SOURCE)
    return {"position_id": position_id, "operation_id": operation_id, "status": "closing"}
