"""The broker contract, against the IBKR adapter (real ib_async client)
talking to the fake TWS of tests/fakes/tws_server.py: once well behaved,
then under seeded chaos (``IB_CHAOS_SEEDS``, default 5 seeds: random
request delays, orderStatus / openOrder in either order, commissions late
or never, duplicate execDetails, the connection dropped before the market
trades so that fills come only through the reconnection's sync)."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig
from live_trading.engine.ports import ConnectionState
from tests.contract.broker_contract import BrokerContract, Venue
from tests.fakes.tws_adversary import Adversary
from tests.fakes.tws_server import FakeTWS

pytestmark = pytest.mark.timeout(60)


def chaos_seeds() -> list[int]:
    """Seeds of the chaos runs: ``IB_CHAOS_SEEDS`` (``"0-99"`` or ``"3,7"``), default 0-4."""
    text = os.environ.get("IB_CHAOS_SEEDS", "0-4")
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",") if s]


class TWSDriver:
    """Makes the fake TWS trade at a price (orders rest until then). Under
    chaos the connection is sometimes dropped first: the fills are then
    made while the adapter is away and reach it through its re-sync."""

    def __init__(self, fake: FakeTWS, broker: IBKRBroker, rng: random.Random | None) -> None:
        self.fake, self.broker, self.rng = fake, broker, rng
        self.connects = 0

    def on_connection(self, _reason: str, state: ConnectionState) -> None:
        self.connects += state is ConnectionState.CONNECTED

    async def trade_at(self, price: float) -> None:
        drop = self.rng is not None and self.rng.random() < 0.3
        before = self.connects
        if drop:
            await self.fake.drop_connections()
        self.fake.trade_at(price)
        for _ in range(1000):  # bounded: a reconnection takes ~0.1 s
            if not drop or self.connects > before:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # let the reports reach the client


@pytest.fixture(
    params=[None, *chaos_seeds()], ids=lambda seed: "calm" if seed is None else f"chaos{seed}"
)
async def venue(request):
    seed = request.param
    fake = FakeTWS()
    fake.default_behaviour = "rest"  # market orders wait for trade_at
    if seed is not None:
        fake.adversary = Adversary.seeded(seed)
    port = await fake.start()
    driver = TWSDriver(fake, None, random.Random(seed) if seed is not None else None)
    broker = IBKRBroker(
        IBKRConfig(port=port, client_id=3, connect_timeout_s=5, reconnect_backoff_s=(0.05,)),
        on_connection_event=driver.on_connection,
    )
    driver.broker = broker
    venue = Venue(broker, driver, "6b0000000000000000000001")

    async def collect(report) -> None:
        venue.reports.append(report)

    broker.set_listener(collect)
    await broker.connect()
    yield venue
    await broker.disconnect()
    await fake.stop()


class TestIBKRBroker(BrokerContract):
    pass
