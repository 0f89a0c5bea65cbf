"""Trend-following strategy: Donchian breakouts filtered by a higher bar size's trend.

Two bar sizes are read. On the *higher* one (``trend_bar_size``, default
``1 day``), each closed bar updates the **trend**, with ``sma`` the simple
moving average of the last ``trend_period`` higher closes (the latest
included):

* up when that bar's ``close > sma``, down when ``close < sma``;
* none until ``trend_period`` higher bars were seen, and when the two are
  equal (within ``TIE_TOLERANCE``, 1e-10 relative: ``sma`` is computed).

Higher bars are delivered only once closed (see :mod:`.base`), so the trend at
a primary bar is that of the last higher bar closed at or before it: no
look-ahead.

On every closed *primary* bar, with ``entry`` the Donchian channel of the
``entry_period`` primary bars *before* this one (highest high, lowest low)
and ``exit`` that of the ``exit_period`` bars before it, the wanted position:

1. a LONG exits (flat) when ``close < exit.lower``, a SHORT when
   ``close > exit.upper``;
2. when flat (also right after an exit on the same bar): LONG when the trend
   is up and ``close > entry.upper``, SHORT when it is down and
   ``close < entry.lower``;
3. otherwise unchanged. A change of trend alone never forces an exit.

Since ``exit_period <= entry_period`` (checked), a close beyond the entry
channel is beyond the exit channel too, so a LONG breaking down in a down
trend reverses straight to SHORT. Entries are at market. Prices are in quote
currency; the comparisons of closes with channels are exact (both are prices
from the data).

Sources: Richard Donchian's n-bar breakout rule as traded by the Turtles
(C. Faith, *Way of the Turtle*, McGraw-Hill, 2007: enter on a 20-bar
breakout, exit on a 10-bar opposite breakout), with A. Elder's idea of
trading only in the direction of the longer timeframe's trend (*Trading for a
Living*, Wiley, 1993, "Triple Screen").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from live_trading.data.indicators import SMA, Channel, DonchianChannel
from live_trading.domain.values import Bar, BarSize, PositionSide

from .base import Signal, Strategy, compare, field_error


class TrendFollowingParams(BaseModel):
    """Parameters of :class:`TrendFollowingStrategy`; periods are in bars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_period: int = Field(
        default=20,
        ge=1,
        description=(
            "primary bars in the entry Donchian channel: enter on a close beyond "
            "their highest high / lowest low"
        ),
    )
    exit_period: int = Field(
        default=10,
        ge=1,
        description=(
            "primary bars in the exit Donchian channel (at most entry_period): exit on a "
            "close beyond the opposite side"
        ),
    )
    trend_bar_size: str = Field(
        default=BarSize.DAY_1.value,
        description="bar size of the trend filter, an IB name such as '1 day' or '4 hours'",
        json_schema_extra={"enum": [size.value for size in BarSize]},
    )
    trend_period: int = Field(
        default=20,
        ge=2,
        description=(
            "bars of trend_bar_size in the trend SMA: up when the last closed one's close "
            "is above it, down when below"
        ),
    )

    @field_validator("trend_bar_size", mode="before")
    @classmethod
    def _ib_bar_size(cls, value: object) -> str:
        """Accept an IB name or a code ("1d"); keep the IB name."""
        if isinstance(value, BarSize):
            return value.value
        if not isinstance(value, str):
            # ValueError, not TypeError: pydantic reports only the former as invalid input
            raise ValueError("must be a bar size name such as '1 day'")  # noqa: TRY004
        return BarSize.parse(value).value

    @model_validator(mode="after")
    def _exit_within_entry(self) -> TrendFollowingParams:
        if self.exit_period > self.entry_period:
            raise field_error(
                type(self).__name__,
                "exit_period",
                self.exit_period,
                "period_order",
                "exit_period must not exceed entry_period ({entry_period})",
                {"entry_period": self.entry_period},
            )
        return self


