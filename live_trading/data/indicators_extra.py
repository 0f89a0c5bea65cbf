"""Band and channel indicators: Bollinger Bands and Donchian channels.

Same conventions as :mod:`live_trading.data.indicators` (fed oldest first, one
value or bar at a time; ``None`` until warm; values in the input's price unit,
i.e. quote currency). Both classes, and their value types :class:`Bands` and
:class:`Channel`, are re-exported from :mod:`live_trading.data.indicators`.

Sources:

* Bollinger Bands: John Bollinger, *Bollinger on Bollinger Bands*,
  McGraw-Hill, 2001: a simple moving average of the close, plus and minus a
  multiple of the *population* standard deviation (divide by n) of the same
  closes.
* Donchian channel: Richard Donchian's "n-bar rule" (the highest high and
  lowest low of the last n bars), popularised as the breakout rule of the
  Turtle traders.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from dataclasses import dataclass

from live_trading.data.indicators import SMA, _Indicator
from live_trading.domain.values import Bar


@dataclass(frozen=True, slots=True)
class Bands:
    """Bollinger Bands at one bar (prices): ``lower <= middle <= upper``."""

    lower: float
    middle: float
    upper: float


@dataclass(frozen=True, slots=True)
class Channel:
    """A price channel at one bar (prices): ``lower <= upper``."""

    lower: float
    upper: float


def _check_num_std(num_std: object) -> float:
    """Return ``num_std`` as a float if it is a finite real number > 0.

    Raises:
        ValueError: otherwise (``bool`` is rejected too).
    """
    if (
        isinstance(num_std, bool)
        or not isinstance(num_std, numbers.Real)
        or not math.isfinite(num_std)
        or num_std <= 0
    ):
        raise ValueError(f"num_std must be a finite number > 0, got {num_std!r}")
    return float(num_std)


class BollingerBands(_Indicator[Bands]):
    """Bollinger Bands over ``period`` closes (default 20, ``num_std`` 2.0).

    With ``x`` the last ``period`` closes (Bollinger, 2001)::

        middle = SMA(period) = mean(x)
        sigma  = sqrt(sum((x_i - mean(x))**2) / period)     # population, ddof=0
        upper  = middle + num_std * sigma
        lower  = middle - num_std * sigma

    ``middle`` is exactly what :class:`SMA` of the same period returns. ``sigma``
    is recomputed from the window at each bar (O(period), two passes with
    :func:`math.fsum`, after shifting by the newest close), so it cannot drift
    and is exactly 0 for a flat window. The first value needs ``period`` closes.
    """

    __slots__ = ("_num_std", "_sma", "_std", "_window")

    def __init__(self, period: int = 20, num_std: float = 2.0) -> None:
        super().__init__(period)
        self._num_std = _check_num_std(num_std)
        self._sma = SMA(self._period)
        self._window: deque[float] = deque(maxlen=self._period)
        self._std: float | None = None

    @property
    def num_std(self) -> float:
        return self._num_std

    @property
    def std(self) -> float | None:
        """The latest ``sigma`` (price units), or ``None`` during warm-up."""
        return self._std

    def update(self, close: float) -> Bands | None:
        """Add one close; return the new :class:`Bands` or ``None`` during warm-up."""
        close = float(close)
        self._window.append(close)
        middle = self._sma.update(close)
        if middle is None:
            return None
        self._std = self._population_std()
        width = self._num_std * self._std
        self._value = Bands(middle - width, middle, middle + width)
        return self._value

    def _population_std(self) -> float:
        n = self._period
        ref = self._window[-1]  # shift: small deviations, exact for nearby prices
        dev = [x - ref for x in self._window]
        mean = math.fsum(dev) / n
        return math.sqrt(math.fsum((d - mean) * (d - mean) for d in dev) / n)


class DonchianChannel(_Indicator[Channel]):
    """Donchian channel: highest high and lowest low of the last ``period`` bars.

    ``value`` (also returned by :meth:`update`) is the channel of the last
    ``period`` bars *including* the current one::

        upper_t = max(high_{t-period+1}, ..., high_t)
        lower_t = min(low_{t-period+1}, ..., low_t)

    and :attr:`previous` is the channel as it was before the latest update,
    i.e. of the ``period`` bars *before* the current one, which is what a
    breakout rule compares the current close against (``close_t > upper_{t-1}``).
    ``value`` needs ``period`` bars and ``previous`` ``period + 1``. Monotonic
    deques of (bar index, price) keep the window's extremes: O(1) amortised.
    """

    __slots__ = ("_count", "_highs", "_lows", "_previous")

    def __init__(self, period: int = 20) -> None:
        super().__init__(period)
        self._count = 0
        self._highs: deque[tuple[int, float]] = deque()  # prices decreasing
        self._lows: deque[tuple[int, float]] = deque()  # prices increasing
        self._previous: Channel | None = None

    @property
    def previous(self) -> Channel | None:
        """The channel of the ``period`` bars before the latest one, or ``None``."""
        return self._previous

    def update(self, bar: Bar) -> Channel | None:
        """Add one closed bar; return the channel including it, or ``None``."""
        high, low = float(bar.high), float(bar.low)
        index = self._count
        self._count += 1
        self._previous = self._value
        while self._highs and self._highs[-1][1] <= high:
            self._highs.pop()
        self._highs.append((index, high))
        while self._lows and self._lows[-1][1] >= low:
            self._lows.pop()
        self._lows.append((index, low))
        oldest = index - self._period + 1  # first bar index still in the window
        while self._highs[0][0] < oldest:
            self._highs.popleft()
        while self._lows[0][0] < oldest:
            self._lows.popleft()
        if self._count >= self._period:
            self._value = Channel(self._lows[0][1], self._highs[0][1])
        return self._value
