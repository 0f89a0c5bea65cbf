"""Import OHLCV bars from CSV files, rejecting dirty rows with their line numbers.

Layout: a header row (a first row holding a time raises :class:`ValueError`),
then one bar per row, in UTF-8 (optional BOM) or UTF-16 after its BOM. The
delimiter, ``,`` ``;`` or tab, is the one splitting the header into the most
fields (ties: ``,``). Header names match case-insensitively after trimming
spaces, quotes and MetaTrader/Finam ``<`` ``>`` (``<DATE>``); other columns
(``Change %``, ``<TICKER>``...) are ignored; of several aliases the first wins.

======  ===============================================================  ========
field   header aliases                                                   required
======  ===============================================================  ========
time    ``time``, ``date``, ``datetime``, ``timestamp``, ``gmt time``    yes
        (Dukascopy), ``datetime_utc``, ``time_utc``, ``timestamp_utc``,
        ``date_time``, ``open time``, ``local time``
open    ``open``                                                         yes
high    ``high``                                                         yes
low     ``low``                                                          yes
close   ``close``, ``price`` (investing.com), ``last``                   yes
volume  ``volume``, ``vol``, ``vol.``, ``real_volume``, ``tickvol``,     no (0.0)
        ``tick_volume`` (real volume before tick volume)
======  ===============================================================  ========

With both a ``date`` and a ``time`` column, a ``time`` value that is a time of
day (``HH:MM``, ``HH:MM:SS[.fff]``, Finam ``HHMMSS``/``HHMM``) is combined
with the row's date; any other ``time`` value is read alone. Times become
aware UTC truncated to milliseconds (:func:`utc_ms`), UTC when they carry no
offset; anything else is rejected as ``unparsable time``:

==========================================  ===================================================
time format                                 examples
==========================================  ===================================================
ISO-8601 (``T`` or space, ``Z``/offset)     ``2025-07-11T09:30:00+02:00``, ``2025-07-11 09:30``
date only; ``M/D/YYYY`` (midnight)          ``2025-07-11``; ``7/11/2025`` (investing.com)
``YYYYMMDD`` (Finam, midnight)              ``20250711``
``YYYY.MM.DD``/``YYYY/MM/DD[ HH:MM[:SS]]``  ``2025.07.11 09:30`` (MetaTrader), ``2025/07/11``
``DD.MM.YYYY HH:MM:SS.fff`` (Dukascopy)     ``11.07.2025 09:30:00.000``, ``... GMT+0200``
epoch seconds / milliseconds                ``1752226200`` / ``1752226200000``
==========================================  ===================================================

Prices are in the quote currency of the pair; thousands separators
(``"1,234.5"``) are accepted, in ``;`` files a decimal comma (``1,2345``) wins
over them, and volumes may carry a ``K``/``M``/``B`` suffix (``1.2K`` = 1200).

A bad row is never used: it is recorded as a :class:`RejectedRow` and logged
at WARNING on the ``live_trading.data`` logger as ``"<file>:<line>: <reason>"``.
Files may be oldest-first or newest-first; bars always come out oldest-first.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from live_trading.data import time_formats
from live_trading.domain.values import Bar

log = logging.getLogger("live_trading.data")

_ALIASES: dict[str, tuple[str, ...]] = {
    "time": (
        "time",
        "date",
        "datetime",
        "timestamp",
        "gmt time",
        "datetime_utc",
        "time_utc",
        "timestamp_utc",
        "date_time",
        "open time",
        "local time",
    ),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close", "price", "last"),
    "volume": ("volume", "vol", "vol.", "real_volume", "tickvol", "tick_volume"),
}
_REQUIRED = ("time", "open", "high", "low", "close")
_PRICES = ("open", "high", "low", "close")
_DELIMITERS = (",", ";", "\t")
_HEADER_DECORATION = " \t\ufeff\"'<>"
_VOLUME_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was not imported.

    ``line`` is the 1-based physical line number in the file (the header is
    line 1), also for newest-first files; ``raw`` is that line's text without
    its line ending.
    """

    line: int
    reason: str
    raw: str


@dataclass(frozen=True)
class BarFile:
    """The result of reading one CSV file.

    ``bars`` are oldest-first with strictly increasing UTC times; prices in
    quote currency. ``rejected`` is sorted by line number.
    """

    source: Path
    bars: list[Bar]
    rejected: list[RejectedRow]


