"""Instrument specifications for the engine: fetched from the broker port,
checked at create/update, applied where orders are built.

Prices in quote currency, quantities in base units.
"""

from __future__ import annotations

import logging
from typing import overload

from live_trading.domain.instruments import InstrumentSpec, QuantityBelowMinimum

from .ports import Broker
from .specs import InvalidSpecError

log = logging.getLogger("live_trading.engine")


async def fetch_spec(broker: Broker, asset: str) -> InstrumentSpec | None:
    """``asset``'s specification at ``broker``; None (logged) when the broker
    cannot say now (no such method, not connected, no answer in time).

    Raises:
        LookupError: the venue does not trade ``asset``.
    """
    try:
        return await broker.instrument_spec(asset)
    except LookupError:
        raise
    except Exception as error:  # noqa: BLE001 - no method, not connected, timeout...
        log.warning(
            "no instrument specification for %s from %s: %s",
            asset,
            getattr(broker, "name", "broker"),
            error,
        )
        return None


async def check_quantity(broker: Broker, asset: str, quantity: float) -> None:
    """Refuse an operation's ``quantity`` below ``asset``'s minimum order size.

    Raises:
        InvalidSpecError: on ``quantity`` (below the minimum) or ``asset``
            (the venue does not trade it).
    """
    try:
        spec = await fetch_spec(broker, asset)
    except LookupError as error:
        raise InvalidSpecError("asset", f"{asset} is not traded at the broker: {error}") from None
    if spec is None:
        return
    try:
        spec.check_quantity(quantity)
    except QuantityBelowMinimum as error:
        raise InvalidSpecError("quantity", str(error)) from None


@overload
def on_tick(spec: InstrumentSpec | None, price: float) -> float: ...
@overload
def on_tick(spec: InstrumentSpec | None, price: None) -> None: ...
def on_tick(spec: InstrumentSpec | None, price: float | None) -> float | None:
    """``price`` on the tick (unchanged without a spec, or None)."""
    return price if spec is None or price is None else spec.round_price(price)


def on_lot(spec: InstrumentSpec | None, quantity: float) -> float:
    """``quantity`` rounded down to the lot (never up: no more than asked).
    One below the minimum once rounded (an operation created before the
    check, or with another broker) is sent unchanged, and the venue's
    refusal is journaled: it is never raised to the minimum."""
    if spec is None:
        return quantity
    rounded = spec.round_quantity(quantity)
    return rounded if rounded >= spec.min_quantity else quantity
