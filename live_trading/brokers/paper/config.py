"""Configuration of the paper broker's fill and cost model."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class PaperBrokerConfig:
    """Costs the paper broker charges on fills.

    Attributes:
        half_spread_bps: half the bid/ask spread, in basis points of price
            (1 bp = 0.01 %). Market orders pay it: a BUY fills above the
            reference price, a SELL below.
        slippage_bps: extra adverse price movement, in basis points of price,
            applied to market orders and to triggered stop orders (never to
            limit orders).
        commission_bps: commission in basis points of the fill's notional
            value (quantity * fill price), charged in quote currency.
        commission_minimum: the least commission charged per fill, in quote
            currency.

    Basis points keep the model independent of an instrument's price scale.

    Raises:
        ValueError: if any value is negative or not finite.
    """

    half_spread_bps: float = 0.5
    slippage_bps: float = 0.0
    commission_bps: float = 0.2
    commission_minimum: float = 0.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{field.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{field.name} must be a finite number >= 0, got {value!r}")
