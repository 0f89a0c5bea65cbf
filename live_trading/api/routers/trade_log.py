"""``GET /api/v1/trade-log``: logged trades with chart markers and stop segments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from live_trading.api.auth import Viewer
from live_trading.api.deps import ServicesDep
from live_trading.api.schemas import TradeLogOut
from live_trading.engine.specs import InvalidSpecError
from live_trading.tradelog.naming import parse_interval, parse_symbol

router = APIRouter(tags=["trade-log"])


@router.get("/api/v1/trade-log")
async def trade_log(
    services: ServicesDep,
    user: Viewer,
    symbol: Annotated[
        str, Query(description="asset: USD-CAD, usd-cad, USD/CAD or USDCAD", max_length=32)
    ],
    interval: Annotated[
        str, Query(description="primary bar size: 1h, 1 hour, 1hour or minutes (60)", max_length=32)
    ],
    since: Annotated[
        datetime | None,
        Query(description="ISO-8601 time with a zone: trades entered at or after it"),
    ] = None,
) -> TradeLogOut:
    """Trades of the operations trading ``symbol`` on primary bar size
    ``interval``: ``{mode, symbol, interval, trades: [{tradeId, operationId,
    side, quantity, entryDateTime, entryPrice, initialStopPrice, targetPrice,
    closeDateTime, closePrice, closeReason, points, pnl, snapshotFile,
    context, markers, stopSegments}]}``. Prices in quote currency, quantity
    in base-asset units, ``pnl`` net of commissions (quote currency), marker
    and segment times in UNIX seconds. Read from the trade log files in
    trading mode, folded from the journal in simulation mode. A bad
    parameter is a 422 naming it."""
    try:
        asset = parse_symbol(symbol)
    except ValueError as error:
        raise InvalidSpecError("symbol", str(error)) from None
    try:
        bar_size = parse_interval(interval)
    except ValueError as error:
        raise InvalidSpecError("interval", str(error)) from None
    if since is not None and since.tzinfo is None:
        raise InvalidSpecError("since", "give a time zone, e.g. 2025-01-15T00:00:00Z")
    assert services.trade_log is not None  # bootstrap.open_services starts it
    return TradeLogOut.model_validate(await services.trade_log.trades(asset, bar_size, since))
