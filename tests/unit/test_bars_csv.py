"""read_bars_csv on the shipped real files and on small dirty files."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from live_trading.data.bars_csv import BarFile, RejectedRow, read_bars_csv
from live_trading.domain.values import Bar

SAMPLES = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data"
USDCAD_1H = SAMPLES / "USDCAD_1h.csv"
EURUSD_1H = SAMPLES / "EURUSD_1h.csv"
USDCAD_1D = SAMPLES / "USDCAD_1d.csv"

HEADER = "time,open,high,low,close,volume"


def _write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def _raw_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every data row, by plain string splitting."""
    text = path.read_text(encoding="utf-8-sig")
    return [(number, line.split(",")) for number, line in enumerate(text.splitlines(), 1)][1:]


def _outside(open_: float, high: float, low: float, close: float) -> bool:
    return high < low or not (low <= open_ <= high and low <= close <= high)


def _assert_clean_series(bars: list[Bar]) -> None:
    assert all(a.time < b.time for a, b in zip(bars, bars[1:]))
    for bar in bars:
        assert bar.low <= bar.open <= bar.high
        assert bar.low <= bar.close <= bar.high
        assert bar.time.tzinfo is UTC


# --- real files -------------------------------------------------------------


def test_usdcad_1h_sample_is_read_whole() -> None:
    result = read_bars_csv(USDCAD_1H)

    rows = _raw_rows(USDCAD_1H)
    assert len(rows) == 5116
    assert len(result.bars) == 5116
    assert result.rejected == []
    assert result.source == USDCAD_1H
    for bar, (_, fields) in ((result.bars[0], rows[0]), (result.bars[-1], rows[-1])):
        expected_time = datetime.fromisoformat(fields[0].replace("Z", "+00:00"))
        assert bar.time == expected_time
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == tuple(
            float(f) for f in fields[1:6]
        )
    assert result.bars[0].time == datetime(2025, 1, 15, 4, tzinfo=UTC)
    assert result.bars[-1].time == datetime(2025, 11, 11, 20, tzinfo=UTC)
    assert result.bars[-1].close == 1.40081
    _assert_clean_series(result.bars)


def test_eurusd_1h_rejects_exactly_the_bars_outside_high_low() -> None:
    result = read_bars_csv(EURUSD_1H)

    rows = _raw_rows(EURUSD_1H)
    bad_lines = [n for n, f in rows if _outside(*(float(x) for x in f[1:5]))]
    assert bad_lines == [4, 330, 1042]
    assert [r.line for r in result.rejected] == bad_lines
    lines = EURUSD_1H.read_text().splitlines()
    for rejected in result.rejected:
        assert "high" in rejected.reason and "low" in rejected.reason
        assert rejected.raw == lines[rejected.line - 1]
    assert len(result.bars) == len(rows) - 3 == 5117
    rejected_times = {lines[n - 1].split(",")[0] for n in bad_lines}
    kept_times = {b.time.isoformat().replace("+00:00", "Z") for b in result.bars}
    assert not rejected_times & kept_times
    _assert_clean_series(result.bars)


def test_usdcad_1d_investing_export_is_reversed_to_oldest_first() -> None:
    result = read_bars_csv(USDCAD_1D)

    rows = _raw_rows(USDCAD_1D)
    assert len(rows) == 6659
    assert rows[0][1][0] == "7/11/2025"  # the file itself is newest first
    bad_lines = [
        n for n, f in rows if _outside(float(f[2]), float(f[3]), float(f[4]), float(f[1]))
    ]
    assert [r.line for r in result.rejected] == bad_lines
    assert len(result.rejected) == 84
    assert len(result.bars) == len(rows) - len(result.rejected) == 6575
    assert result.bars[0].time == datetime(2000, 1, 3, tzinfo=UTC)
    assert result.bars[-1].time == datetime(2025, 7, 11, tzinfo=UTC)
    price_by_day = {}
    for _, fields in rows:
        month, day, year = (int(p) for p in fields[0].split("/"))
        price_by_day[datetime(year, month, day, tzinfo=UTC)] = float(fields[1])
    assert all(bar.close == price_by_day[bar.time] for bar in result.bars)
    assert all(bar.volume == 0.0 for bar in result.bars)
    _assert_clean_series(result.bars)


def test_daily_file_parses_well_under_a_second() -> None:
    started = time.perf_counter()
    read_bars_csv(USDCAD_1D)
    assert time.perf_counter() - started < 1.0


# --- rejects on dirty files -------------------------------------------------

