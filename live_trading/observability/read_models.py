"""Figures for the metrics gauges, read from the read models at scrape time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from live_trading.domain.pnl import unrealized_pnl
from live_trading.journal.documents import Position, Trade, TradingOperation


@dataclass
class ReadModelFigures:
    """Totals over every operation.

    ``open_positions``, ``realized_pnl`` and ``unrealized_pnl`` are keyed by
    asset (``"USD-CAD"``) with an entry for every asset that has an operation;
    amounts are in that asset's quote currency. ``operations_by_status`` is
    keyed by status (``"active"``, ``"paused"``...).
    """

    operations_by_status: dict[str, float] = field(default_factory=dict)
    open_positions: dict[str, float] = field(default_factory=dict)
    realized_pnl: dict[str, float] = field(default_factory=dict)
    unrealized_pnl: dict[str, float] = field(default_factory=dict)


async def read_model_figures(last_price: Callable[[str], float | None]) -> ReadModelFigures:
    """Operations by status, and per asset the open positions, the realized net
    P/L of closed trades and the unrealized P/L of open positions marked at
    ``last_price(operation_id)`` (the position's stored mark when None)."""
    figures = ReadModelFigures()
    asset_of: dict[str, str] = {}
    for operation in await TradingOperation.find({}).to_list():
        asset_of[str(operation.id)] = operation.asset
        status = str(operation.status)
        figures.operations_by_status[status] = figures.operations_by_status.get(status, 0) + 1
        for totals in (figures.open_positions, figures.realized_pnl, figures.unrealized_pnl):
            totals.setdefault(operation.asset, 0.0)
    realized = Trade.aggregate([{"$group": {"_id": "$operation_id", "pnl": {"$sum": "$pnl"}}}])
    for row in await realized.to_list():
        asset = asset_of.get(str(row["_id"]))
        if asset is not None:
            figures.realized_pnl[asset] += row["pnl"]
    for position in await Position.find({"status": "OPEN"}).to_list():
        asset = asset_of.get(str(position.operation_id))
        if asset is None:
            continue
        figures.open_positions[asset] += 1
        mark = last_price(str(position.operation_id))
        figures.unrealized_pnl[asset] += (
            position.unrealized_pnl
            if mark is None
            else unrealized_pnl(
                position.position_type, position.entry_price, mark, abs(position.quantity)
            )
        )
    return figures
