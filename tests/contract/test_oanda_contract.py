"""The broker contract, against the OANDA v20 adapter talking real HTTP to
the fake v20 server of tests/fakes/oanda_v20.py: once well-behaved, and
once per chaos seed (random delays, 429s with Retry-After, 5xx, lost answers
to writes, dropped streams: see tests/fakes/oanda_v20_faults.py)."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.oanda import OANDABroker, OANDAConfig
from tests.contract.broker_contract import BrokerContract, Venue
from tests.fakes.oanda_v20 import FakeOANDA, FakeOANDAServer

pytestmark = pytest.mark.timeout(120)
HALF_SPREAD = 0.00005
CHAOS_SEEDS = [1, 2, 3, 4, 5]


class V20Driver:
    """Moves the fake's USD_CAD price; working orders it crosses fill."""

    def __init__(self, fake: FakeOANDA) -> None:
        self.fake = fake

    async def trade_at(self, price: float) -> None:
        self.fake.set_price("USD_CAD", price - HALF_SPREAD, price + HALF_SPREAD)
        await asyncio.sleep(0.3)  # the adapter polls transactions every 50 ms


@pytest.fixture(
    params=[None, *CHAOS_SEEDS], ids=["calm", *[f"chaos-{seed}" for seed in CHAOS_SEEDS]]
)
async def venue(request):
    server = FakeOANDAServer(FakeOANDA()).start()
    server.fake.set_price("USD_CAD", 1.3700 - HALF_SPREAD, 1.3700 + HALF_SPREAD)
    broker = OANDABroker(
        OANDAConfig(
            account_id=server.fake.account_id,
            api_key=server.fake.token,
            base_url=server.url,
            poll_interval_s=0.05,
            heartbeat_timeout_s=2.0,
            reconnect_delay_s=0.1,
            retry_backoff_s=0.02,
            clock_skew_s=0.0,
        ),
        bar_poll_interval_s=0.1,
    )
    if request.param is not None:
        server.fake.faults.start_chaos(request.param, rate=0.15)
    venue = Venue(broker, V20Driver(server.fake), "6b0000000000000000000001")

    async def collect(report) -> None:
        venue.reports.append(report)

    broker.set_listener(collect)
    await broker.connect()
    yield venue
    await broker.disconnect()
    server.stop()


class TestOANDABroker(BrokerContract):
    pass