GOOD_1 = "2025-01-01T00:00:00Z,1.0,1.2,0.9,1.1,5"
GOOD_2 = "2025-01-01T01:00:00Z,1.1,1.3,1.0,1.2,5"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2025-01-01T02:00:00Z,1.1,1.3,1.0,1.2", "expected 6 fields, got 5"),
        ("2025-01-01T02:00:00Z,1.1,1.3,1.0,1.2,5,7", "expected 6 fields, got 7"),
        ("yesterday,1.1,1.3,1.0,1.2,5", "unparsable time"),
        ("2025-13-01T02:00:00Z,1.1,1.3,1.0,1.2,5", "unparsable time"),
        (",1.1,1.3,1.0,1.2,5", "unparsable time"),
        ("2025-01-01T02:00:00Z,,1.3,1.0,1.2,5", "missing open"),
        ("2025-01-01T02:00:00Z,1.1,abc,1.0,1.2,5", "unparsable high"),
        ("2025-01-01T02:00:00Z,1.1,1.3,NaN,1.2,5", "low is not a finite number"),
        ("2025-01-01T02:00:00Z,1.1,inf,1.0,1.2,5", "high is not a finite number"),
        ("2025-01-01T02:00:00Z,0,1.3,1.0,1.2,5", "open 0.0 <= 0"),
        ("2025-01-01T02:00:00Z,1.1,1.3,-1.0,1.2,5", "low -1.0 <= 0"),
        ("2025-01-01T02:00:00Z,1.1,1.0,1.3,1.2,5", "high 1.0 < low 1.3"),
        ("2025-01-01T02:00:00Z,1.4,1.3,1.0,1.2,5", "open 1.4 outside [low 1.0, high 1.3]"),
        ("2025-01-01T02:00:00Z,1.1,1.3,1.0,0.95,5", "close 0.95 outside [low 1.0, high 1.3]"),
        ("2025-01-01T02:00:00Z,1.1,1.3,1.0,1.2,-5", "negative volume"),
        ("2025-01-01T02:00:00Z,1.1,1.3,1.0,1.2,lots", "unparsable volume"),
        ("2025-01-01T01:00:00Z,1.1,1.3,1.0,1.2,5", "duplicate timestamp 2025-01-01T01:00:00"),
        ("2025-01-01T00:30:00Z,1.1,1.3,1.0,1.2,5", "out of order"),
    ],
)
def test_each_bad_row_is_rejected_with_its_line(tmp_path: Path, row: str, reason: str) -> None:
    last = "2025-01-01T03:00:00Z,1.2,1.4,1.1,1.3,5"
    path = _write(tmp_path, _lines(HEADER, GOOD_1, GOOD_2, row, last))

    result = read_bars_csv(path)

    assert len(result.rejected) == 1
    rejected = result.rejected[0]
    assert rejected.line == 4
    assert reason in rejected.reason
    assert rejected.raw == row
    assert [b.time.hour for b in result.bars] == [0, 1, 3]


def test_many_rejects_keep_physical_line_numbers(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\r\n"
        f"{GOOD_1}\r\n"
        "\r\n"  # blank line 3: skipped, still counted
        "2025-01-01T01:00:00Z,1.1,1.3,1.0,1.2\r\n"  # 4: field count
        f"{GOOD_2}\r\n"  # 5
        "2025-01-01T01:00:00Z,1.1,1.3,1.0,1.2,5\r\n"  # 6: duplicate
        '2025-01-01T02:00:00Z,1.1,1.3,1.0,1.2,"1\r\n2"\r\n'  # 7-8: quoted newline
        "2025-01-01T00:00:00Z,1.0,1.2,0.9,1.1,5\r\n"  # 9: out of order
        "2025-01-01T04:00:00Z,1.2,1.1,1.3,1.2,5\r\n"  # 10: high < low
        "2025-01-01T05:00:00Z,1.2,1.4,1.1,1.3,5\r\n"  # 11: good
    )
    path = _write(tmp_path, text)

    result = read_bars_csv(path)

    assert [(r.line, r.reason.split()[0]) for r in result.rejected] == [
        (4, "expected"),
        (6, "duplicate"),
        (7, "unparsable"),
        (9, "out"),
        (10, "high"),
    ]
    assert result.rejected[2].raw == '2025-01-01T02:00:00Z,1.1,1.3,1.0,1.2,"1\r\n2"'
    assert result.rejected[0].raw == "2025-01-01T01:00:00Z,1.1,1.3,1.0,1.2"
    assert [b.time.hour for b in result.bars] == [0, 1, 5]


def test_newest_first_file_is_reversed_and_lines_refer_to_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "Date,Price,Open,High,Low,Vol.,Change %",
            "1/5/2024,1.2,1.1,1.3,1.0,,0.1%",  # 2
            "1/4/2024,1.2,1.1,1.3,1.0,,0.1%",  # 3
            "1/9/2024,1.2,1.1,1.3,1.0,,0.1%",  # 4: out of place
            "1/3/2024,1.2,1.1,1.3,1.0,,0.1%",  # 5
            "1/3/2024,1.25,1.1,1.3,1.0,,0.1%",  # 6: same day again
            "1/2/2024,1.2,1.1,1.3,1.0,,0.1%",  # 7
        ),
    )

    result = read_bars_csv(path)

    assert [b.time.day for b in result.bars] == [2, 3, 9]
    assert result.bars[1].close == 1.25  # time order meets line 6 before line 5
    assert [(r.line, r.reason.split()[0]) for r in result.rejected] == [
        (2, "out"),
        (3, "out"),
        (5, "duplicate"),
    ]


