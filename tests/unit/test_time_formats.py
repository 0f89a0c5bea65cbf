"""The date and time texts of market data files, parsed to aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from live_trading.data.time_formats import (
    combine_date_time,
    is_time_of_day,
    looks_like_time,
    parse_time,
)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO-8601, with T or a space, with or without zone
        ("2025-07-11T09:30:00Z", _utc(2025, 7, 11, 9, 30)),
        ("2025-07-11T09:30:00+02:00", _utc(2025, 7, 11, 7, 30)),
        ("2025-07-11 09:30:00", _utc(2025, 7, 11, 9, 30)),
        ("2025-07-11 09:30", _utc(2025, 7, 11, 9, 30)),
        ("2025-07-11 21:30:00-05:00", _utc(2025, 7, 12, 2, 30)),
        ("2025-07-11", _utc(2025, 7, 11)),
        ("  2025-07-11  ", _utc(2025, 7, 11)),
        # MetaTrader
        ("2025.07.11", _utc(2025, 7, 11)),
        ("2025.7.1", _utc(2025, 7, 1)),
        ("2025.07.11 09:30", _utc(2025, 7, 11, 9, 30)),
        ("2025.07.11 09:30:15", _utc(2025, 7, 11, 9, 30, 15)),
        # year first with slashes
        ("2025/07/11", _utc(2025, 7, 11)),
        ("2025/07/11 09:30:15", _utc(2025, 7, 11, 9, 30, 15)),
        # Dukascopy: day first, milliseconds, optional GMT offset
        ("11.07.2025 09:30:00.123", _utc(2025, 7, 11, 9, 30, 0, 123000)),
        ("11.07.2025 09:30:00.1239", _utc(2025, 7, 11, 9, 30, 0, 123000)),
        ("11.07.2025 11:30:00.000 GMT+0200", _utc(2025, 7, 11, 9, 30)),
        ("11.07.2025 01:30:00.000 GMT+02:00", _utc(2025, 7, 10, 23, 30)),
        ("11.07.2025 04:30:00.000 GMT-0500", _utc(2025, 7, 11, 9, 30)),
        ("11.07.2025 09:30:00.000 GMT", _utc(2025, 7, 11, 9, 30)),
        ("11.07.2025 09:30 UTC", _utc(2025, 7, 11, 9, 30)),
        ("11.07.2025", _utc(2025, 7, 11)),
        # Finam, epoch seconds and milliseconds
        ("20250711", _utc(2025, 7, 11)),
        ("1752226200", _utc(2025, 7, 11, 9, 30)),
        ("1752226200999", _utc(2025, 7, 11, 9, 30, 0, 999000)),
        ("0000000000000", _utc(1970, 1, 1)),
        # investing.com, month first
        ("7/11/2025", _utc(2025, 7, 11)),
        ("12/1/2025", _utc(2025, 12, 1)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    parsed = parse_time(text)

    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2025-13-01",
        "2025.02.30",
        "2025.07.11 24:00",
        "2025.07.11 09:60",
        "2025.07.11 09:30:61",
        "2025.07.11 09:30 GMT+2400",
        "2025.07.11 09:30 CET",
        "32.07.2025 09:30:00.000",
        "11.13.2025",
        "11-07-2025",
        "11/07/25",
        "7/11/25",
        "2025/07/11T09:30",
        "2025.07.11T09:30",
        "20251311",
        "175222620",
        "17522262001",
        "175222620000",
        "17522262000000",
        "1752226200.5",
        "9999.12.31 23:30 GMT-0100",  # past year 9999 once in UTC
    ],
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)
    assert not looks_like_time(text)


@pytest.mark.parametrize(
    ("date", "time_of_day", "expected"),
    [
        ("2025-07-11", "09:30", _utc(2025, 7, 11, 9, 30)),
        ("2025-07-11", "9:30", _utc(2025, 7, 11, 9, 30)),
        ("2025.07.11", "09:30:15", _utc(2025, 7, 11, 9, 30, 15)),
        ("20250711", "093015", _utc(2025, 7, 11, 9, 30, 15)),
        ("20250711", "000000", _utc(2025, 7, 11)),
        ("20250711", "0930", _utc(2025, 7, 11, 9, 30)),
        ("11.07.2025", "09:30:15.5", _utc(2025, 7, 11, 9, 30, 15, 500000)),
        ("7/11/2025", "23:59:59", _utc(2025, 7, 11, 23, 59, 59)),
        (" 2025-07-11 ", " 09:30 ", _utc(2025, 7, 11, 9, 30)),
        ("2025-07-11", "01:00 GMT+0200", _utc(2025, 7, 10, 23)),
    ],
)
def test_combine_date_time(date: str, time_of_day: str, expected: datetime) -> None:
    assert is_time_of_day(time_of_day)
    assert combine_date_time(date, time_of_day) == expected


@pytest.mark.parametrize(
    ("date", "time_of_day"),
    [
        ("2025-07-11", "24:00"),
        ("2025-07-11", "240000"),
        ("2025-02-30", "09:30"),
        ("2025-07-11 09:00", "09:30"),  # the date already has a time
        ("1752226200", "09:30"),  # an epoch time is not a date
        ("", "09:30"),
        ("2025-07-11", "9.30"),
        ("2025-07-11", ""),
    ],
)
def test_combine_date_time_rejects(date: str, time_of_day: str) -> None:
    with pytest.raises(ValueError):
        combine_date_time(date, time_of_day)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:30", True),
        ("9:30", True),
        ("09:30:15", True),
        ("09:30:15.123", True),
        ("093015", True),
        ("0930", True),
        ("09:30 GMT+0200", True),
        ("", False),
        ("2025-07-11T09:30:00Z", False),
        ("1752226200", False),
        ("09", False),
        ("9:3", False),
        ("09h30", False),
    ],
)
def test_is_time_of_day(text: str, expected: bool) -> None:
    assert is_time_of_day(text) is expected


@pytest.mark.parametrize("text", ["time", "Date", "open", "1.2345", "100", "<DATE>", "Vol."])
def test_header_names_do_not_look_like_times(text: str) -> None:
    assert not looks_like_time(text)
