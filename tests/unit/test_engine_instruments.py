"""Instrument specifications at the engine's edge (engine/instruments.py)."""

from __future__ import annotations

import pytest

from live_trading.domain.instruments import InstrumentSpec
from live_trading.engine.instruments import check_quantity, fetch_spec, on_lot, on_tick
from live_trading.engine.ports import BrokerTimeout
from live_trading.engine.specs import InvalidSpecError

SPEC = InstrumentSpec("EUR-USD", 0.0001, 1000.0, 1000.0)


class _Broker:
    name = "venue"

    def __init__(self, answer) -> None:
        self.answer = answer

    async def instrument_spec(self, asset: str) -> InstrumentSpec:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


async def test_below_the_minimum_is_refused_naming_quantity() -> None:
    with pytest.raises(InvalidSpecError) as refused:
        await check_quantity(_Broker(SPEC), "EUR-USD", 999.0)
    assert refused.value.field == "quantity" and "minimum" in refused.value.message
    await check_quantity(_Broker(SPEC), "EUR-USD", 1500.0)  # on the lot once rounded down


async def test_an_asset_the_venue_lacks_is_refused_naming_asset() -> None:
    with pytest.raises(InvalidSpecError) as refused:
        await check_quantity(_Broker(LookupError("no EUR-XYZ")), "EUR-XYZ", 1000.0)
    assert refused.value.field == "asset"


async def test_a_broker_that_cannot_say_now_does_not_block() -> None:
    assert await fetch_spec(_Broker(BrokerTimeout("instrument_spec", 5)), "EUR-USD") is None
    assert await fetch_spec(object(), "EUR-USD") is None  # no such method
    await check_quantity(_Broker(ConnectionError("down")), "EUR-USD", 1.0)


def test_prices_on_the_tick_and_quantities_on_the_lot() -> None:
    assert on_tick(SPEC, 1.123456) == 1.1235 and on_tick(None, 1.123456) == 1.123456
    assert on_tick(SPEC, None) is None
    assert on_lot(SPEC, 2750.0) == 2000.0 and on_lot(SPEC, 10.0) == 10.0  # never raised
    assert on_lot(None, 2750.5) == 2750.5