@dataclass(slots=True)
class TrendFollowingState:
    """Mutable state of one :class:`TrendFollowingStrategy` run."""

    entry: DonchianChannel
    exit: DonchianChannel
    trend_sma: SMA
    trend: int = 0  # 1 up, -1 down, 0 none
    trend_close: float | None = None  # the last higher bar's close
    target: PositionSide | None = None


class TrendFollowingStrategy(Strategy[TrendFollowingParams, TrendFollowingState]):
    """Donchian breakout on the primary bars in the direction of a higher bar size's trend."""

    name: ClassVar[str] = "TrendFollowingStrategy"
    params_model: ClassVar[type[BaseModel]] = TrendFollowingParams

    @property
    def warmup_bars(self) -> int:
        """``entry_period`` primary bars (the entry channel of the bars before
        the current one needs them). The trend needs, besides, ``trend_period``
        bars of ``trend_bar_size``."""
        return self.params.entry_period

    def higher_bar_sizes(self) -> tuple[str, ...]:
        return (self.params.trend_bar_size,)

    def new_state(self) -> TrendFollowingState:
        p = self.params
        return TrendFollowingState(
            entry=DonchianChannel(p.entry_period),
            exit=DonchianChannel(p.exit_period),
            trend_sma=SMA(p.trend_period),
        )

    def on_higher_bar(self, state: TrendFollowingState, bar_size: str, bar: Bar) -> None:
        """Update the trend with one closed bar of ``trend_bar_size``.

        Raises:
            ValueError: for a bar size this strategy did not ask for.
        """
        if BarSize.parse(bar_size).value != self.params.trend_bar_size:
            raise ValueError(
                f"{self.name} reads {self.params.trend_bar_size!r} bars, got {bar_size!r}"
            )
        close = float(bar.close)
        sma = state.trend_sma.update(close)
        state.trend_close = close
        state.trend = 0 if sma is None else compare(close, sma)

    def on_bar(self, state: TrendFollowingState, bar: Bar) -> Signal | None:
        state.entry.update(bar)
        state.exit.update(bar)
        entry, exit_ = state.entry.previous, state.exit.previous
        if entry is None or exit_ is None:
            return None
        close = float(bar.close)
        wanted, reason = self._wanted(state, close, entry, exit_)
        if wanted is state.target:
            return None
        state.target = wanted
        return Signal(
            target=wanted, reason=reason, indicators=self._indicators(state, close, entry, exit_)
        )

    def _wanted(
        self, state: TrendFollowingState, close: float, entry: Channel, exit_: Channel
    ) -> tuple[PositionSide | None, str]:
        """The wanted position at this bar and why (rules 1-3 of the module doc)."""
        p = self.params
        wanted, reason = state.target, ""
        if wanted is PositionSide.LONG and close < exit_.lower:
            wanted, reason = None, f"close below the {p.exit_period}-bar low"
        elif wanted is PositionSide.SHORT and close > exit_.upper:
            wanted, reason = None, f"close above the {p.exit_period}-bar high"
        if wanted is not None:
            return wanted, reason
        trend = f"{p.trend_bar_size} close vs SMA({p.trend_period})"
        if state.trend > 0 and close > entry.upper:
            return PositionSide.LONG, f"close above the {p.entry_period}-bar high, {trend} up"
        if state.trend < 0 and close < entry.lower:
            return PositionSide.SHORT, f"close below the {p.entry_period}-bar low, {trend} down"
        return None, reason

    @staticmethod
    def _indicators(
        state: TrendFollowingState, close: float, entry: Channel, exit_: Channel
    ) -> dict[str, float]:
        values = {
            "close": close,
            "entry_upper": entry.upper,
            "entry_lower": entry.lower,
            "exit_upper": exit_.upper,
            "exit_lower": exit_.lower,
            "trend": float(state.trend),
        }
        if state.trend_close is not None:
            values["trend_close"] = state.trend_close
        if state.trend_sma.value is not None:
            values["trend_sma"] = state.trend_sma.value
        return values
