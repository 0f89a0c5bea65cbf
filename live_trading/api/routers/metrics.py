"""Broker call metrics and market history (served through the cache)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from live_trading.api.auth import Viewer
from live_trading.api.deps import ServicesDep
from live_trading.api.schemas import BarOut, MetricsOut
from live_trading.domain.values import Asset, BarSize
from live_trading.engine.specs import InvalidSpecError

router = APIRouter(tags=["metrics"])


@router.get("/api/metrics")
async def metrics(services: ServicesDep, user: Viewer) -> MetricsOut:
    """Broker call timings (per method) and the history cache hit rate."""
    return MetricsOut.model_validate(
        {
            "broker": services.engine.deps.broker.name,
            "broker_calls": services.broker_metrics.summary(),
            "history_cache": services.history.summary(),
        }
    )


def _parse(field: str, parse, value: str):
    try:
        return parse(value)
    except ValueError as error:
        raise InvalidSpecError(field, str(error)) from None


@router.get("/api/market-data/history")
async def history(
    services: ServicesDep,
    user: Viewer,
    asset: str,
    bar_size: str,
    start: Annotated[datetime, Query(description="UTC, inclusive")],
    end: Annotated[datetime, Query(description="UTC, exclusive")],
) -> list[BarOut]:
    """Historical bars of an asset (cached in the store after the first fetch)."""
    name = _parse("asset", Asset.parse, asset).name
    size = _parse("bar_size", BarSize.parse, bar_size)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidSpecError("start", "times must carry a timezone (e.g. Z)")
    if start >= end:
        raise InvalidSpecError("end", "must be after start")
    try:
        bars = await services.history.get_historical_data(name, size, start, end)
    except FileNotFoundError as error:
        raise InvalidSpecError("asset", f"no market data: {error}") from None
    return [
        BarOut(
            time=jsonable_encoder(b.time),
            open=b.open,
            high=b.high,
            low=b.low,
            close=b.close,
            volume=b.volume,
        )
        for b in bars
    ]
