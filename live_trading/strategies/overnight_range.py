"""Overnight-range breakout strategy, long and short, flat every evening.

Hours are UTC and refer to a bar's *open* time (``Bar.time``). Each UTC day
``D`` has three phases:

* the **window**: bars whose open hour ``h`` satisfies
  ``range_start_hour <= h < range_end_hour``; when ``range_start_hour >
  range_end_hour`` it wraps over midnight (``h >= start`` on ``D - 1`` or
  ``h < end`` on ``D``). Its highest high and lowest low are the day's
  **range** (quote currency). The range counts only if the window was seen
  from its start: its first bar opens exactly at ``range_start_hour``:00
  (so a feed starting mid-window, or a missing first bar, skips that day);
* the **session**: bars with ``range_end_hour <= h < exit_hour`` on ``D``;
* the rest of the day (``h >= exit_hour``, and before the window).

Entries, during the session only, at most one per day:

* ``entry="MARKET"`` (default): LONG at the close of the first bar whose
  ``close > range high``, SHORT at the first whose ``close < range low``
  (executed at market, i.e. at the next bar's open);
* ``entry="STOP"``: on the first session bar, one STOP entry: a buy stop at
  the range high (LONG) when the close is nearer the high than the low
  (``close - low > high - close``, by more than 1e-10 relative), else a sell
  stop at the range low (SHORT). Only one wanted position can be pending, so
  the side the price is nearer to is chosen. A close already beyond the
  range makes the stop marketable at once.

Exit: a wanted position (including a pending STOP entry) goes flat
(``Signal(None)``, at market) at the close of the first bar outside its day's
session: normally the first bar opening at or after ``exit_hour``, or after
a gap in the data the first bar of a later day. There is no other exit and no
reversal within the day.

Validation keeps the phases apart: ``range_start_hour != range_end_hour``,
``range_end_hour < exit_hour``, and ``exit_hour <= range_start_hour`` when
the window wraps.

Source: the opening-range / Asian-session breakout, e.g. T. Crabel, *Day
Trading with Short Term Price Patterns and Opening Range Breakout*, Traders
Press, 1990; for FX the London breakout of the Asian (00:00-07:00 UTC) range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from live_trading.domain.values import Bar, OrderType, PositionSide

from .base import TIE_TOLERANCE, Signal, Strategy, field_error


class OvernightRangeParams(BaseModel):
    """Parameters of :class:`OvernightRangeStrategy`; hours are UTC, 0-23."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    range_start_hour: int = Field(
        default=0,
        ge=0,
        le=23,
        description=("UTC hour of the first bar (by open time) of the overnight range window"),
    )
    range_end_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description=(
            "UTC hour at which the window ends (exclusive); below range_start_hour the "
            "window wraps over midnight"
        ),
    )
    exit_hour: int = Field(
        default=20,
        ge=0,
        le=23,
        description=("UTC hour: go flat at the close of the first bar opening at or after it"),
    )
    entry: Literal["MARKET", "STOP"] = Field(
        default="MARKET",
        description=(
            "MARKET: enter at the first close beyond the range; STOP: place one stop entry "
            "at the range side nearer the close after the window"
        ),
    )

    @model_validator(mode="after")
    def _phases_apart(self) -> OvernightRangeParams:
        name, start, end = type(self).__name__, self.range_start_hour, self.range_end_hour
        if start == end:
            raise field_error(
                name,
                "range_end_hour",
                end,
                "hour_order",
                "range_end_hour must differ from range_start_hour",
            )
        if self.exit_hour <= end:
            raise field_error(
                name,
                "exit_hour",
                self.exit_hour,
                "hour_order",
                f"exit_hour must be after range_end_hour ({end})",
            )
        if start > end and self.exit_hour > start:
            raise field_error(
                name,
                "exit_hour",
                self.exit_hour,
                "hour_order",
                f"exit_hour must not be after range_start_hour ({start}) when the window wraps",
            )
        return self


class _Phase(Enum):
    WINDOW = "window"
    SESSION = "session"
    OTHER = "other"


@dataclass(slots=True)
class OvernightRangeState:
    """Mutable state of one :class:`OvernightRangeStrategy` run."""

    day: date | None = None  # UTC date on which the latest window ends
    high: float = 0.0  # that window's range so far (quote currency)
    low: float = 0.0
    complete: bool = False  # the window was seen from its first bar
    entered: bool = False  # the day's entry was signalled
    target: PositionSide | None = None


