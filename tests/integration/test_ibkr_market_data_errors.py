"""History and real-time bar errors through the IB adapter: pacing
violations retried then raised, permissions raised, never an empty list;
errors on bar subscriptions surfaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from live_trading.brokers.ibkr.market_data import HistoryUnavailable
from live_trading.domain.values import BarSize
from tests.fakes.tws_server import FakeTWS
from tests.fakes.tws_session import make_broker, wait_for

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2025, 1, 15, 10, tzinfo=UTC)
PACING = (162, ("Historical Market Data Service error message:API historical data query "
                "cancelled: pacing violation"))
PACING_420 = (420, "Invalid Real-time Query:Historical data request pacing violation")
NO_PERMISSION = (354, "Requested market data is not subscribed.")
NO_DATA = (162, "Historical Market Data Service error message:HMDS query returned no data")


@pytest.fixture
async def session():
    fake = FakeTWS()
    await fake.start()
    fake.history["1 hour"] = [(T0 + timedelta(hours=i), 1.36, 1.37, 1.35, 1.365)
                              for i in range(3)]
    session = make_broker(fake, pacing_retries=2)
    await session.broker.connect()
    yield session
    await session.broker.disconnect()
    await fake.stop()


async def history(session):
    return await session.broker.get_historical_data("USD-CAD", BarSize.HOUR_1, T0,
                                                    T0 + timedelta(hours=3))


async def test_pacing_violations_are_retried_within_the_limit(session):
    session.fake.adversary.history_refusals = [PACING, PACING_420]
    bars = await history(session)
    assert len(bars) == 3 and len(session.fake.history_requests) == 3


async def test_pacing_beyond_the_retries_is_an_error_not_an_empty_list(session):
    session.fake.adversary.history_refusals = [PACING] * 3
    with pytest.raises(HistoryUnavailable, match="pacing") as raised:
        await history(session)
    assert raised.value.code == 162 and len(session.fake.history_requests) == 3


async def test_missing_permissions_are_raised_at_once(session):
    session.fake.adversary.history_refusals = [NO_PERMISSION]
    with pytest.raises(HistoryUnavailable) as raised:
        await history(session)
    assert raised.value.code == 354 and len(session.fake.history_requests) == 1


async def test_no_data_is_an_empty_list(session):
    session.fake.adversary.history_refusals = [NO_DATA]
    assert await history(session) == []


async def test_a_bar_subscription_error_is_surfaced(session):
    errors = []
    session.broker.on_bar_error = lambda asset, size, reason: errors.append((asset, size,
                                                                             reason))
    session.fake.adversary.bar_error = NO_PERMISSION

    async def on_bar(*_args) -> None:
        pass

    await session.broker.subscribe_bars("USD-CAD", BarSize.MIN_1, on_bar)
    await wait_for(lambda: errors)
    assert errors == [("USD-CAD", BarSize.MIN_1, "IB 354: " + NO_PERMISSION[1])]
    assert session.broker.bar_errors == {("USD-CAD", BarSize.MIN_1): errors[0][2]}
