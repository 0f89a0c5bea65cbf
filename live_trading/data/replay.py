"""Replay bars from a CSV file as if they arrived live.

Replay files live in one directory and are named ``{symbol}_{code}.csv``
(:data:`FILE_NAME`): ``symbol`` is the asset without its hyphen (``USDCAD``)
and ``code`` the short form of an Interactive Brokers bar size, one of
``1m 5m 15m 30m 1h 4h 1d`` (``1 min`` ... ``1 day``); e.g. ``USDCAD_1h.csv``.
The package ships such files in its ``sample_data`` directory
(:func:`default_replay_dir`). The format is that of
:func:`live_trading.data.bars_csv.read_bars_csv`; times are UTC.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

from live_trading.data.bars_csv import RejectedRow, read_bars_csv
from live_trading.domain.values import Asset, Bar, BarSize, utc_ms

FILE_NAME = "{symbol}_{code}.csv"

Sleep = Callable[[float], Awaitable[object]]


def default_replay_dir() -> Path:
    """The package's ``sample_data`` directory (``USDCAD_1h.csv``, ...)."""
    return Path(__file__).resolve().parent.parent / "sample_data"


def replay_file_path(data_dir: Path, asset: Asset, bar_size: BarSize) -> Path:
    """The replay file of ``asset`` at ``bar_size`` in ``data_dir``.

    ``replay_file_path(d, Asset.parse("USD-CAD"), BarSize.HOUR_1)`` is
    ``d / "USDCAD_1h.csv"``. The file need not exist.
    """
    return Path(data_dir) / FILE_NAME.format(symbol=asset.symbol, code=bar_size.code)


class ReplayFeed:
    """Yield the bars of one CSV file, oldest first, optionally paced.

    Args:
        path: the CSV file (see :func:`replay_file_path` for the naming).
        speed: bars per second; ``0`` replays as fast as possible (still
            yielding to the event loop with ``sleep(0)`` between bars), ``2``
            waits ``sleep(0.5)`` between bars.
        after: only bars whose open time is strictly later are yielded. After
            a restart, pass the time of the last bar already processed to
            resume without replaying it twice. Must be timezone-aware.
        sleep: the coroutine used to wait (``asyncio.sleep``); tests inject a
            recorder to check pacing without waiting.

    Raises:
        ValueError: when ``speed`` is negative or NaN, or ``after`` is naive.
    """

    def __init__(
        self,
        path: Path,
        *,
        speed: float = 0.0,
        after: datetime | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if math.isnan(speed) or speed < 0:
            raise ValueError(f"replay speed must be >= 0 bars per second, got {speed}")
        self._path = Path(path)
        self._delay = 1.0 / speed if speed > 0 else 0.0
        self._after = utc_ms(after) if after is not None else None
        self._sleep = sleep
        self._rejected: list[RejectedRow] = []

    @property
    def path(self) -> Path:
        """The replayed file."""
        return self._path

    @property
    def rejected(self) -> list[RejectedRow]:
        """Rows of the file that were not imported; empty until it is read."""
        return list(self._rejected)

    async def bars(self) -> AsyncIterator[Bar]:
        """Read the file, then yield each bar later than ``after``, oldest first.

        The file is read in a worker thread. Between two bars the feed awaits
        ``sleep(1 / speed)`` (``sleep(0)`` when speed is 0).

        Raises:
            FileNotFoundError: when the file does not exist.
            ValueError: when its header lacks a required column.
        """
        bar_file = await asyncio.to_thread(read_bars_csv, self._path)
        self._rejected = list(bar_file.rejected)
        first = True
        for bar in bar_file.bars:
            if self._after is not None and bar.time <= self._after:
                continue
            if not first:
                await self._sleep(self._delay)
            first = False
            yield bar
