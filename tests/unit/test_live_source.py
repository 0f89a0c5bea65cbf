"""BrokerBarSource: live bars in, primary and closed higher bars out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from live_trading.data.live_source import BrokerBarSource
from live_trading.domain.values import Asset, Bar, BarSize


class StreamingMarketData:
    def __init__(self) -> None:
        self.listeners = {}
        self.unsubscribed = []

    async def subscribe_bars(self, asset, bar_size, listener) -> None:
        self.listeners[(asset, bar_size)] = listener

    async def unsubscribe_bars(self, asset, bar_size) -> None:
        self.unsubscribed.append((asset, bar_size))

    async def push(self, asset: str, size: BarSize, bar: Bar) -> None:
        await self.listeners[(asset, size)](asset, size, bar)


def _hour(i: int, price: float) -> Bar:
    start = datetime(2025, 3, 3, 20, tzinfo=UTC)  # a Monday, 20:00 UTC
    return Bar(start + timedelta(hours=i), price, price + 0.001, price - 0.001, price)


async def test_primary_bars_flow_and_a_daily_bar_closes_at_midnight() -> None:
    feed = StreamingMarketData()
    source = BrokerBarSource(feed, Asset.parse("USD-CAD"), BarSize.HOUR_1, [BarSize.DAY_1])
    received = []

    async def consume() -> None:
        async for event in source.events():
            received.append(event)
            if len(received) == 7:
                return

    task = asyncio.create_task(consume())
    while ("USD-CAD", BarSize.HOUR_1) not in feed.listeners:
        await asyncio.sleep(0)
    for i in range(6):  # 20:00 .. 01:00
        await feed.push("USD-CAD", BarSize.HOUR_1, _hour(i, 1.40 + i / 1000))
        await asyncio.sleep(0)
    await asyncio.wait_for(task, 2)
    kinds = [(size, bar.time.hour) for size, bar in received]
    # the 23:00 bar closes the day: the daily bar comes first, then that hour
    assert (
        kinds
        == [
            (BarSize.HOUR_1, 20),
            (BarSize.HOUR_1, 21),
            (BarSize.HOUR_1, 22),
            (BarSize.DAY_1, 0),
            (BarSize.HOUR_1, 23),
            (BarSize.HOUR_1, 0),
            (BarSize.HOUR_1, 1),
        ][: len(kinds)]
    )
    daily = received[3][1]
    assert (daily.open, daily.close, daily.high) == pytest.approx((1.40, 1.403, 1.404))
    assert feed.unsubscribed == [("USD-CAD", BarSize.HOUR_1)]


async def test_bars_at_or_before_the_resume_point_are_skipped() -> None:
    feed = StreamingMarketData()
    after = {BarSize.HOUR_1: _hour(1, 1.4).time}
    source = BrokerBarSource(feed, Asset.parse("USD-CAD"), BarSize.HOUR_1, [], after)
    received = []

    async def consume() -> None:
        async for event in source.events():
            received.append(event)
            return

    task = asyncio.create_task(consume())
    while not feed.listeners:
        await asyncio.sleep(0)
    for i in range(3):
        await feed.push("USD-CAD", BarSize.HOUR_1, _hour(i, 1.4))
    await asyncio.wait_for(task, 2)
    assert [bar.time for _, bar in received] == [_hour(2, 1.4).time]
