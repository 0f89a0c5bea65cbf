"""Ticks (single trades or quotes) and a replay feed that turns bars into ticks.

A :class:`Tick` is one price observation: ``time`` an aware UTC datetime,
``price`` in the quote currency of the pair, ``size`` in units of the base
asset (0 where the source has no volume, as for FX quotes).

:func:`ticks_from_bar` expands one OHLCV bar into four ticks whose aggregate
over the bar's period is the bar again (see
:class:`live_trading.data.aggregator.BarAggregator`). :class:`TickReplayFeed`
replays a bar CSV file (the format of
:func:`live_trading.data.bars_csv.read_bars_csv`) as such ticks, so code
written for a live tick stream can be driven by historical bars.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from live_trading.data.bars_csv import RejectedRow
from live_trading.data.replay import ReplayFeed, Sleep
from live_trading.domain.values import Bar, BarSize, utc_ms

TICKS_PER_BAR = 4


@dataclass(frozen=True, slots=True)
class Tick:
    """One price observation.

    ``time``: aware datetime (UTC by convention); ``price``: quote currency per
    unit of base asset; ``size``: traded quantity in units of the base asset
    (0.0 when unknown).

    Raises:
        ValueError: when ``time`` is naive.
    """

    time: datetime
    price: float
    size: float = 0.0

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("naive tick time: times must be timezone-aware UTC")


def ticks_from_bar(bar: Bar, duration: timedelta) -> list[Tick]:
    """Four ticks that reproduce ``bar`` when aggregated over its period.

    Path rule (the path that visits the far extreme last):

    * a bar closing up or flat (``close >= open``) goes
      open -> low -> high -> close;
    * a bar closing down (``close < open``) goes open -> high -> low -> close.

    The ticks are at ``bar.time`` + 0, 1/4, 1/2 and 3/4 of ``duration`` (the
    bar's length, e.g. ``BarSize.HOUR_1.duration``), truncated to whole
    milliseconds, so all lie in ``[bar.time, bar.time + duration)``. Each
    carries ``bar.volume / 4`` (base-asset units), so the sizes add up to the
    bar's volume.

    Raises:
        ValueError: when ``duration`` is not positive.
    """
    if duration <= timedelta(0):
        raise ValueError(f"bar duration must be positive, got {duration}")
    if bar.close >= bar.open:
        prices = (bar.open, bar.low, bar.high, bar.close)
    else:
        prices = (bar.open, bar.high, bar.low, bar.close)
    step = duration / TICKS_PER_BAR
    size = bar.volume / TICKS_PER_BAR
    return [
        Tick(utc_ms(bar.time + index * step), price, size) for index, price in enumerate(prices)
    ]


async def _no_wait(_: float) -> None:
    """A sleep that does not wait: the tick feed does its own pacing."""


class TickReplayFeed:
    """Yield the ticks of the bars of one CSV file, oldest first, optionally paced.

    Each bar gives the four ticks of :func:`ticks_from_bar`. The file is read
    by :class:`ReplayFeed` (same parsing, same rejected rows).

    Args:
        path: the CSV file (e.g. ``USDCAD_1h.csv``).
        bar_size: the bar size of the file; its duration places the ticks.
        speed: *bars* per second; the feed awaits ``sleep(1 / speed / 4)``
            between consecutive ticks, so a bar's four ticks take
            ``1 / speed`` seconds. ``0`` replays as fast as possible, still
            awaiting ``sleep(0)`` between ticks.
        after: only bars whose open time is strictly later are replayed (the
            time of the last bar already processed). Must be timezone-aware.
        sleep: the coroutine used to wait (``asyncio.sleep``); tests inject a
            recorder.

    Raises:
        ValueError: when ``speed`` is negative or NaN, or ``after`` is naive.
    """

    def __init__(
        self,
        path: Path,
        *,
        bar_size: BarSize,
        speed: float = 0.0,
        after: datetime | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._bars = ReplayFeed(path, speed=speed, after=after, sleep=_no_wait)
        self._bar_size = BarSize(bar_size)
        self._delay = 1.0 / (speed * TICKS_PER_BAR) if speed > 0 else 0.0
        self._sleep = sleep

    @property
    def path(self) -> Path:
        """The replayed file."""
        return self._bars.path

    @property
    def bar_size(self) -> BarSize:
        """The bar size of the replayed file."""
        return self._bar_size

    @property
    def rejected(self) -> list[RejectedRow]:
        """Rows of the file that were not imported; empty until it is read."""
        return self._bars.rejected

    async def ticks(self) -> AsyncIterator[Tick]:
        """Read the file, then yield the ticks of each bar later than ``after``.

        Raises:
            FileNotFoundError: when the file does not exist.
            ValueError: when its header lacks a required column.
        """
        duration = self._bar_size.duration
        first = True
        async for bar in self._bars.bars():
            for tick in ticks_from_bar(bar, duration):
                if not first:
                    await self._sleep(self._delay)
                first = False
                yield tick
