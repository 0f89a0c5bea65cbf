"""An operation's positions, transactions, trades, orders, statistics and journal."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from beanie import Document
from fastapi import APIRouter, Query

from live_trading.api.auth import Viewer
from live_trading.api.deps import MAX_INT64, EngineDep, Limit, Offset, ServicesDep
from live_trading.api.routers.operations import load_operation
from live_trading.api.schemas import (
    BarOut,
    JournalEntryOut,
    OperationStatsOut,
    OrderOut,
    PositionOut,
    TradeOut,
    TransactionOut,
)
from live_trading.domain.pnl import pnl_pct, unrealized_pnl
from live_trading.domain.stats import trade_stats
from live_trading.domain.values import BarSize
from live_trading.engine.specs import InvalidSpecError
from live_trading.journal.documents import Order, Position, Trade, Transaction
from live_trading.journal.serialize import document_json, journal_json

router = APIRouter(prefix="/api/operations/{operation_id}", tags=["history"])
SortOrder = Literal["asc", "desc"]
D = TypeVar("D", bound=Document)


async def _page(
    model: type[D], operation_id: str, time_field: str, limit: int, offset: int, sort: SortOrder
) -> list[D]:
    operation = await load_operation(operation_id)
    key = ("+" if sort == "asc" else "-") + time_field
    found = model.find({"operation_id": operation.id}).sort(
        key, "+_id" if sort == "asc" else "-_id"
    )
    return await found.skip(offset).limit(limit).to_list()


def mark_position(doc: dict[str, Any], mark: float | None) -> dict[str, Any]:
    """Fill an open position's current price and unrealized P/L (quote
    currency, before commissions) from the last bar's close."""
    if doc["status"] == "OPEN" and mark is not None:
        quantity = abs(doc["quantity"])
        pnl = unrealized_pnl(doc["position_type"], doc["entry_price"], mark, quantity)
        doc.update(
            current_price=mark,
            unrealized_pnl=pnl,
            unrealized_pnl_pct=pnl_pct(pnl, doc["entry_price"], quantity),
        )
    return doc


@router.get("/positions")
async def positions(
    operation_id: str,
    engine: EngineDep,
    user: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    sort: SortOrder = "desc",
) -> list[PositionOut]:
    """Positions, open ones marked to the last price."""
    docs = await _page(Position, operation_id, "opened_at", limit, offset, sort)
    mark = engine.last_price(operation_id)
    return [PositionOut.model_validate(mark_position(document_json(d), mark)) for d in docs]


@router.get("/transactions")
async def transactions(
    operation_id: str, user: Viewer, limit: Limit = 100, offset: Offset = 0, sort: SortOrder = "asc"
) -> list[TransactionOut]:
    """Every BUY/SELL fill, ENTRY or EXIT."""
    found = await _page(Transaction, operation_id, "executed_at", limit, offset, sort)
    return [TransactionOut.model_validate(d) for d in found]


@router.get("/trades")
async def trades(
    operation_id: str, user: Viewer, limit: Limit = 100, offset: Offset = 0, sort: SortOrder = "asc"
) -> list[TradeOut]:
    """Completed round trips with net P/L."""
    found = await _page(Trade, operation_id, "exit_time", limit, offset, sort)
    return [TradeOut.model_validate(d) for d in found]


@router.get("/orders")
async def orders(
    operation_id: str, user: Viewer, limit: Limit = 100, offset: Offset = 0, sort: SortOrder = "asc"
) -> list[OrderOut]:
    """Every order placed, with its status and fills."""
    found = await _page(Order, operation_id, "placed_at", limit, offset, sort)
    return [OrderOut.model_validate(d) for d in found]


@router.get("/stats")
async def stats(operation_id: str, engine: EngineDep, user: Viewer) -> OperationStatsOut:
    """Trade statistics and the open position's unrealized P/L."""
    operation = await load_operation(operation_id)
    closed = await Trade.find({"operation_id": operation.id}).sort("+exit_time").to_list()
    result = trade_stats([t.pnl for t in closed], [t.total_commission for t in closed])
    open_positions = await Position.find({"operation_id": operation.id, "status": "OPEN"}).to_list()
    mark = engine.last_price(operation_id)
    unrealized = sum(
        mark_position(document_json(p), mark)["unrealized_pnl"] for p in open_positions
    )
    return OperationStatsOut(
        operation_id=operation_id,
        status=operation.status,
        asset=operation.asset,
        **result.as_dict(),
        unrealized_pnl=unrealized,
        open_positions=len(open_positions),
        initial_capital=operation.initial_capital,
        current_capital=operation.current_capital,
        total_pnl_pct=operation.total_pnl_pct,
    )


@router.get("/bars")
async def bars(
    operation_id: str,
    services: ServicesDep,
    engine: EngineDep,
    user: Viewer,
    bar_size: str | None = Query(None, description="default: the primary bar size"),
    limit: Limit = 500,
) -> list[BarOut]:
    """The operation's latest ``limit`` bars (OHLCV, prices in quote currency,
    ``time`` the bar's open, UTC), oldest first: the bars it stored (up to its
    ``data_retention_bars``) and those its runner processed since. 422 when
    ``bar_size`` is not one of the operation's."""
    operation = await load_operation(operation_id)
    size = BarSize(operation.primary_bar_size)
    if bar_size is not None:
        size = _parse_bar_size(bar_size)
        if size.value not in operation.bar_sizes:
            raise InvalidSpecError(
                "bar_size",
                f"{size.value!r} is not one of the operation's bar sizes {operation.bar_sizes}",
            )
    found = await services.market_data.last_bars(str(operation.id), size, limit)
    runner = engine.runners.get(str(operation.id))
    if runner is not None and size.value == operation.primary_bar_size:
        by_time = {b.time: b for b in (*found, *runner.unstored_bars())}
        found = [by_time[t] for t in sorted(by_time)][-limit:]
    return [
        BarOut(
            time=b.time.isoformat().replace("+00:00", "Z"),
            open=b.open,
            high=b.high,
            low=b.low,
            close=b.close,
            volume=b.volume,
        )
        for b in found
    ]


def _parse_bar_size(value: str) -> BarSize:
    try:
        return BarSize.parse(value)
    except ValueError as error:
        raise InvalidSpecError("bar_size", str(error)) from None


@router.get("/journal")
async def journal(
    operation_id: str,
    services: ServicesDep,
    user: Viewer,
    after_sequence: int = Query(0, ge=0, le=MAX_INT64),
    limit: Limit = 1000,
) -> list[JournalEntryOut]:
    """Journal entries with sequence number > after_sequence, in order."""
    operation = await load_operation(operation_id)
    records = await services.journal_store.read(str(operation.id), after_sequence, limit)
    return [JournalEntryOut.model_validate(journal_json(r)) for r in records]
