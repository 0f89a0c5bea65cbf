"""Moving-average crossover ("momentum") strategy, long and short.

Two simple moving averages of the closes are compared at every closed bar:

* the fast SMA crosses *above* the slow one (previous ``fast <= slow`` and now
  ``fast > slow``): the strategy wants to be LONG;
* it crosses *below* (previous ``fast >= slow`` and now ``fast < slow``):
  the strategy wants to be SHORT.

A signal is only returned when the wanted position changes, so signals
alternate LONG / SHORT (a touch-and-go, e.g. ``fast > slow``, then equal,
then ``fast > slow`` again, does not repeat LONG). This is the classic
dual moving-average crossover trend-following rule.

Equality: the SMAs are running sums, so two averages that are equal in exact
arithmetic (flat prices are common in FX) can differ by rounding noise of
about 1e-16 relative. Differences within ``TIE_TOLERANCE`` (1e-10) of the
larger average are therefore treated as equal, which makes the signals
independent of summation order. Real differences are far larger: with prices
quoted to 1e-5 and periods p, q they are multiples of 1e-5 / (p * q).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from live_trading.data.indicators import SMA
from live_trading.domain.values import Bar, PositionSide

from .base import Signal, Strategy, compare, field_error


class MomentumParams(BaseModel):
    """Parameters of :class:`MomentumStrategy`; periods are counted in bars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fast_period: int = Field(default=10, ge=1, description="bars in the fast SMA")
    slow_period: int = Field(default=30, ge=2, description="bars in the slow SMA")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MomentumParams:
        if self.fast_period >= self.slow_period:
            raise field_error(
                type(self).__name__,
                "fast_period",
                self.fast_period,
                "period_order",
                "fast_period must be less than slow_period ({slow_period})",
                {"slow_period": self.slow_period},
            )
        return self


@dataclass(slots=True)
class MomentumState:
    """Mutable state of one :class:`MomentumStrategy` run."""

    fast: SMA
    slow: SMA
    prev_order: int | None = None  # compare(fast, slow) at the previous bar
    target: PositionSide | None = None
    bars_seen: int = 0


class MomentumStrategy(Strategy[MomentumParams, MomentumState]):
    """SMA(fast) / SMA(slow) crossover on closes, going long and short."""

    name: ClassVar[str] = "MomentumStrategy"
    params_model: ClassVar[type[BaseModel]] = MomentumParams

    @property
    def warmup_bars(self) -> int:
        """``slow_period``: after that many bars both SMAs exist, so the next
        bar can show a crossover."""
        return self.params.slow_period

    def new_state(self) -> MomentumState:
        return MomentumState(fast=SMA(self.params.fast_period), slow=SMA(self.params.slow_period))

    def on_bar(self, state: MomentumState, bar: Bar) -> Signal | None:
        state.bars_seen += 1
        fast = state.fast.update(bar.close)
        slow = state.slow.update(bar.close)
        if fast is None or slow is None:
            return None
        order, prev_order = compare(fast, slow), state.prev_order
        state.prev_order = order
        if prev_order is not None and prev_order <= 0 < order:
            wanted, verb = PositionSide.LONG, "above"
        elif prev_order is not None and prev_order >= 0 > order:
            wanted, verb = PositionSide.SHORT, "below"
        else:
            return None
        if wanted is state.target:
            return None
        state.target = wanted
        p = self.params
        return Signal(
            target=wanted,
            reason=f"SMA({p.fast_period}) crossed {verb} SMA({p.slow_period})",
            indicators={"sma_fast": fast, "sma_slow": slow, "close": float(bar.close)},
        )
