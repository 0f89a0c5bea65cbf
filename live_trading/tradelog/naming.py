"""Names of the trade log: directories, times, symbols and intervals.

A trade log directory is ``trades_{symbol}_{interval}``: the asset without its
hyphen (``USDCAD``, as in replay file names) and the compact code of the
operation's primary bar size (``1h``), e.g. ``trades_USDCAD_1h``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from live_trading.domain.values import Asset, BarSize

_COMPACT_SYMBOL = re.compile(r"^([A-Z]{3})([A-Z]{3})$")
_MINUTES = {int(size.duration.total_seconds() // 60): size for size in BarSize}


def directory_name(asset: str | Asset, bar_size: str | BarSize) -> str:
    """``trades_USDCAD_1h`` for asset ``USD-CAD`` and bar size ``1 hour``.

    Raises:
        ValueError: the asset or the bar size is not valid.
    """
    parsed = asset if isinstance(asset, Asset) else Asset.parse(asset)
    return f"trades_{parsed.symbol}_{BarSize.parse(str(bar_size)).code}"


def iso_time(moment: datetime) -> str:
    """``2025-01-15T04:00:00.000Z``: ISO-8601 UTC with milliseconds (fixed
    width, so the strings sort in time order).

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: trade log times must be timezone-aware UTC")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_time(text: str) -> datetime:
    """The aware UTC datetime of a time written by :func:`iso_time`."""
    return datetime.fromisoformat(text).astimezone(UTC)


def unix_seconds(text: str) -> int:
    """Whole UNIX seconds of an ISO time (a lightweight-charts ``UTCTimestamp``)."""
    return int(parse_iso_time(text).timestamp())


def parse_symbol(text: str) -> Asset:
    """An asset from ``USD-CAD`` (any form :meth:`Asset.parse` accepts),
    ``USD/CAD``, ``USD_CAD`` or the compact ``USDCAD`` (three + three letters).

    Raises:
        ValueError: none of these forms.
    """
    cleaned = str(text).strip().upper().replace("/", "-").replace("_", "-")
    match = _COMPACT_SYMBOL.match(cleaned)
    if match:
        cleaned = f"{match.group(1)}-{match.group(2)}"
    try:
        return Asset.parse(cleaned)
    except ValueError:
        raise ValueError(f"symbol {text!r} is not an asset like 'USD-CAD' or 'USDCAD'") from None


def parse_interval(text: str) -> BarSize:
    """A bar size from its IB name (``1 hour``), its code (``1h``), the name
    without blanks (``1hour``, ``5mins``) or a number of minutes (``60``).

    Raises:
        ValueError: naming the accepted forms, when ``text`` is none of them.
    """
    cleaned = "".join(str(text).strip().lower().split())
    for size in BarSize:
        compact = size.value.replace(" ", "")
        if cleaned in (size.code, compact, compact.rstrip("s")):
            return size
    if cleaned.isascii() and cleaned.isdigit() and int(cleaned) in _MINUTES:
        return _MINUTES[int(cleaned)]
    try:
        return BarSize.parse(text)
    except ValueError:
        codes = ", ".join(size.code for size in BarSize)
        raise ValueError(
            f"interval {text!r} is not a bar size; use one of {codes}, an IB "
            "name such as '1 hour', or minutes such as '60'"
        ) from None
