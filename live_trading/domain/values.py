"""Value types of the trading domain: assets, bar sizes, bars, sides.

Conventions used across the project:

* prices are in the quote currency of the asset (USD-CAD: CAD per USD);
* quantities are in units of the base asset (USD-CAD: USD), always positive,
  the direction being carried by :class:`Side` or :class:`PositionSide`;
* times are timezone-aware UTC :class:`datetime` values, truncated to whole
  milliseconds (the precision MongoDB stores), so that a value read back from
  the store equals the value written.

This module imports nothing from the project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Side(StrEnum):
    """Direction of an order or a fill."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(StrEnum):
    """Direction of a position or a round-trip trade."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def entry_side(self) -> Side:
        """The order side that opens a position of this direction."""
        return Side.BUY if self is PositionSide.LONG else Side.SELL

    @property
    def exit_side(self) -> Side:
        """The order side that closes a position of this direction."""
        return self.entry_side.opposite


class OrderType(StrEnum):
    """How an order executes: at market, or at a LIMIT or STOP price."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"


class TransactionRole(StrEnum):
    """What a fill did to the position: opened or added to it, or closed
    (part of) it."""

    ENTRY = "ENTRY"
    EXIT = "EXIT"


class PositionStatus(StrEnum):
    """An open position, or one closed (quantity 0)."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class OperationStatus(StrEnum):
    """The lifecycle of a trading operation (the read model's ``status``)."""

    ACTIVE = "active"
    PAUSED = "paused"
    CLOSING = "closing"  # no new positions; the open one is being flattened
    CLOSED = "closed"
    ERROR = "error"  # the engine could not run it (see OPERATION_FAILED)


class BarSize(StrEnum):
    """Bar sizes, named as Interactive Brokers names them.

    ``code`` is the short form used in replay file names (``USDCAD_1h.csv``).
    """

    MIN_1 = "1 min"
    MIN_5 = "5 mins"
    MIN_15 = "15 mins"
    MIN_30 = "30 mins"
    HOUR_1 = "1 hour"
    HOUR_4 = "4 hours"
    DAY_1 = "1 day"

    @property
    def code(self) -> str:
        return _BAR_CODES[self]

    @property
    def duration(self) -> timedelta:
        return _BAR_DURATIONS[self]

    @classmethod
    def parse(cls, text: str) -> BarSize:
        """Accept the IB name (``"1 hour"``) or the code (``"1h"``).

        Raises:
            ValueError: naming the accepted values, when ``text`` is neither.
        """
        cleaned = " ".join(str(text).strip().lower().split())
        for size in cls:
            if cleaned in (size.value, size.code):
                return size
        accepted = ", ".join(f"'{s.value}'" for s in cls)
        raise ValueError(f"unknown bar size {text!r}; expected one of {accepted}")


_BAR_CODES = {
    BarSize.MIN_1: "1m",
    BarSize.MIN_5: "5m",
    BarSize.MIN_15: "15m",
    BarSize.MIN_30: "30m",
    BarSize.HOUR_1: "1h",
    BarSize.HOUR_4: "4h",
    BarSize.DAY_1: "1d",
}
_BAR_DURATIONS = {
    BarSize.MIN_1: timedelta(minutes=1),
    BarSize.MIN_5: timedelta(minutes=5),
    BarSize.MIN_15: timedelta(minutes=15),
    BarSize.MIN_30: timedelta(minutes=30),
    BarSize.HOUR_1: timedelta(hours=1),
    BarSize.HOUR_4: timedelta(hours=4),
    BarSize.DAY_1: timedelta(days=1),
}

_ASSET_RE = re.compile(r"^([A-Z0-9]{2,10})-([A-Z0-9]{2,10})$")


@dataclass(frozen=True, slots=True)
class Asset:
    """A traded pair written ``BASE-QUOTE`` (``USD-CAD``)."""

    base: str
    quote: str

    @classmethod
    def parse(cls, text: str) -> Asset:
        """Parse ``"USD-CAD"`` (case-insensitive, surrounding blanks ignored).

        Raises:
            ValueError: when ``text`` is not two 2-10 character alphanumeric
                codes joined by a hyphen.
        """
        match = _ASSET_RE.match(str(text).strip().upper())
        if not match:
            raise ValueError(f"asset {text!r} is not of the form BASE-QUOTE, e.g. 'USD-CAD'")
        return cls(match.group(1), match.group(2))

    @property
    def name(self) -> str:
        """``"USD-CAD"``."""
        return f"{self.base}-{self.quote}"

    @property
    def symbol(self) -> str:
        """``"USDCAD"``, as used in replay file names."""
        return f"{self.base}{self.quote}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar.

    ``time`` is the bar's *open* time (UTC); the bar closes at
    ``time + bar_size.duration``. Prices in quote currency; ``volume`` in
    units of the base asset (0 where the source has none, as for FX).
    Invariant (checked by importers, not here): low <= open, close <= high.
    """

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


def utc_ms(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime truncated to milliseconds.

    Raises:
        ValueError: if ``moment`` is naive (no timezone).
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware UTC")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def utc_now() -> datetime:
    """The current time, aware UTC, truncated to milliseconds."""
    return utc_ms(datetime.now(UTC))
