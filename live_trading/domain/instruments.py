"""Instrument specifications: the tick, the lot and the minimum order size.

An :class:`InstrumentSpec` is a value: the broker adapter builds it from the
venue's own data (IB contract details: ``minTick``, ``sizeIncrement``,
``minSize``; OANDA ``/v3/accounts/{id}/instruments``: ``displayPrecision``,
``tradeUnitsPrecision``, ``minimumTradeSize``), the paper broker from config.
Every price and quantity is rounded with it at the edge where orders are
built, so nothing off the tick or off the lot reaches a venue.

Prices in quote currency, quantities in units of the base asset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal


class QuantityBelowMinimum(ValueError):
    """A quantity that rounds to less than the instrument's minimum size."""

    def __init__(self, asset: str, quantity: float, minimum: float) -> None:
        super().__init__(
            f"quantity {quantity:g} is below the minimum order size {minimum:g} of {asset}"
        )
        self.asset = asset
        self.quantity = quantity
        self.minimum = minimum


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """How an asset trades at its venue.

    Attributes:
        asset: ``"USD-CAD"``.
        tick_size: smallest price increment, quote currency (> 0).
        lot_size: smallest quantity increment, base units (> 0).
        min_quantity: smallest order quantity, base units (>= lot_size).
    """

    asset: str
    tick_size: float
    lot_size: float = 1.0
    min_quantity: float = 1.0

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "min_quantity"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} of {self.asset} must be a positive number, not {value!r}")

    @property
    def price_decimals(self) -> int:
        """Decimal places of the tick (0.00001 -> 5; 0.25 -> 2)."""
        exponent = Decimal(repr(self.tick_size)).normalize().as_tuple().exponent
        assert isinstance(exponent, int)  # tick_size is finite (checked on creation)
        return max(0, -exponent)

    def round_price(self, price: float) -> float:
        """``price`` on the nearest tick (half to even), as a clean float."""
        tick = Decimal(repr(self.tick_size))
        ticks = (Decimal(repr(price)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return float(ticks * tick)

    def round_quantity(self, quantity: float) -> float:
        """``quantity`` rounded *down* to the lot (never more than asked)."""
        lot = Decimal(repr(self.lot_size))
        lots = (Decimal(repr(quantity)) / lot).quantize(Decimal(1), rounding=ROUND_DOWN)
        return float(lots * lot)

    def check_quantity(self, quantity: float) -> float:
        """The quantity on the lot.

        Raises:
            QuantityBelowMinimum: when it is below ``min_quantity`` once on the lot.
        """
        rounded = self.round_quantity(quantity)
        if rounded < self.min_quantity or rounded <= 0:
            raise QuantityBelowMinimum(self.asset, quantity, self.min_quantity)
        return rounded
