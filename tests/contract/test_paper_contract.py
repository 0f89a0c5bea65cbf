"""The broker contract, against the paper broker (in-memory and durable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from live_trading.brokers.paper import MongoPaperStore, PaperBroker
from live_trading.domain.values import Bar
from tests.conftest import unique_db
from tests.contract.broker_contract import ASSET, BrokerContract, Venue


class PaperDriver:
    """Shows the paper broker one bar per trade, an hour apart."""

    def __init__(self, broker: PaperBroker, account: str) -> None:
        self.broker, self.account = broker, account
        self.clock = datetime(2025, 1, 15, tzinfo=UTC)

    async def trade_at(self, price: float) -> None:
        self.clock += timedelta(hours=1)
        await self.broker.on_bar(self.account, ASSET, Bar(self.clock, price, price, price, price))


@pytest.fixture(params=["memory", "mongo"])
async def venue(request, mongo_url):
    client = None
    if request.param == "mongo":
        client = AsyncMongoClient(mongo_url, tz_aware=True)
        broker = PaperBroker(store=MongoPaperStore(client, unique_db()))
    else:
        broker = PaperBroker()
    account = "6b0000000000000000000001"
    venue = Venue(broker, PaperDriver(broker, account), account)

    async def collect(report) -> None:
        venue.reports.append(report)

    broker.set_listener(collect)
    await broker.connect()
    yield venue
    await broker.disconnect()
    if client is not None:
        await client.close()


class TestPaperBroker(BrokerContract):
    pass
