"""read_bars_csv on the shipped real files and on small dirty files."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
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
    assert all(a.time < b.time for a, b in pairwise(bars))
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
        expected_time = datetime.fromisoformat(fields[0])
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
    bad_lines = [n for n, f in rows if _outside(float(f[2]), float(f[3]), float(f[4]), float(f[1]))]
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


# --- wider inputs: delimiters ------------------------------------------------


def _bar(time: datetime, o: float, h: float, lo: float, c: float, v: float = 0.0) -> Bar:
    return Bar(time, o, h, lo, c, v)


D1 = datetime(2025, 7, 11, tzinfo=UTC)


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "Time;Open;High;Low;Close;Volume",
            "2025-07-11;1,2345;1,2400;1,2300;1,2350;1,5K",
            "2025-07-12;1.2350;1.2410;1.2310;1.2400;12",  # dots still work
            "2025-07-13;1,234;1,240;1,230;1,235;-3,5",  # 1,234 is 1.234 here
        ),
    )

    result = read_bars_csv(path)

    assert result.bars == [
        _bar(D1, 1.2345, 1.24, 1.23, 1.235, 1500.0),
        _bar(datetime(2025, 7, 12, tzinfo=UTC), 1.235, 1.241, 1.231, 1.24, 12.0),
    ]
    assert [(r.line, r.reason) for r in result.rejected] == [(4, "negative volume -3.5")]


@pytest.mark.parametrize("field", ["1,2,3", "1,", ",5", "1.2,5", "1,2e3"])
def test_semicolon_file_rejects_other_comma_numbers(tmp_path: Path, field: str) -> None:
    path = _write(tmp_path, _lines("time;open;high;low;close", f"2025-07-11;{field};2;0,5;1"))

    (rejected,) = read_bars_csv(path).rejected

    assert (rejected.line, rejected.reason) == (2, f"unparsable open {field!r}")


def test_comma_file_does_not_take_a_decimal_comma(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(HEADER, '2025-07-11,"1,5",2,1,1.5,0'))

    (rejected,) = read_bars_csv(path).rejected

    assert rejected.reason == "unparsable open '1,5'"


def test_tab_separated_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "time\topen\thigh\tlow\tclose\tvolume",
            "2025-07-11\t1.1\t1.3\t1.0\t1.2\t7",
            "2025-07-12\t1,1\t1.3\t1.0\t1.2\t7",  # no decimal comma outside ; files
        ),
    )

    result = read_bars_csv(path)

    assert result.bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2, 7.0)]
    assert [(r.line, r.reason) for r in result.rejected] == [(3, "unparsable open '1,1'")]


def test_delimiter_is_the_one_giving_the_most_header_fields(tmp_path: Path) -> None:
    # The header names hold commas and a tab, but ";" splits it into the most fields.
    path = _write(
        tmp_path,
        _lines(
            '"Date, UTC";Open;High;Low;Close;"Vol\tlots";"a,b,c"',
            "2025-07-11;1,1;1,3;1,0;1,2;5;x",
        ),
    )

    with pytest.raises(ValueError, match="no time column"):
        read_bars_csv(path)  # "date, utc" is not an alias: proves ";" was chosen
    path.write_text(_lines("date;open;high;low;close;x,y", "2025-07-11;1,1;1,3;1,0;1,2;z"))
    assert read_bars_csv(path).bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2)]


# --- wider inputs: header decoration and aliases -----------------------------


def test_metatrader_export_with_angle_brackets(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>",
            "2025.07.11\t09:30:00\t1.1\t1.3\t1.0\t1.2\t120\t0\t5",
            "2025.07.11\t09:31:00\t1.2\t1.3\t1.1\t1.25\t80\t3\t5",
        ),
    )

    result = read_bars_csv(path)

    assert result.rejected == []
    assert result.bars == [  # real volume (<VOL>) is preferred over <TICKVOL>
        _bar(datetime(2025, 7, 11, 9, 30, tzinfo=UTC), 1.1, 1.3, 1.0, 1.2, 0.0),
        _bar(datetime(2025, 7, 11, 9, 31, tzinfo=UTC), 1.2, 1.3, 1.1, 1.25, 3.0),
    ]


def test_finam_export_with_split_yyyymmdd_and_hhmmss(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>",
            "EURUSD,60,20250711,000000,1.1,1.3,1.0,1.2,100",
            "EURUSD,60,20250711,130000,1.2,1.4,1.1,1.3,200",
            "EURUSD,60,20250711,250000,1.2,1.4,1.1,1.3,200",  # hour 25
        ),
    )

    result = read_bars_csv(path)

    assert result.bars == [
        _bar(D1, 1.1, 1.3, 1.0, 1.2, 100.0),
        _bar(datetime(2025, 7, 11, 13, tzinfo=UTC), 1.2, 1.4, 1.1, 1.3, 200.0),
    ]
    assert [(r.line, r.reason) for r in result.rejected] == [
        (4, "unparsable time '20250711 250000'")
    ]


def test_quoted_and_spaced_header_names(tmp_path: Path) -> None:
    text = _lines(
        '"\'Time\'", " Open " ,< High >,"<LOW>",  CLOSE  , "Volume"',
        "2025-07-11,1.1,1.3,1.0,1.2,4",
    )
    result = read_bars_csv(_write(tmp_path, text))

    assert result.bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2, 4.0)]


@pytest.mark.parametrize(
    "name",
    [
        "Gmt time",
        "Local time",
        "date_time",
        "datetime_utc",
        "time_utc",
        "TIMESTAMP_UTC",
        "Open time",
        "<DATETIME>",
    ],
)
def test_time_column_aliases(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, _lines(f"{name},open,high,low,close", "2025-07-11,1.1,1.3,1.0,1.2"))

    assert read_bars_csv(path).bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2)]


def test_last_is_a_close_alias(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines("time,open,high,low,last", "2025-07-11,1.1,1.3,1.0,1.2"))

    assert read_bars_csv(path).bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2)]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ("tickvol", 1.0),
        ("tick_volume", 1.0),
        ("<VOL>", 1.0),
        ("real_volume", 1.0),
        ("tickvol,volume", 2.0),  # volume is preferred over tickvol
        ("volume,tickvol", 1.0),
        ("tick_volume,real_volume", 2.0),  # real volume over tick volume
        ("<TICKVOL>,<VOL>", 2.0),
    ],
)
def test_volume_column_aliases(tmp_path: Path, columns: str, expected: float) -> None:
    values = ",".join(str(n) for n in range(1, columns.count(",") + 2))
    path = _write(
        tmp_path,
        _lines(f"time,open,high,low,close,{columns}", f"2025-07-11,1.1,1.3,1.0,1.2,{values}"),
    )

    assert read_bars_csv(path).bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2, expected)]


# --- wider inputs: split date and time columns --------------------------------


@pytest.mark.parametrize(
    ("date", "time_of_day", "expected"),
    [
        ("2025-07-11", "09:30", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("2025.07.11", "09:30:15", datetime(2025, 7, 11, 9, 30, 15, tzinfo=UTC)),
        ("20250711", "093015", datetime(2025, 7, 11, 9, 30, 15, tzinfo=UTC)),
        ("7/11/2025", "23:59", datetime(2025, 7, 11, 23, 59, tzinfo=UTC)),
        ("11.07.2025", "9:05:00.250", datetime(2025, 7, 11, 9, 5, 0, 250000, tzinfo=UTC)),
    ],
)
def test_split_date_and_time_columns_are_combined(
    tmp_path: Path, date: str, time_of_day: str, expected: datetime
) -> None:
    path = _write(
        tmp_path, _lines("Date,Time,Open,High,Low,Close", f"{date},{time_of_day},1.1,1.3,1.0,1.2")
    )

    result = read_bars_csv(path)

    assert result.rejected == []
    assert result.bars == [_bar(expected, 1.1, 1.3, 1.0, 1.2)]


def test_split_columns_reject_bad_dates_and_times_with_their_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "time,date,open,high,low,close",  # time before date: order does not matter
            "09:30,2025-07-11,1.1,1.3,1.0,1.2",
            "09:60,2025-07-11,1.1,1.3,1.0,1.2",  # 3: minute 60
            "10:30,2025-02-30,1.1,1.3,1.0,1.2",  # 4: no such day
            "11:30,,1.1,1.3,1.0,1.2",  # 5: no date
            "12:30,2025-07-11T12:00:00Z,1.1,1.3,1.0,1.2",  # 6: date holds a time
            "13:30,2025-07-11,1.1,1.3,1.0,1.2",
        ),
    )

    result = read_bars_csv(path)

    assert [b.time.hour for b in result.bars] == [9, 13]
    assert [(r.line, r.reason) for r in result.rejected] == [
        (3, "unparsable time '2025-07-11 09:60'"),
        (4, "unparsable time '2025-02-30 10:30'"),
        (5, "unparsable time ' 11:30'"),
        (6, "unparsable time '2025-07-11T12:00:00Z 12:30'"),
    ]


def test_time_column_with_full_timestamps_next_to_a_date_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            "date,time,open,high,low,close",
            "2025-07-11,2025-07-11T09:30:00Z,1.1,1.3,1.0,1.2",
            "2025-07-11,soon,1.1,1.3,1.0,1.2",
        ),
    )

    result = read_bars_csv(path)

    assert result.bars == [_bar(datetime(2025, 7, 11, 9, 30, tzinfo=UTC), 1.1, 1.3, 1.0, 1.2)]
    assert [(r.line, r.reason) for r in result.rejected] == [(3, "unparsable time 'soon'")]


# --- wider inputs: date and time formats ---------------------------------------


@pytest.mark.parametrize(
    ("header", "row", "expected_time"),
    [
        # MetaTrader
        ("time", "2025.07.11", datetime(2025, 7, 11, tzinfo=UTC)),
        ("time", "2025.07.11 09:30", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("time", "2025.07.11 09:30:15", datetime(2025, 7, 11, 9, 30, 15, tzinfo=UTC)),
        # Finam date only
        ("<DATE>", "20250711", datetime(2025, 7, 11, tzinfo=UTC)),
        # Dukascopy, day first, also with its GMT offset
        (
            "Gmt time",
            "11.07.2025 09:30:00.123",
            datetime(2025, 7, 11, 9, 30, 0, 123000, tzinfo=UTC),
        ),
        (
            "Local time",
            "11.07.2025 11:30:00.000 GMT+0200",
            datetime(2025, 7, 11, 9, 30, tzinfo=UTC),
        ),
        # slashes, year first
        ("time", "2025/07/11", datetime(2025, 7, 11, tzinfo=UTC)),
        ("time", "2025/07/11 09:30", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("time", "2025/07/11 09:30:15", datetime(2025, 7, 11, 9, 30, 15, tzinfo=UTC)),
        # ISO with a space
        ("time", "2025-07-11 09:30", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("time", "2025-07-11 09:30:00+02:00", datetime(2025, 7, 11, 7, 30, tzinfo=UTC)),
        ("time", "2025-07-11 09:30:00Z", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        # epoch seconds and milliseconds (Binance "Open time")
        ("timestamp", "1752226200", datetime(2025, 7, 11, 9, 30, tzinfo=UTC)),
        ("Open time", "1752226200123", datetime(2025, 7, 11, 9, 30, 0, 123000, tzinfo=UTC)),
        # investing.com, unchanged
        ("Date", "7/11/2025", datetime(2025, 7, 11, tzinfo=UTC)),
    ],
)
def test_each_time_format_gives_the_exact_bar(
    tmp_path: Path, header: str, row: str, expected_time: datetime
) -> None:
    path = _write(
        tmp_path, _lines(f"{header},open,high,low,close,volume", f"{row},1.1,1.3,1.0,1.2,9")
    )

    result = read_bars_csv(path)

    assert result.rejected == []
    assert result.bars == [Bar(expected_time, 1.1, 1.3, 1.0, 1.2, 9.0)]
    assert result.bars[0].time.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2025.13.11",  # month 13
        "2025.07.11 24:00",
        "32.07.2025 09:30:00.000",
        "11-07-2025",  # dashes, day first
        "2025/07/11T09:30",
        "175222620",  # 9 digits
        "17522262001",  # 11 digits
        "1752226200.5",
        "20251311",  # YYYYMMDD with month 13
        "11.07.25 09:30",  # two-digit year
        "7/11/25",
    ],
)
def test_unknown_time_formats_are_rejected_with_their_line(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, _lines(HEADER, GOOD_1, f"{text},1.1,1.3,1.0,1.2,0"))

    result = read_bars_csv(path)

    assert [(r.line, r.reason) for r in result.rejected] == [(3, f"unparsable time {text!r}")]
    assert len(result.bars) == 1


def test_mixed_formats_in_one_file_sort_by_instant(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _lines(
            HEADER,
            "2025.07.11 09:00,1.1,1.3,1.0,1.2,0",
            "1752226200,1.1,1.3,1.0,1.2,0",  # 09:30
            "11.07.2025 10:00:00.000,1.1,1.3,1.0,1.2,0",
            "2025-07-11T09:30:00Z,1.1,1.3,1.0,1.2,0",  # 09:30 again
        ),
    )

    result = read_bars_csv(path)

    assert [b.time.strftime("%H:%M") for b in result.bars] == ["09:00", "09:30", "10:00"]
    assert [r.line for r in result.rejected] == [5]
    assert result.rejected[0].reason.startswith("out of order")


# --- wider inputs: no header, encodings ----------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        "2025-07-11T09:30:00Z,1.1,1.3,1.0,1.2,0",
        "2025.07.11,09:30,1.1,1.3,1.0,1.2,0",  # MetaTrader 4 history export
        "EURUSD,60,20250711,093000,1.1,1.3,1.0,1.2,0",  # Finam without its header
        "1752226200000;1,1;1,3;1,0;1,2",
    ],
)
def test_file_without_header_row_raises(tmp_path: Path, first: str) -> None:
    path = _write(tmp_path, _lines(first, first))

    with pytest.raises(ValueError, match="header row") as info:
        read_bars_csv(path)

    message = str(info.value)
    assert str(path) in message
    assert "time,open,high,low,close[,volume] is required" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_with_bom_is_decoded(tmp_path: Path, encoding: str) -> None:
    text = _lines("Date;Open;High;Low;Close;Vol.", "11.07.2025 00:00:00.000;1,1;1,3;1,0;1,2;5")
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    path = tmp_path / "bars.csv"
    path.write_bytes(bom + text.encode(encoding))

    assert read_bars_csv(path).bars == [_bar(D1, 1.1, 1.3, 1.0, 1.2, 5.0)]


def test_utf16_line_numbers_and_raw_text(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_bytes(_lines(HEADER, GOOD_1, "2025-01-01T01:00:00Z,x,1,1,1,0").encode("utf-16"))

    (rejected,) = read_bars_csv(path).rejected

    assert (rejected.line, rejected.raw) == (3, "2025-01-01T01:00:00Z,x,1,1,1,0")


@pytest.mark.parametrize(
    "data",
    [
        HEADER.encode() + b"\n2025-01-01,1,2,0.5,1.5,\xff\n",  # not UTF-8 (Latin-1 byte)
        b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\x00\xd8\x41\x00",  # lone surrogate
        b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\x0a",  # odd byte count
    ],
)
def test_undecodable_file_raises_naming_the_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bars.csv"
    path.write_bytes(data)

    with pytest.raises(ValueError, match="not valid UTF-(8|16) text") as info:
        read_bars_csv(path)
    assert str(path) in str(info.value)


# --- speed ---------------------------------------------------------------------


def _best_of_3(path: Path) -> float:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        read_bars_csv(path)
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_hourly_sample_reads_well_under_a_tenth_of_a_second() -> None:
    assert _best_of_3(USDCAD_1H) < 0.1


def test_5k_row_metatrader_semicolon_file_reads_well_under_a_tenth_of_a_second(
    tmp_path: Path,
) -> None:
    rows = ["<DATE>;<TIME>;<OPEN>;<HIGH>;<LOW>;<CLOSE>;<TICKVOL>"]
    for n in range(5000):
        moment = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n)
        rows.append(f"{moment:%Y.%m.%d};{moment:%H:%M};1,2345;1,2400;1,2300;1,2350;{n}")
    path = _write(tmp_path, _lines(*rows))

    result = read_bars_csv(path)

    assert len(result.bars) == 5000 and result.rejected == []
    assert result.bars[-1].time == datetime(2025, 7, 28, 7, tzinfo=UTC)
    assert _best_of_3(path) < 0.1
