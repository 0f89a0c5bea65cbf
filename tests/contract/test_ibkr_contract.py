"""The broker contract, against the IBKR adapter (real ib_async client)
talking to the fake TWS of tests/fakes/tws_server.py."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig
from tests.contract.broker_contract import BrokerContract, Venue
from tests.fakes.tws_server import FakeTWS

pytestmark = pytest.mark.timeout(60)


class TWSDriver:
    """Makes the fake TWS trade at a price (orders rest until then)."""

    def __init__(self, fake: FakeTWS) -> None:
        self.fake = fake

    async def trade_at(self, price: float) -> None:
        self.fake.trade_at(price)
        await asyncio.sleep(0.05)  # let the reports reach the client


@pytest.fixture
async def venue():
    fake = FakeTWS()
    fake.default_behaviour = "rest"  # market orders wait for trade_at
    port = await fake.start()
    broker = IBKRBroker(IBKRConfig(port=port, client_id=3, connect_timeout_s=5,
                                   reconnect_backoff_s=(0.05,), ))
    venue = Venue(broker, TWSDriver(fake), "6b0000000000000000000001")

    async def collect(report) -> None:
        venue.reports.append(report)

    broker.set_listener(collect)
    await broker.connect()
    yield venue
    await broker.disconnect()
    await fake.stop()


class TestIBKRBroker(BrokerContract):
    pass
