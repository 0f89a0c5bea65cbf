"""``GET /api/v1/trade-log``: logged trades with chart markers and stop segments.

Times are ISO-8601 text as the trade log wrote them; marker and segment
times are UNIX seconds. Prices in the quote currency, quantities in
base-asset units, ``pnl`` net of commissions.
"""

from __future__ import annotations

from typing import Literal

from .base import IsoTime, OutModel


class ChartMarkerOut(OutModel):
    """A marker for the chart (lightweight-charts' series marker)."""

    time: int
    position: Literal["aboveBar", "belowBar", "inBar"]
    shape: Literal["arrowUp", "arrowDown", "circle", "square"]
    color: str
    text: str


class StopSegmentOut(OutModel):
    """The stop price from ``startTime`` to ``endTime`` (null while the trade
    is open), UNIX seconds."""

    startTime: int
    endTime: int | None
    price: float


class TradeLogTradeOut(OutModel):
    """One trade; the close fields are null while it is open."""

    tradeId: str
    operationId: str
    side: Literal["LONG", "SHORT"]
    quantity: float
    entryDateTime: IsoTime
    entryPrice: float
    initialStopPrice: float | None
    targetPrice: float | None
    closeDateTime: IsoTime | None
    closePrice: float | None
    closeReason: str | None
    points: float | None
    pnl: float | None
    snapshotFile: str | None
    context: str
    markers: list[ChartMarkerOut]
    stopSegments: list[StopSegmentOut]


class TradeLogOut(OutModel):
    """The trades of the operations trading ``symbol`` on bar size ``interval``."""

    mode: str
    symbol: str
    interval: str
    trades: list[TradeLogTradeOut]