class _RowError(ValueError):
    """A row is unusable; the message is the rejection reason."""


class _Layout(NamedTuple):
    """How to read the data rows of one file."""

    columns: dict[str, int]  # field -> column index
    width: int  # fields per row
    date: int | None  # index of a separate ``date`` column next to ``time``
    decimal_comma: bool  # ``;`` files: ``1,5`` means 1.5


# A parsed row waiting for the order check: (first line, last line, bar).
_Candidate = tuple[int, int, Bar]


def read_bars_csv(path: str | Path) -> BarFile:
    """Read the bars of a CSV file, see the module docstring for the format.

    An empty file or a file with only a header gives a :class:`BarFile`
    without bars.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the header has no time, open, high, low or close
            column (the message names the header), the file has no header
            row, or it cannot be decoded (the message names the file).
    """
    source = Path(path)
    lines = io.StringIO(_read_text(source), newline="").readlines()
    delimiter = _detect_delimiter(lines)
    reader = csv.reader(lines, delimiter=delimiter)
    header = _read_header(reader)
    if header is None:
        return BarFile(source, [], [])
    layout = _layout(source, header, delimiter)
    rejected: list[RejectedRow] = []
    candidates = _parse_rows(reader, lines, layout, rejected)
    bars = _keep_in_order(candidates, lines, rejected)
    rejected.sort(key=lambda row: row.line)
    for row in rejected:
        log.warning("%s:%d: %s", source, row.line, row.reason)
    return BarFile(source, bars, rejected)


def _read_text(source: Path) -> str:
    """The file's text: UTF-16 after a UTF-16 BOM, else UTF-8 (optional BOM)."""
    data = source.read_bytes()
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{source}: not valid {encoding.removesuffix('-sig').upper()} text "
            f"({exc.reason} at byte {exc.start}); save the file as UTF-8"
        ) from exc


def _detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first non-blank line into the most fields."""
    for line in lines:
        if line.strip():
            return max(_DELIMITERS, key=line.count)  # first of equals: ","
    return ","


def _read_header(reader: Iterator[list[str]]) -> list[str] | None:
    """The first non-blank row, or None when the file has none."""
    for row in reader:
        if any(cell.strip() for cell in row):
            return row
    return None


def _layout(source: Path, header: list[str], delimiter: str) -> _Layout:
    """Map each known field to its column index, preferring earlier aliases."""
    names = [" ".join(cell.strip(_HEADER_DECORATION).lower().split()) for cell in header]
    columns: dict[str, int] = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in names:
                columns[field] = names.index(alias)
                break
    missing = [field for field in _REQUIRED if field not in columns]
    text = delimiter.join(header)
    if missing and any(map(time_formats.looks_like_time, re.split("[,;\t]", text))):
        raise ValueError(
            f"{source}: the first row {text!r} looks like data, not a "
            "header; a header row time,open,high,low,close[,volume] is required"
        )
    if missing:
        raise ValueError(
            f"{source}: CSV header {text!r} has no "
            f"{', '.join(missing)} column; expected time (or date, datetime, "
            "timestamp...), open, high, low, close (or price, last) and optional volume"
        )
    date = names.index("date") if {"date", "time"} <= set(names) else None
    return _Layout(columns, len(header), date, delimiter == ";")


def _parse_rows(
    reader: Iterator[list[str]], lines: list[str], layout: _Layout, rejected: list[RejectedRow]
) -> list[_Candidate]:
    """Parse and check every data row; bad rows go to ``rejected``."""
    candidates: list[_Candidate] = []
    end = reader.line_num  # type: ignore[attr-defined]
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return candidates
        except csv.Error as exc:
            row, reason = None, f"malformed CSV: {exc}"
        end = reader.line_num  # type: ignore[attr-defined]
        if row is not None:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            try:
                candidates.append((start, end, _parse_row(row, layout)))
                continue
            except _RowError as exc:
                reason = str(exc)
        rejected.append(RejectedRow(start, reason, _raw(lines, start, end)))


def _parse_row(row: list[str], layout: _Layout) -> Bar:
    """Build a checked bar from one row, or raise :class:`_RowError`."""
    if len(row) != layout.width:
        raise _RowError(f"expected {layout.width} fields, got {len(row)}")
    columns, comma = layout.columns, layout.decimal_comma
    time = _row_time(row, columns["time"], layout.date)
    open_, high, low, close = (_parse_price(name, row[columns[name]], comma) for name in _PRICES)
    if high < low:
        raise _RowError(f"high {high} < low {low}")
    for name, value in (("open", open_), ("close", close)):
        if not low <= value <= high:
            raise _RowError(f"{name} {value} outside [low {low}, high {high}]")
    volume = _parse_volume(row[columns["volume"]], comma) if "volume" in columns else 0.0
    return Bar(time, open_, high, low, close, volume)


def _row_time(row: list[str], column: int, date: int | None) -> datetime:
    """The row's time; a time of day is combined with the ``date`` column."""
    text = row[column]
    try:
        if date is not None and time_formats.is_time_of_day(text):
            text = f"{row[date].strip()} {text.strip()}"
            return time_formats.combine_date_time(row[date], row[column])
        return time_formats.parse_time(text)
    except ValueError:
        raise _RowError(f"unparsable time {text!r}") from None


