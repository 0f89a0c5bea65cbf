"""Drive a fake venue from real bars, so the engine trades through it.

The engine's runner shows each bar to its ``SimulatedMarket``. For a fake
broker venue (TWS, v20), :class:`DrivenMarket` turns the bar into the price
path the tick replay uses (open, then the extremes in the order the bar's
shape implies, then close) and makes the venue trade along it, so working
orders fill where the real market would have filled them.
"""

from __future__ import annotations

from live_trading.data.ticks import ticks_from_bar
from live_trading.domain.values import Bar, BarSize
from tests.contract.broker_contract import MarketDriver


class DrivenMarket:
    def __init__(self, driver: MarketDriver, bar_size: BarSize = BarSize.HOUR_1) -> None:
        self.driver = driver
        self.duration = bar_size.duration
        self.last: Bar | None = None

    async def on_bar(self, account: str, asset: str, bar: Bar) -> None:
        for tick in ticks_from_bar(bar, self.duration):
            await self.driver.trade_at(tick.price)
        self.last = bar

    async def fill_at_last_price(self, account: str, asset: str) -> None:
        if self.last is not None:
            await self.driver.trade_at(self.last.close)