class OvernightRangeStrategy(Strategy[OvernightRangeParams, OvernightRangeState]):
    """Trade the breakout of the overnight range; flat at ``exit_hour``."""

    name: ClassVar[str] = "OvernightRangeStrategy"
    params_model: ClassVar[type[BaseModel]] = OvernightRangeParams

    @property
    def warmup_bars(self) -> int:
        """The window's length in hours: with 1-hour bars the first signal can
        come on the bar after a complete window (smaller bars need more). To
        rebuild a state, replay from the start of the latest window, at most
        24 hours back, so that the range and a position taken are known."""
        p = self.params
        return (p.range_end_hour - p.range_start_hour) % 24

    def new_state(self) -> OvernightRangeState:
        return OvernightRangeState()

    def on_bar(self, state: OvernightRangeState, bar: Bar) -> Signal | None:
        phase, day = self._phase(bar.time)
        if phase is _Phase.WINDOW:
            self._extend_range(state, day, bar)
        in_session = phase is _Phase.SESSION and day == state.day
        if state.target is not None and not in_session:
            state.target = None
            return Signal(
                target=None, indicators=self._indicators(state, bar), reason=self._exit_reason()
            )
        if in_session and state.complete and not state.entered:
            return self._enter(state, bar)
        return None

    def _exit_reason(self) -> str:
        p = self.params
        return (
            f"exit: bar outside the {p.range_end_hour}:00-{p.exit_hour}:00 UTC "
            "session of the position's day"
        )

    def _phase(self, moment: datetime) -> tuple[_Phase, date]:
        """The phase of a bar opening at ``moment`` and the day it belongs to."""
        p, hour, day = self.params, moment.hour, moment.date()
        if p.range_start_hour < p.range_end_hour:
            if p.range_start_hour <= hour < p.range_end_hour:
                return _Phase.WINDOW, day
        elif hour >= p.range_start_hour:
            return _Phase.WINDOW, day + timedelta(days=1)
        elif hour < p.range_end_hour:
            return _Phase.WINDOW, day
        if p.range_end_hour <= hour < p.exit_hour:
            return _Phase.SESSION, day
        return _Phase.OTHER, day

    def _extend_range(self, state: OvernightRangeState, day: date, bar: Bar) -> None:
        if day != state.day:
            start = datetime(day.year, day.month, day.day, self.params.range_start_hour, tzinfo=UTC)
            if self.params.range_start_hour > self.params.range_end_hour:
                start -= timedelta(days=1)
            state.day, state.complete, state.entered = day, bar.time == start, False
            state.high, state.low = float(bar.high), float(bar.low)
        else:
            state.high, state.low = max(state.high, bar.high), min(state.low, bar.low)

    def _enter(self, state: OvernightRangeState, bar: Bar) -> Signal | None:
        """The day's MARKET entry on a close beyond the range, if any."""
        if self.params.entry == "STOP":
            return self._stop_entry(state, bar)
        if bar.close > state.high:
            side, reason = PositionSide.LONG, "close above the overnight range high"
        elif bar.close < state.low:
            side, reason = PositionSide.SHORT, "close below the overnight range low"
        else:
            return None
        state.entered, state.target = True, side
        return Signal(target=side, reason=reason, indicators=self._indicators(state, bar))

    def _stop_entry(self, state: OvernightRangeState, bar: Bar) -> Signal:
        """The day's STOP entry at the range side nearer the close."""
        close = float(bar.close)
        if (close - state.low) - (state.high - close) > TIE_TOLERANCE * close:
            side, price, reason = PositionSide.LONG, state.high, "buy stop at the range high"
        else:
            side, price, reason = PositionSide.SHORT, state.low, "sell stop at the range low"
        state.entered, state.target = True, side
        return Signal(
            target=side,
            reason=f"{reason} (nearer the close)",
            indicators=self._indicators(state, bar),
            entry_type=OrderType.STOP,
            entry_price=price,
        )

    @staticmethod
    def _indicators(state: OvernightRangeState, bar: Bar) -> dict[str, float]:
        return {"close": float(bar.close), "range_high": state.high, "range_low": state.low}
