"""OANDA's v20 shapes for the fake v20 server (tests/fakes/oanda_v20.py):
RFC3339 nanosecond times, decimals as strings, the errors the routes turn
into OANDA's error bodies, and candles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any


def rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}123Z"


def parse_rfc3339(text: str) -> datetime:
    """``2024-01-02T03:04:05.123456789Z`` (any fraction) -> aware datetime."""
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest or '0')[:6].ljust(6, '0')}+00:00")


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def s5(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.00001")))


class OANDAError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("errorMessage"))
        self.status, self.body = status, body


def make_candles(
    start: datetime, step: timedelta, closes: list[float], complete_last: bool = True
) -> list[dict[str, Any]]:
    """Candles in OANDA's shape (``mid`` o/h/l/c strings), one per close."""
    out = []
    previous = closes[0]
    for index, close in enumerate(closes):
        o, c = dec(previous), dec(close)
        out.append(
            {
                "time": rfc3339(start + step * index),
                "volume": 10 + index,
                "complete": complete_last or index < len(closes) - 1,
                "mid": {
                    "o": s5(o),
                    "h": s5(max(o, c) + Decimal("0.0005")),
                    "l": s5(min(o, c) - Decimal("0.0005")),
                    "c": s5(c),
                },
            }
        )
        previous = close
    return out
