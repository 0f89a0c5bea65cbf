"""Trading operations: create, list, read, change, pause, resume, close."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, status

from live_trading.api.auth import Trader, Viewer
from live_trading.api.deps import MANUAL_SOURCE, EngineDep, Limit, Offset
from live_trading.api.schemas import TradingOperationOut
from live_trading.engine.errors import OperationNotFoundError
from live_trading.engine.specs import OperationCreate, OperationUpdate
from live_trading.journal.documents import TradingOperation

router = APIRouter(prefix="/api/operations", tags=["operations"])


async def load_operation(operation_id: str) -> TradingOperation:
    """The operation's read model. Raises OperationNotFoundError (404)."""
    try:
        operation = await TradingOperation.get(ObjectId(operation_id))
    except (InvalidId, TypeError):
        operation = None
    if operation is None:
        raise OperationNotFoundError(f"no operation {operation_id}")
    return operation


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_operation(
    body: OperationCreate, engine: EngineDep, user: Trader
) -> TradingOperationOut:
    """Create a trading operation and start trading it (trader)."""
    operation_id = await engine.create_operation(body, source=MANUAL_SOURCE, user=user.username)
    return TradingOperationOut.model_validate(await load_operation(operation_id))


@router.get("")
async def list_operations(
    user: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    status: str | None = None,
    asset: str | None = None,
    strategy_name: str | None = None,
) -> list[TradingOperationOut]:
    """List operations, newest first, optionally filtered."""
    filters: dict[str, Any] = {}
    for field, value in (("status", status), ("asset", asset), ("strategy_name", strategy_name)):
        if value:
            filters[field] = value.upper() if field == "asset" else value
    found = TradingOperation.find(filters).sort("-created_at")  # newest first
    return [
        TradingOperationOut.model_validate(d)
        for d in await found.skip(offset).limit(limit).to_list()
    ]


@router.get("/{operation_id}")
async def get_operation(operation_id: str, user: Viewer) -> TradingOperationOut:
    """One operation with its P/L."""
    return TradingOperationOut.model_validate(await load_operation(operation_id))


@router.put("/{operation_id}")
async def update_operation(
    operation_id: str, body: OperationUpdate, engine: EngineDep, user: Trader
) -> TradingOperationOut:
    """Change an operation's strategy parameters or risk settings (trader)."""
    await engine.update_operation(operation_id, body, source=MANUAL_SOURCE, user=user.username)
    return TradingOperationOut.model_validate(await load_operation(operation_id))


@router.delete("/{operation_id}")
async def close_operation(
    operation_id: str, engine: EngineDep, user: Trader
) -> TradingOperationOut:
    """Close an operation (flattens its position); nothing is erased (trader)."""
    await engine.close(operation_id, source=MANUAL_SOURCE, user=user.username)
    return TradingOperationOut.model_validate(await load_operation(operation_id))


@router.post("/{operation_id}/pause")
async def pause_operation(
    operation_id: str, engine: EngineDep, user: Trader
) -> TradingOperationOut:
    """Stop opening positions; protective orders keep working (trader)."""
    await engine.pause(operation_id, source=MANUAL_SOURCE, user=user.username)
    return TradingOperationOut.model_validate(await load_operation(operation_id))


@router.post("/{operation_id}/resume")
async def resume_operation(
    operation_id: str, engine: EngineDep, user: Trader
) -> TradingOperationOut:
    """Resume a paused operation (trader)."""
    await engine.resume(operation_id, source=MANUAL_SOURCE, user=user.username)
    return TradingOperationOut.model_validate(await load_operation(operation_id))
