"""Import OHLCV bars from CSV files, rejecting dirty rows with their line numbers.

Accepted layout: a header row, then one bar per row. Header names are matched
case-insensitively after trimming; extra columns (``Change %``...) are ignored.

==========  =========================================  ========
field       header aliases                             required
==========  =========================================  ========
time        ``time``, ``date``, ``datetime``,          yes
            ``timestamp``
open        ``open``                                   yes
high        ``high``                                   yes
low         ``low``                                    yes
close       ``close``, ``price`` (investing.com)       yes
volume      ``volume``, ``vol``, ``vol.``              no (0.0)
==========  =========================================  ========

Times become aware UTC datetimes truncated to milliseconds (:func:`utc_ms`):
ISO-8601 with ``Z`` or an offset is converted to UTC, naive ISO and date-only
values are taken as UTC, ``M/D/YYYY`` (investing.com) is midnight UTC, and a
10-digit integer is epoch seconds. Prices are in the quote currency of the
pair; thousands separators (``"1,234.5"``) are accepted, and volumes may carry
a ``K``/``M``/``B`` suffix (``1.2K`` = 1200).

A bad row is never used: it is recorded as a :class:`RejectedRow` and logged
at WARNING on the ``live_trading.data`` logger as ``"<file>:<line>: <reason>"``.
Files may be oldest-first or newest-first; bars always come out oldest-first.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from live_trading.domain.values import Bar, utc_ms

log = logging.getLogger("live_trading.data")

_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "date", "datetime", "timestamp"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close", "price"),
    "volume": ("volume", "vol", "vol."),
}
_REQUIRED = ("time", "open", "high", "low", "close")
_PRICES = ("open", "high", "low", "close")
_VOLUME_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


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


# A parsed row waiting for the order check: (first line, last line, bar).
_Candidate = tuple[int, int, Bar]


def read_bars_csv(path: str | Path) -> BarFile:
    """Read the bars of a CSV file, see the module docstring for the format.

    An empty file or a file with only a header gives a :class:`BarFile`
    without bars.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the header has no time, open, high, low or close
            column (the message names the header), or the file is not UTF-8
            (:class:`UnicodeDecodeError`).
    """
    source = Path(path)
    with source.open("r", encoding="utf-8-sig", newline="") as handle:
        lines = handle.readlines()
    reader = csv.reader(lines)
    header = _read_header(reader)
    if header is None:
        return BarFile(source, [], [])
    columns = _map_columns(source, header)
    rejected: list[RejectedRow] = []
    candidates = _parse_rows(reader, lines, columns, len(header), rejected)
    bars = _keep_in_order(candidates, lines, rejected)
    rejected.sort(key=lambda row: row.line)
    for row in rejected:
        log.warning("%s:%d: %s", source, row.line, row.reason)
    return BarFile(source, bars, rejected)


def _read_header(reader: Iterator[list[str]]) -> list[str] | None:
    """The first non-blank row, or None when the file has none."""
    for row in reader:
        if any(cell.strip() for cell in row):
            return row
    return None


def _map_columns(source: Path, header: list[str]) -> dict[str, int]:
    """Map each known field to its column index, preferring earlier aliases."""
    names = [cell.strip().strip("\ufeff").strip().lower() for cell in header]
    columns: dict[str, int] = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in names:
                columns[field] = names.index(alias)
                break
    missing = [field for field in _REQUIRED if field not in columns]
    if missing:
        raise ValueError(
            f"{source}: CSV header {','.join(header)!r} has no "
            f"{', '.join(missing)} column; expected time (or date, datetime, "
            "timestamp), open, high, low, close (or price) and optional volume"
        )
    return columns


def _parse_rows(
    reader: Iterator[list[str]],
    lines: list[str],
    columns: dict[str, int],
    width: int,
    rejected: list[RejectedRow],
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
                candidates.append((start, end, _parse_row(row, columns, width)))
                continue
            except _RowError as exc:
                reason = str(exc)
        rejected.append(RejectedRow(start, reason, _raw(lines, start, end)))


def _parse_row(row: list[str], columns: dict[str, int], width: int) -> Bar:
    """Build a checked bar from one row, or raise :class:`_RowError`."""
    if len(row) != width:
        raise _RowError(f"expected {width} fields, got {len(row)}")
    time = _parse_time(row[columns["time"]])
    open_, high, low, close = (_parse_price(name, row[columns[name]]) for name in _PRICES)
    if high < low:
        raise _RowError(f"high {high} < low {low}")
    for name, value in (("open", open_), ("close", close)):
        if not low <= value <= high:
            raise _RowError(f"{name} {value} outside [low {low}, high {high}]")
    volume = _parse_volume(row[columns["volume"]]) if "volume" in columns else 0.0
    return Bar(time, open_, high, low, close, volume)


def _parse_time(text: str) -> datetime:
    """Parse a time field to aware UTC (see module docstring)."""
    value = text.strip()
    try:
        if value.isascii() and value.isdigit() and len(value) == 10:
            moment = datetime.fromtimestamp(int(value), UTC)
        elif "/" in value:
            moment = _parse_month_day_year(value)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        return utc_ms(moment)
    except (ValueError, OverflowError, OSError):
        raise _RowError(f"unparsable time {text!r}") from None


def _parse_month_day_year(value: str) -> datetime:
    """``M/D/YYYY`` (investing.com) as midnight UTC; raises ValueError."""
    parts = value.split("/")
    if len(parts) != 3 or len(parts[2].strip()) != 4:
        raise ValueError(value)
    month, day, year = (int(part) for part in parts)
    return datetime(year, month, day, tzinfo=UTC)


def _to_float(value: str) -> float:
    """Parse a stripped number, allowing ``1,234.5`` thousands groups."""
    if "," in value:
        if not _THOUSANDS.match(value):
            raise ValueError(value)
        value = value.replace(",", "")
    return float(value)


def _parse_price(name: str, text: str) -> float:
    """A finite price > 0, or raise :class:`_RowError`."""
    value = text.strip()
    if not value:
        raise _RowError(f"missing {name}")
    try:
        price = _to_float(value)
    except ValueError:
        raise _RowError(f"unparsable {name} {text!r}") from None
    if not math.isfinite(price):
        raise _RowError(f"{name} is not a finite number: {text!r}")
    if price <= 0:
        raise _RowError(f"{name} {price} <= 0: prices must be positive")
    return price


def _parse_volume(text: str) -> float:
    """A finite volume >= 0; empty or ``-`` means 0.0; K/M/B suffixes scale."""
    value = text.strip()
    if not value or value == "-":
        return 0.0
    scale = _VOLUME_SUFFIXES.get(value[-1].upper(), 1.0)
    if scale != 1.0:
        value = value[:-1].rstrip()
    try:
        volume = _to_float(value) * scale
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
    for (_, _, earlier), (_, _, later) in zip(candidates, candidates[1:]):
        if later.time > earlier.time:
            forward += 1
        elif later.time < earlier.time:
            backward += 1
    return backward > forward


def _raw(lines: list[str], start: int, end: int) -> str:
    """The text of physical lines ``start``..``end`` (1-based), without the last newline."""
    return "".join(lines[start - 1 : end]).rstrip("\r\n")
