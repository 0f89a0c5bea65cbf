"""Incremental technical indicators: O(1) work per bar, pure Python.

(Bollinger Bands, in :mod:`live_trading.data.indicators_extra`, take O(period).)

Each indicator is fed one value (or bar) at a time, oldest first, and returns
``None`` until it has seen enough input ("warm-up"). Values are in the same
unit as the input prices (quote currency per unit of base asset, e.g. CAD per
USD for USD-CAD).

Sources:

* Simple moving average: the arithmetic mean of the last ``period`` closes.
* Exponential moving average: ``alpha = 2 / (period + 1)``, seeded with the
  simple mean of the first ``period`` values (the usual charting convention).
* Average True Range and Relative Strength Index: J. Welles Wilder Jr., *New
  Concepts in Technical Trading Systems*, Trend Research, 1978, where the True
  Range, the RSI and the smoothing rule ``(prev * (n - 1) + x) / n`` are
  introduced.
* Bollinger Bands and Donchian channels live in
  :mod:`live_trading.data.indicators_extra` and are re-exported from here.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Generic, TypeVar

from live_trading.domain.values import Bar

if TYPE_CHECKING:
    from live_trading.data.indicators_extra import (
        Bands,
        BollingerBands,
        Channel,
        DonchianChannel,
    )

__all__ = [
    "ATR",
    "EMA",
    "RSI",
    "SMA",
    "Bands",
    "BollingerBands",
    "Channel",
    "DonchianChannel",
]

# Defined in indicators_extra, which builds on _Indicator below; re-exported
# lazily (PEP 562 module __getattr__) because an eager import would be circular.
_EXTRA_NAMES = frozenset({"Bands", "BollingerBands", "Channel", "DonchianChannel"})


def __getattr__(name: str) -> object:
    if name in _EXTRA_NAMES:
        from live_trading.data import indicators_extra

        return getattr(indicators_extra, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


_V = TypeVar("_V")


class _Indicator(Generic[_V]):
    """What every incremental indicator offers: its period, latest value
    (``None`` while warming up) and whether it is warm. ``_V`` is the type of
    the value (``float`` for most; a small dataclass for bands/channels)."""

    __slots__ = ("_period", "_value")

    def __init__(self, period: int) -> None:
        self._period = _check_period(period)
        self._value: _V | None = None

    @property
    def period(self) -> int:
        return self._period

    @property
    def value(self) -> _V | None:
        """The latest value, or ``None`` before enough input was seen."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._value is not None


class SMA(_Indicator[float]):
    """Simple moving average of the last ``period`` values.

    ``SMA_t = (x_{t-period+1} + ... + x_t) / period``, defined once ``period``
    values have been seen. Kept as a running sum over a fixed-length window,
    with Neumaier's compensated summation (A. Neumaier, "Rundungsfehleranalyse
    einiger Verfahren zur Summation endlicher Summen", ZAMM 54, 1974) for
    each add and remove; the sum is also recomputed exactly with
    :func:`math.fsum` every ``_RESYNC_EVERY`` updates, so drift stays bounded.
    """

    __slots__ = ("_comp", "_since_resync", "_sum", "_window")

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


class ATR(_Indicator[float]):
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

    __slots__ = ("_count", "_prev_close", "_tr_sum")

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


class EMA(_Indicator[float]):
    """Exponential moving average with ``alpha = 2 / (period + 1)``.

    Seeded with the simple mean of the first ``period`` values (the common
    charting convention), so the first value appears after ``period`` inputs::

        EMA_{period-1} = (x_0 + ... + x_{period-1}) / period
        EMA_t = EMA_{t-1} + alpha * (x_t - EMA_{t-1})

    which equals ``alpha * x_t + (1 - alpha) * EMA_{t-1}``. Same unit as the input.
    """

    __slots__ = ("_alpha", "_seed")

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._alpha = 2.0 / (self._period + 1)
        self._seed: list[float] = []  # the first ``period`` values, then emptied

    @property
    def alpha(self) -> float:
        return self._alpha

    def update(self, close: float) -> float | None:
        """Add one value (typically a close); return the new EMA or ``None``."""
        close = float(close)
        if self._value is not None:
            self._value += self._alpha * (close - self._value)
        else:
            self._seed.append(close)
            if len(self._seed) == self._period:
                self._value = math.fsum(self._seed) / self._period
                self._seed.clear()
        return self._value


class RSI(_Indicator[float]):
    """Wilder's Relative Strength Index over ``period`` changes (default 14).

    Wilder (1978): from the close-to-close changes ``d_t = close_t - close_{t-1}``
    take gains ``U_t = max(d_t, 0)`` and losses ``D_t = max(-d_t, 0)``. The
    first averages are the simple means of the first ``period`` gains/losses
    (so the first RSI needs ``period + 1`` closes); afterwards::

        avg_t = (avg_{t-1} * (period - 1) + x_t) / period

    and ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``, a number in [0, 100]
    (no unit). It is evaluated as the algebraically equal
    ``100 * avg_gain / (avg_gain + avg_loss)``, which avoids cancellation near
    0 and gives 100 when ``avg_loss == 0``; 50 when both averages are 0.
    """

    __slots__ = ("_avg_gain", "_avg_loss", "_count", "_prev_close")

    def __init__(self, period: int = 14) -> None:
        super().__init__(period)
        self._prev_close: float | None = None
        self._count = 0  # changes seen
        self._avg_gain = 0.0  # running sums during warm-up, then averages
        self._avg_loss = 0.0

    def update(self, close: float) -> float | None:
        """Add one close; return the new RSI or ``None`` during warm-up."""
        close = float(close)
        prev, self._prev_close = self._prev_close, close
        if prev is None:
            return None
        change = close - prev
        gain = max(0.0, change)
        loss = max(0.0, -change)
        n = self._period
        self._count += 1
        if self._value is not None:
            self._avg_gain = (self._avg_gain * (n - 1) + gain) / n
            self._avg_loss = (self._avg_loss * (n - 1) + loss) / n
        else:
            self._avg_gain += gain
            self._avg_loss += loss
            if self._count < n:
                return None
            self._avg_gain /= n
            self._avg_loss /= n
        total = self._avg_gain + self._avg_loss
        self._value = 50.0 if total == 0.0 else 100.0 * self._avg_gain / total
        return self._value
