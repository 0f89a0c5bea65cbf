"""Incremental technical indicators: O(1) work per bar, pure Python.

Each indicator is fed one value (or bar) at a time, oldest first, and returns
``None`` until it has seen enough input ("warm-up"). Values are in the same
unit as the input prices (quote currency per unit of base asset, e.g. CAD per
USD for USD-CAD).

Sources:

* Simple moving average: the arithmetic mean of the last ``period`` closes.
* Average True Range: J. Welles Wilder Jr., *New Concepts in Technical Trading
  Systems*, Trend Research, 1978, where the True Range, its smoothed average
  and the smoothing rule ``(prev * (n - 1) + x) / n`` are introduced.
"""

from __future__ import annotations

import math
from collections import deque

from live_trading.domain.values import Bar

# The SMA's running (compensated) sum is recomputed exactly (math.fsum over the
# window) after this many updates, so rounding error from repeated add/subtract
# cannot grow without bound. Amortised cost per update: period / _RESYNC_EVERY.
_RESYNC_EVERY = 1024


def _check_period(period: object) -> int:
    """Return ``period`` if it is an ``int`` >= 1 (``bool`` excluded).

    Raises:
        ValueError: otherwise.
    """
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"period must be an integer >= 1, got {period!r}")
    return period


class _Indicator:
    """What every incremental indicator offers: its period, latest value
    (``None`` while warming up) and whether it is warm."""

    __slots__ = ("_period", "_value")

    def __init__(self, period: int) -> None:
        self._period = _check_period(period)
        self._value: float | None = None

    @property
    def period(self) -> int:
        return self._period

    @property
    def value(self) -> float | None:
        """The latest value, or ``None`` before enough input was seen."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._value is not None


class SMA(_Indicator):
    """Simple moving average of the last ``period`` values.

    ``SMA_t = (x_{t-period+1} + ... + x_t) / period``, defined once ``period``
    values have been seen. Kept as a running sum over a fixed-length window,
    with Neumaier's compensated summation (A. Neumaier, "Rundungsfehleranalyse
    einiger Verfahren zur Summation endlicher Summen", ZAMM 54, 1974) for
    each add and remove; the sum is also recomputed exactly with
    :func:`math.fsum` every ``_RESYNC_EVERY`` updates, so drift stays bounded.
    """

    __slots__ = ("_window", "_sum", "_comp", "_since_resync")

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._window: deque[float] = deque(maxlen=self._period)
        self._sum = 0.0
        self._comp = 0.0  # running compensation: true sum ~ _sum + _comp
        self._since_resync = 0

    def update(self, close: float) -> float | None:
        """Add one value (typically a bar's close); return the new average or ``None``."""
        close = float(close)
        if len(self._window) == self._period:
            self._add(-self._window[0])  # the deque drops it on append
        self._window.append(close)
        self._add(close)
        self._since_resync += 1
        if self._since_resync >= _RESYNC_EVERY:
            self._sum = math.fsum(self._window)
            self._comp = math.fsum([*self._window, -self._sum])  # what rounding lost
            self._since_resync = 0
        if len(self._window) == self._period:
            self._value = (self._sum + self._comp) / self._period
        return self._value

    def _add(self, x: float) -> None:
        """Neumaier step: add ``x`` to the sum, keeping the lost low-order part."""
        total = self._sum + x
        if abs(self._sum) >= abs(x):
            self._comp += (self._sum - total) + x
        else:
            self._comp += (x - total) + self._sum
        self._sum = total


class ATR(_Indicator):
    """Wilder's Average True Range over ``period`` bars (default 14).

    True range of a bar (Wilder, 1978)::

        TR_t = max(high_t - low_t, |high_t - close_{t-1}|, |low_t - close_{t-1}|)

    and ``TR = high - low`` for the very first bar (no previous close).
    The first ATR is the simple mean of the first ``period`` TRs; afterwards
    Wilder's smoothing applies::

        ATR_t = (ATR_{t-1} * (period - 1) + TR_t) / period

    (an exponential average with ``alpha = 1 / period``). The value is in price
    units (quote currency), like the bars.
    """

    __slots__ = ("_prev_close", "_count", "_tr_sum")

    def __init__(self, period: int = 14) -> None:
        super().__init__(period)
        self._prev_close: float | None = None
        self._count = 0
        self._tr_sum = 0.0

    def update(self, bar: Bar) -> float | None:
        """Add one closed bar; return the new ATR or ``None`` during warm-up."""
        high, low, close = float(bar.high), float(bar.low), float(bar.close)
        if self._prev_close is None:
            tr = high - low
        else:
            prev = self._prev_close
            tr = max(high - low, abs(high - prev), abs(low - prev))
        self._prev_close = close
        self._count += 1
        if self._value is not None:
            self._value = (self._value * (self._period - 1) + tr) / self._period
        else:
            self._tr_sum += tr
            if self._count == self._period:
                self._value = self._tr_sum / self._period
        return self._value
