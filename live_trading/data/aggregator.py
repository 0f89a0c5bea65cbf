"""Aggregate a tick stream into OHLCV bars of several sizes at once.

Rules (all times aware UTC):

* **Periods.** A bar size of duration ``d`` cuts time into periods
  ``[k*d, (k+1)*d)`` counted from the Unix epoch 1970-01-01T00:00Z, i.e. a
  period starts at ``floor(time, d)``: ``1 day`` bars start at UTC midnight,
  ``4 hours`` bars at 00, 04, 08, ... UTC, ``1 hour`` bars on the hour.
* **Bars.** A bar's ``time`` is its period's *open* time; open/close are the
  prices of its first/last tick, high/low their max/min, volume the sum of the
  tick sizes (base-asset units; compensated summation, so ticks that split a
  volume add back up to it).
* **Closing.** A bar closes when the first tick at or after its period's end
  arrives (a tick exactly on a boundary opens the new bar), or when
  :meth:`BarAggregator.flush` is called with a time at or after that end.
* **Gaps.** A period without any tick (a weekend, a halted market) produces
  no bar: no synthetic flat bars are invented.
* **Late ticks.** A tick earlier than the previous accepted tick, or earlier
  than the end of a period already closed by :meth:`~BarAggregator.flush`, is
  rejected, counted in :attr:`BarAggregator.late_ticks` and ignored: a closed
  bar never changes. (A tick before the start of the current smallest open
  bar is always earlier than the previous tick, so it is rejected too.)

Each tick costs O(1) per bar size. No pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from live_trading.data.ticks import Tick
from live_trading.domain.values import Bar, BarSize

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ClosedBar = tuple[BarSize, Bar]


def period_start(moment: datetime, duration: timedelta) -> datetime:
    """``floor(moment, duration)`` counted from the Unix epoch, as aware UTC.

    Raises:
        ValueError: when ``moment`` is naive or ``duration`` not positive.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware UTC")
    if duration <= timedelta(0):
        raise ValueError(f"bar duration must be positive, got {duration}")
    return EPOCH + ((moment - EPOCH) // duration) * duration


class _OpenBar:
    """The bar being built for one bar size (mutable, O(1) updates)."""

    __slots__ = ("_error", "close", "end", "high", "low", "open", "start", "volume")

    def __init__(self, start: datetime, end: datetime, tick: Tick) -> None:
        self.start = start
        self.end = end
        self.open = self.high = self.low = self.close = tick.price
        self.volume = tick.size
        self._error = 0.0  # Neumaier compensation term of the volume sum

    def update(self, tick: Tick) -> None:
        """Add a tick of this bar's period."""
        price = tick.price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        total = self.volume + tick.size
        if abs(self.volume) >= abs(tick.size):
            self._error += (self.volume - total) + tick.size
        else:
            self._error += (tick.size - total) + self.volume
        self.volume = total

    def to_bar(self) -> Bar:
        """The finished bar (time = period open time)."""
        volume = self.volume + self._error
        return Bar(self.start, self.open, self.high, self.low, self.close, volume)


class BarAggregator:
    """Build bars of several sizes from one tick stream, see the module rules.

    Args:
        bar_sizes: the sizes to build; duplicates are ignored and results
            always come smaller size first.

    Attributes:
        late_ticks: number of ticks rejected as late so far.

    Raises:
        ValueError: when ``bar_sizes`` is empty.
    """

    def __init__(self, bar_sizes: Sequence[BarSize]) -> None:
        sizes = sorted({BarSize(size) for size in bar_sizes}, key=lambda s: s.duration)
        if not sizes:
            raise ValueError("BarAggregator needs at least one bar size")
        self._sizes: list[BarSize] = sizes
        self._durations = [size.duration for size in sizes]
        self._open: list[_OpenBar | None] = [None] * len(sizes)
        self._not_before: datetime | None = None  # earliest acceptable tick time
        self.late_ticks = 0

    @property
    def bar_sizes(self) -> list[BarSize]:
        """The sizes built, smallest first."""
        return list(self._sizes)

    def current(self, bar_size: BarSize) -> Bar | None:
        """The still-open (partial) bar of ``bar_size``, or None.

        Raises:
            KeyError: when ``bar_size`` is not aggregated here.
        """
        try:
            index = self._sizes.index(BarSize(bar_size))
        except ValueError:
            raise KeyError(f"bar size {bar_size!r} is not aggregated here") from None
        open_bar = self._open[index]
        return open_bar.to_bar() if open_bar is not None else None

    def add(self, tick: Tick) -> list[ClosedBar]:
        """Feed one tick; return the bars it closes, smaller size first.

        A late tick (see module docstring) returns ``[]`` and increments
        :attr:`late_ticks`.
        """
        time = tick.time
        if self._not_before is not None and time < self._not_before:
            self.late_ticks += 1
            return []
        self._not_before = time
        closed: list[ClosedBar] = []
        for index, duration in enumerate(self._durations):
            open_bar = self._open[index]
            if open_bar is not None and time < open_bar.end:
                open_bar.update(tick)
                continue
            if open_bar is not None:
                closed.append((self._sizes[index], open_bar.to_bar()))
            start = period_start(time, duration)
            self._open[index] = _OpenBar(start, start + duration, tick)
        return closed

    def flush(self, now: datetime) -> list[ClosedBar]:
        """Close every open bar whose period ended at or before ``now``.

        For a live clock when no further tick arrives: call it after each
        period boundary (e.g. ``now = utc_now()``). Bars still in progress at
        ``now`` stay open. Ticks earlier than the end of a bar closed here are
        rejected afterwards as late. Returns the closed bars, smaller first.

        Raises:
            ValueError: when ``now`` is naive.
        """
        if now.tzinfo is None:
            raise ValueError("naive datetime: times must be timezone-aware UTC")
        closed: list[ClosedBar] = []
        for index, open_bar in enumerate(self._open):
            if open_bar is None or open_bar.end > now:
                continue
            closed.append((self._sizes[index], open_bar.to_bar()))
            self._open[index] = None
            if self._not_before is None or open_bar.end > self._not_before:
                self._not_before = open_bar.end
        return closed