def _to_float(value: str, decimal_comma: bool) -> float:
    """Parse a stripped number, allowing ``1,234.5`` groups (``1,5`` in ``;`` files)."""
    if "," in value:
        if decimal_comma and _DECIMAL_COMMA.fullmatch(value):
            value = value.replace(",", ".")
        elif _THOUSANDS.match(value):
            value = value.replace(",", "")
        else:
            raise ValueError(value)
    return float(value)


def _parse_price(name: str, text: str, decimal_comma: bool) -> float:
    """A finite price > 0, or raise :class:`_RowError`."""
    value = text.strip()
    if not value:
        raise _RowError(f"missing {name}")
    try:
        price = _to_float(value, decimal_comma)
    except ValueError:
        raise _RowError(f"unparsable {name} {text!r}") from None
    if not math.isfinite(price):
        raise _RowError(f"{name} is not a finite number: {text!r}")
    if price <= 0:
        raise _RowError(f"{name} {price} <= 0: prices must be positive")
    return price


def _parse_volume(text: str, decimal_comma: bool) -> float:
    """A finite volume >= 0; empty or ``-`` means 0.0; K/M/B suffixes scale."""
    value = text.strip()
    if not value or value == "-":
        return 0.0
    scale = _VOLUME_SUFFIXES.get(value[-1].upper(), 1.0)
    if scale != 1.0:
        value = value[:-1].rstrip()
    try:
        volume = _to_float(value, decimal_comma) * scale
    except ValueError:
        raise _RowError(f"unparsable volume {text!r}") from None
    if not math.isfinite(volume):
        raise _RowError(f"volume is not a finite number: {text!r}")
    if volume < 0:
        raise _RowError(f"negative volume {volume}")
    return volume


def _keep_in_order(
    candidates: list[_Candidate], lines: list[str], rejected: list[RejectedRow]
) -> list[Bar]:
    """Put candidates oldest-first, then reject any time not after the last kept."""
    if _is_newest_first(candidates):
        candidates = candidates[::-1]
    bars: list[Bar] = []
    last: datetime | None = None
    for start, end, bar in candidates:
        if last is not None and bar.time <= last:
            if bar.time == last:
                reason = f"duplicate timestamp {bar.time.isoformat()}"
            else:
                reason = f"out of order: {bar.time.isoformat()} is not after {last.isoformat()}"
            rejected.append(RejectedRow(start, reason, _raw(lines, start, end)))
            continue
        bars.append(bar)
        last = bar.time
    return bars


def _is_newest_first(candidates: list[_Candidate]) -> bool:
    """True when most consecutive pairs go back in time (ties: oldest-first)."""
    forward = backward = 0
    for (_, _, earlier), (_, _, later) in pairwise(candidates):
        if later.time > earlier.time:
            forward += 1
        elif later.time < earlier.time:
            backward += 1
    return backward > forward


def _raw(lines: list[str], start: int, end: int) -> str:
    """The text of physical lines ``start``..``end`` (1-based), without the last newline."""
    return "".join(lines[start - 1 : end]).rstrip("\r\n")
