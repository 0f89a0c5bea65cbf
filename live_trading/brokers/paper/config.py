"""Configuration of the paper broker's fill and cost model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from live_trading.domain.instruments import InstrumentSpec


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
        tick_size: price tick of an asset not in ``instruments`` (quote
            currency): 0.00001, FX's fifth decimal (a "pipette").
        jpy_tick_size: the tick when the quote currency is JPY (0.001).
        lot_size: quantity increment (base units); ``min_quantity`` the
            smallest order (base units), both 1 as at OANDA.
        instruments: per-asset specifications (``"USD-CAD"`` ->
            :class:`InstrumentSpec`) overriding those defaults.

    Basis points keep the model independent of an instrument's price scale.

    Raises:
        ValueError: if any value is negative or not finite.
    """

    half_spread_bps: float = 0.5
    slippage_bps: float = 0.0
    commission_bps: float = 0.2
    commission_minimum: float = 0.0
    tick_size: float = 0.00001
    jpy_tick_size: float = 0.001
    lot_size: float = 1.0
    min_quantity: float = 1.0
    instruments: Mapping[str, InstrumentSpec] = field(default_factory=lambda: MappingProxyType({}))

    def spec(self, asset: str) -> InstrumentSpec:
        """The specification of ``asset`` (``"USD-JPY"``): its entry in
        ``instruments``, else the defaults (JPY quotes on ``jpy_tick_size``)."""
        known = self.instruments.get(asset)
        if known is not None:
            return known
        tick = self.jpy_tick_size if asset.upper().endswith("JPY") else self.tick_size
        return InstrumentSpec(asset, tick, self.lot_size, max(self.min_quantity, self.lot_size))

    def __post_init__(self) -> None:
        for item in fields(self):
            if item.name == "instruments":
                continue
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{item.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{item.name} must be a finite number >= 0, got {value!r}")
        for name in ("tick_size", "jpy_tick_size", "lot_size", "min_quantity"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
