"""Dependencies shared by the routers (``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from live_trading.bootstrap import Services
from live_trading.engine.trading_engine import TradingEngine

MANUAL_SOURCE = "api/manual"


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_engine(request: Request) -> TradingEngine:
    return request.app.state.services.engine


ServicesDep = Annotated[Services, Depends(get_services)]
EngineDep = Annotated[TradingEngine, Depends(get_engine)]
Limit = Annotated[int, Query(ge=1, le=10_000, description="page size (at most 10,000)")]
# The largest integer MongoDB stores (a signed 64-bit int); bounds every
# integer the API passes on to a query, so that none is refused with a 500.
MAX_INT64 = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_INT64, description="documents to skip")]