def test_rejects_are_logged_with_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path, _lines(HEADER, GOOD_1, "2025-01-01T01:00:00Z,x,1,1,1,0"))

    with caplog.at_level(logging.WARNING, logger="live_trading.data"):
        read_bars_csv(path)

    messages = [r.getMessage() for r in caplog.records if r.name == "live_trading.data"]
    assert messages == [f"{path}:3: unparsable open 'x'"]
    assert caplog.records[0].levelno == logging.WARNING


# --- formats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-11T09:30:00Z", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("2025-07-11T09:30:00+02:00", datetime(2025, 7, 11, 7, 30, tzinfo=UTC)),
        ("2025-07-11T21:30:00-05:00", datetime(2025, 7, 12, 2, 30, tzinfo=UTC)),
        ("2025-07-11 09:30:00", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("2025-07-11", datetime(2025, 7, 11, tzinfo=UTC)),
        ("7/11/2025", datetime(2025, 7, 11, tzinfo=UTC)),
        ("1752226200", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("2025-07-11T09:30:00.123456Z", datetime(2025, 7, 11, 9, 30, 0, 123000, tzinfo=UTC)),
    ],
)
def test_times_are_converted_to_utc(tmp_path: Path, text: str, expected: datetime) -> None:
    path = _write(tmp_path, _lines(HEADER, f"{text},1.0,1.2,0.9,1.1,0"))

    (bar,) = read_bars_csv(path).bars

    assert bar.time == expected
    assert bar.time.utcoffset() is not None and bar.time.utcoffset().total_seconds() == 0


def test_ambiguous_two_digit_year_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(HEADER, "7/11/25,1.0,1.2,0.9,1.1,0"))

    assert "unparsable time" in read_bars_csv(path).rejected[0].reason


def test_bom_aliases_thousands_and_volume_suffixes(tmp_path: Path) -> None:
    text = _lines(
        " Timestamp , OPEN,High,low , Price ,Vol.,Change %",
        '2025-01-01,"1,234.5","1,300.25",1200,"1,250",1.2K,0.1%',
        "2025-01-02,1250,1260,1240,1255,3m,0.2%",
        "2025-01-03,1255,1270,1250,1260,2B,0.3%",
        '2025-01-04,1260,1270,1250,1265,"1,500",0.3%',
        "2025-01-05,1265,1270,1250,1266,,0.1%",
        "2025-01-06,1266,1270,1250,1267,-,0.1%",
    )
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    result = read_bars_csv(path)

    assert result.rejected == []
    first = result.bars[0]
    assert (first.open, first.high, first.low, first.close) == (1234.5, 1300.25, 1200.0, 1250.0)
    assert [b.volume for b in result.bars] == [1200.0, 3e6, 2e9, 1500.0, 0.0, 0.0]


def test_bad_thousands_grouping_is_not_read_as_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(HEADER, '2025-01-01,"1,5",2,1,1.5,0'))

    assert "unparsable open" in read_bars_csv(path).rejected[0].reason


def test_missing_volume_column_means_zero(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines("date,open,high,low,close", "2025-01-01,1,2,0.5,1.5"))

    assert read_bars_csv(path).bars == [
        Bar(datetime(2025, 1, 1, tzinfo=UTC), 1.0, 2.0, 0.5, 1.5, 0.0)
    ]


def test_header_without_close_raises_naming_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines("time,open,high,low,volume", "2025-01-01,1,2,0.5,0"))

    with pytest.raises(ValueError, match="time,open,high,low,volume") as info:
        read_bars_csv(path)
    assert "close" in str(info.value)


def test_header_without_time_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines("when,open,high,low,close", "2025-01-01,1,2,0.5,1"))

    with pytest.raises(ValueError, match="no time column"):
        read_bars_csv(path)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bars_csv(tmp_path / "nope.csv")


@pytest.mark.parametrize("text", ["", "\n\n", HEADER + "\n", "\ufeff" + HEADER])
def test_empty_or_header_only_file_has_no_bars(tmp_path: Path, text: str) -> None:
    result = read_bars_csv(_write(tmp_path, text))

    assert result == BarFile(tmp_path / "bars.csv", [], [])


def test_rejected_row_is_a_frozen_value() -> None:
    row = RejectedRow(3, "why", "a,b")
    with pytest.raises(AttributeError):
        row.line = 4  # type: ignore[misc]


def test_row_the_csv_module_cannot_read_is_rejected(tmp_path: Path) -> None:
    huge = "1" * 200_000  # over the csv module's field size limit
    third = GOOD_2.replace("T01", "T02")
    path = _write(tmp_path, _lines(HEADER, GOOD_1, f"{GOOD_2[:-2]},{huge}", third))

    result = read_bars_csv(path)

    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [(3, "malformed CSV")]
    assert [b.time.hour for b in result.bars] == [0, 2]
