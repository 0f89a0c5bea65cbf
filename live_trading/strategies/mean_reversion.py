"""Mean-reversion strategy: Bollinger Bands plus RSI, long and short.

At every closed bar, with ``bands`` the Bollinger Bands of the last
``bb_period`` closes (middle = SMA, upper/lower = middle +/- ``bb_std`` times
the population standard deviation) and ``rsi`` Wilder's RSI over
``rsi_period`` close-to-close changes, the wanted position is:

1. SHORT when ``close > upper`` and ``rsi > rsi_overbought``: the price
   stretched far above its mean, expect it to come back;
2. LONG when ``close < lower`` and ``rsi < rsi_oversold``;
3. otherwise flat (``None``) when a LONG's ``close >= middle`` or a SHORT's
   ``close <= middle``: the price reverted to the mean, take the profit;
4. otherwise unchanged.

Entry rules (1, 2) come before the exit rule (3), so a LONG whose close jumps
above the upper band with an overbought RSI reverses straight to SHORT.
Entries are at market. A signal is returned only when the wanted position
changes. Prices are in quote currency; the RSI is a number in [0, 100].

Equality of prices: the bands are computed, so a close equal to the middle
band in exact arithmetic can differ from it by rounding noise; differences
within ``TIE_TOLERANCE`` (1e-10) of the larger value count as equal (a close
"equal" to the middle exits; one "equal" to a band does not enter).

Sources: John Bollinger, *Bollinger on Bollinger Bands*, McGraw-Hill, 2001
(bands; he pairs them with an oscillator such as the RSI to confirm
"tags" of the bands); J. Welles Wilder Jr., *New Concepts in Technical
Trading Systems*, 1978 (RSI, with 30/70 as the classic oversold/overbought
levels). The indicators are :class:`~live_trading.data.indicators.BollingerBands`
and :class:`~live_trading.data.indicators.RSI`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from live_trading.data.indicators import RSI, Bands, BollingerBands
from live_trading.domain.values import Bar, PositionSide

from .base import Signal, Strategy, compare, field_error


class MeanReversionParams(BaseModel):
    """Parameters of :class:`MeanReversionStrategy`; periods are in bars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bb_period: int = Field(default=20, ge=2, description="bars (closes) in the Bollinger Bands")
    bb_std: float = Field(
        default=2.0,
        gt=0,
        allow_inf_nan=False,
        description="band width in population standard deviations",
    )
    rsi_period: int = Field(default=14, ge=2, description="close-to-close changes in the RSI")
    rsi_oversold: float = Field(
        default=30.0, gt=0, lt=100, description="RSI below this (0-100) confirms a LONG entry"
    )
    rsi_overbought: float = Field(
        default=70.0, gt=0, lt=100, description="RSI above this (0-100) confirms a SHORT entry"
    )

    @model_validator(mode="after")
    def _oversold_below_overbought(self) -> MeanReversionParams:
        if self.rsi_oversold >= self.rsi_overbought:
            raise field_error(
                type(self).__name__,
                "rsi_oversold",
                self.rsi_oversold,
                "threshold_order",
                "rsi_oversold must be less than rsi_overbought ({rsi_overbought})",
                {"rsi_overbought": self.rsi_overbought},
            )
        return self


@dataclass(slots=True)
class MeanReversionState:
    """Mutable state of one :class:`MeanReversionStrategy` run."""

    bands: BollingerBands
    rsi: RSI
    target: PositionSide | None = None


class MeanReversionStrategy(Strategy[MeanReversionParams, MeanReversionState]):
    """Fade closes outside the Bollinger Bands confirmed by the RSI; exit at the middle."""

    name: ClassVar[str] = "MeanReversionStrategy"
    params_model: ClassVar[type[BaseModel]] = MeanReversionParams

    @property
    def warmup_bars(self) -> int:
        """``max(bb_period, rsi_period + 1) - 1``: the bands need ``bb_period``
        closes and the RSI ``rsi_period + 1``, so the first signal can come on
        the bar where both exist. The RSI's Wilder smoothing has a long memory:
        a state rebuilt from only these bars has an RSI that converges to (by a
        factor ``1 - 1/rsi_period`` per bar), not equals, the original one."""
        p = self.params
        return max(p.bb_period, p.rsi_period + 1) - 1

    def new_state(self) -> MeanReversionState:
        p = self.params
        return MeanReversionState(
            bands=BollingerBands(p.bb_period, p.bb_std), rsi=RSI(p.rsi_period)
        )

    def on_bar(self, state: MeanReversionState, bar: Bar) -> Signal | None:
        close = float(bar.close)
        bands = state.bands.update(close)
        rsi = state.rsi.update(close)
        if bands is None or rsi is None:
            return None
        wanted, reason = self._wanted(state.target, close, bands, rsi)
        if wanted is state.target:
            return None
        state.target = wanted
        indicators = {
            "close": close,
            "bb_lower": bands.lower,
            "bb_middle": bands.middle,
            "bb_upper": bands.upper,
            "rsi": rsi,
        }
        return Signal(target=wanted, reason=reason, indicators=indicators)

    def _wanted(
        self, target: PositionSide | None, close: float, bands: Bands, rsi: float
    ) -> tuple[PositionSide | None, str]:
        """The wanted position at this bar and why (rules 1-4 of the module doc)."""
        p = self.params
        if compare(close, bands.upper) > 0 and rsi > p.rsi_overbought:
            return PositionSide.SHORT, (
                f"close above upper Bollinger band ({p.bb_period}, "
                f"{p.bb_std:g}) and RSI({p.rsi_period}) "
                f"> {p.rsi_overbought:g}"
            )
        if compare(close, bands.lower) < 0 and rsi < p.rsi_oversold:
            return PositionSide.LONG, (
                f"close below lower Bollinger band ({p.bb_period}, "
                f"{p.bb_std:g}) and RSI({p.rsi_period}) "
                f"< {p.rsi_oversold:g}"
            )
        to_middle = compare(close, bands.middle)
        if (target is PositionSide.LONG and to_middle >= 0) or (
            target is PositionSide.SHORT and to_middle <= 0
        ):
            return None, f"close reverted to the middle band (SMA {p.bb_period})"
        return target, ""
