"""Parse the date and time texts of market data files to aware UTC datetimes.

The accepted formats are listed in :mod:`live_trading.data.bars_csv`. Every
function raises :class:`ValueError` on a text it does not accept; values that
carry no offset are taken as UTC; results are truncated to milliseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from live_trading.domain.values import utc_ms

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIDNIGHT = time(0)

# YYYY.MM.DD / YYYY/MM/DD (groups 1, 3, 4) or DD.MM.YYYY (groups 5-7).
_DATE = re.compile(r"(\d{4})([./])(\d{1,2})\2(\d{1,2})|(\d{1,2})\.(\d{1,2})\.(\d{4})")
# HH:MM[:SS[.fff]] (groups 1-4) or HHMM[SS] (groups 5-7), then an optional
# zone: Z, UTC, GMT, or one of them followed by +HHMM / +HH:MM (group 8-10).
_TIME_OF_DAY = re.compile(
    r"(?:(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?|(\d{2})(\d{2})(\d{2})?)"
    r"(?:\s*(?:Z|UTC|GMT)(?:([+-])(\d{2}):?(\d{2}))?)?",
    re.IGNORECASE,
)


def is_time_of_day(text: str) -> bool:
    """True when ``text`` looks like ``HH:MM``, ``HH:MM:SS[.fff]``, ``HHMM`` or ``HHMMSS``."""
    return _TIME_OF_DAY.fullmatch(text.strip()) is not None


def looks_like_time(text: str) -> bool:
    """True when :func:`parse_time` accepts ``text``."""
    try:
        parse_time(text)
    except ValueError:
        return False
    return True


def parse_time(text: str) -> datetime:
    """Parse one timestamp text (a date alone is midnight) to aware UTC.

    Raises:
        ValueError: when the text matches no accepted format.
    """
    try:
        return _parse_time(text.strip())
    except OverflowError:
        raise ValueError(f"time out of range: {text!r}") from None


def _parse_time(value: str) -> datetime:
    """:func:`parse_time` of a stripped text; may raise OverflowError."""
    if value.isascii() and value.isdigit():
        return utc_ms(_from_digits(value))
    date_text, _, rest = value.partition(" ")
    match = _DATE.fullmatch(date_text)
    if match is not None:
        day = _dotted_date(match)
        return day + _time_of_day(rest.strip()) if rest.strip() else day
    if "/" in value:
        return _month_day_year(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_ms(moment)


def combine_date_time(date_text: str, time_text: str) -> datetime:
    """A date-only text plus a separate time-of-day text, as aware UTC.

    Raises:
        ValueError: when the date is not a plain date (or has a time other
            than midnight) or the time is not a time of day.
    """
    try:
        return _midnight(date_text.strip()) + _time_of_day(time_text.strip())
    except OverflowError:
        raise ValueError(f"time out of range: {date_text!r} {time_text!r}") from None


@lru_cache(maxsize=1024)  # files repeat each date for every bar of the day
def _midnight(date_text: str) -> datetime:
    """Midnight UTC of a date-only text."""
    day = parse_time(date_text)
    if day.time() != _MIDNIGHT:
        raise ValueError(f"not a date: {date_text!r}")
    return day


def _from_digits(value: str) -> datetime:
    """``YYYYMMDD``, 10-digit epoch seconds or 13-digit epoch milliseconds."""
    if len(value) == 8:
        return datetime(int(value[:4]), int(value[4:6]), int(value[6:]), tzinfo=UTC)
    if len(value) == 10:
        return _EPOCH + timedelta(seconds=int(value))
    if len(value) == 13:
        return _EPOCH + timedelta(milliseconds=int(value))
    raise ValueError(f"unknown digits-only time {value!r}")


def _dotted_date(match: re.Match[str]) -> datetime:
    """Midnight UTC of a ``YYYY.MM.DD``, ``YYYY/MM/DD`` or ``DD.MM.YYYY`` match."""
    if match.group(1) is not None:
        year, month, day = match.group(1, 3, 4)
    else:
        day, month, year = match.group(5, 6, 7)
    return datetime(int(year), int(month), int(day), tzinfo=UTC)


@lru_cache(maxsize=4096)  # and each time of day on every day
def _time_of_day(text: str) -> timedelta:
    """Time since midnight UTC (whole ms) of a stripped time of day and its zone."""
    match = _TIME_OF_DAY.fullmatch(text)
    if match is None:
        raise ValueError(f"not a time of day: {text!r}")
    if match.group(1) is not None:
        hour, minute, second, fraction = match.group(1, 2, 3, 4)
    else:
        hour, minute, second = match.group(5, 6, 7)
        fraction = None
    moment = time(
        int(hour), int(minute), int(second or 0), int((fraction or "0")[:3].ljust(6, "0"))
    )  # validates the ranges
    since_midnight = timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )
    sign, zone_hours, zone_minutes = match.group(8, 9, 10)
    if sign is not None:
        offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
        if offset >= timedelta(hours=24):
            raise ValueError(f"bad UTC offset in {text!r}")
        since_midnight -= offset if sign == "+" else -offset
    return since_midnight


def _month_day_year(value: str) -> datetime:
    """``M/D/YYYY`` (investing.com) as midnight UTC; raises ValueError."""
    parts = value.split("/")
    if len(parts) != 3 or len(parts[2].strip()) != 4:
        raise ValueError(value)
    month, day, year = (int(part) for part in parts)
    return datetime(year, month, day, tzinfo=UTC)
