"""The MarketData port of the IB adapter against the fake TWS: quotes,
history, real-time bars (aggregated, renewed after a reconnect); pacing
violations retried then raised, permissions raised, never an empty list;
errors on bar subscriptions surfaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from live_trading.brokers.ibkr.market_data import HistoryUnavailable
from live_trading.domain.values import BarSize
from live_trading.engine.ports import ConnectionState
from tests.fakes.tws_server import FakeTWS
from tests.fakes.tws_session import make_broker, wait_for

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2025, 1, 15, 10, tzinfo=UTC)
PACING = (
    162,
    (
        "Historical Market Data Service error message:API historical data query "
        "cancelled: pacing violation"
    ),
)
PACING_420 = (420, "Invalid Real-time Query:Historical data request pacing violation")
NO_PERMISSION = (354, "Requested market data is not subscribed.")
NO_DATA = (162, "Historical Market Data Service error message:HMDS query returned no data")


@pytest.fixture
async def session():
    fake = FakeTWS()
    await fake.start()
    fake.history["1 hour"] = [(T0 + timedelta(hours=i), 1.36, 1.37, 1.35, 1.365) for i in range(3)]
    session = make_broker(fake, pacing_retries=2)
    await session.broker.connect()
    yield session
    await session.broker.disconnect()
    await fake.stop()


async def history(session):
    return await session.broker.get_historical_data(
        "USD-CAD", BarSize.HOUR_1, T0, T0 + timedelta(hours=3)
    )


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
    session.broker.on_bar_error = lambda asset, size, reason: errors.append((asset, size, reason))
    session.fake.adversary.bar_error = NO_PERMISSION

    async def on_bar(*_args) -> None:
        pass

    await session.broker.subscribe_bars("USD-CAD", BarSize.MIN_1, on_bar)
    await wait_for(lambda: errors)
    assert errors == [("USD-CAD", BarSize.MIN_1, "IB 354: " + NO_PERMISSION[1])]
    assert session.broker.bar_errors == {("USD-CAD", BarSize.MIN_1): errors[0][2]}


@pytest.fixture
async def setup(session):
    """(fake, broker, reports, events) as the older tests take them."""
    return session.fake, session.broker, session.reports, session.events


async def test_market_quote_is_a_snapshot_of_bid_and_ask(setup):
    fake, broker, _reports, _ = setup
    from live_trading.engine.ports import MarketData

    assert isinstance(broker, MarketData)
    fake.trade_at(1.3800)
    quote = await broker.get_market_quote("USD-CAD")
    assert quote.asset == "USD-CAD"
    assert quote.bid == pytest.approx(1.3799) and quote.ask == pytest.approx(1.3801)
    assert quote.mid == pytest.approx(1.38) and quote.time.utcoffset().total_seconds() == 0
    assert fake.quote_subs == [] and fake.unhandled == []  # a snapshot, nothing left open


async def test_historical_data_midpoint_bars_in_utc(setup):
    from datetime import UTC, datetime, timedelta

    from live_trading.domain.values import BarSize

    fake, broker, _reports, _ = setup
    t0 = datetime(2025, 1, 15, 10, tzinfo=UTC)
    fake.history["1 hour"] = [
        (
            t0 + timedelta(hours=i),
            1.36 + i / 1000,
            1.37 + i / 1000,
            1.35 + i / 1000,
            1.365 + i / 1000,
        )
        for i in range(-2, 6)
    ]
    bars = await broker.get_historical_data("USD-CAD", BarSize.HOUR_1, t0, t0 + timedelta(hours=3))
    assert [b.time for b in bars] == [t0, t0 + timedelta(hours=1), t0 + timedelta(hours=2)]
    assert all(b.time.tzinfo is not None and b.time.utcoffset() == timedelta(0) for b in bars)
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (
        1.36,
        1.37,
        1.35,
        1.365,
        0.0,
    )
    [request] = fake.history_requests
    assert request == {
        "end": "20250115 13:00:00 UTC",
        "bar_size": "1 hour",
        "duration": "10800 S",
        "use_rth": "0",
        "what": "MIDPOINT",
        "format_date": "2",
    }
    fake.history["1 day"] = [
        (datetime(2025, 1, d, tzinfo=UTC), 1.3, 1.4, 1.2, 1.35) for d in range(1, 10)
    ]
    days = await broker.get_historical_data(
        "USD-CAD", BarSize.DAY_1, datetime(2025, 1, 3, tzinfo=UTC), datetime(2025, 1, 6, tzinfo=UTC)
    )
    assert [b.time.day for b in days] == [3, 4, 5] and fake.history_requests[-1][
        "duration"
    ] == "3 D"


async def test_subscribe_bars_aggregates_realtime_bars_and_survives_reconnect(setup):
    from datetime import UTC, datetime, timedelta

    from live_trading.domain.values import BarSize

    fake, broker, _reports, _ = setup
    got: list = []

    async def on_bar(asset, size, bar) -> None:
        got.append((asset, size, bar))

    await broker.subscribe_bars("USD-CAD", BarSize.MIN_1, on_bar)
    await wait_for(lambda: len(fake.bar_subs) == 1)
    t0 = datetime(2025, 1, 15, 10, tzinfo=UTC)

    def push(start: datetime, count: int, base: float) -> None:
        for i in range(count):
            p = base + i / 10_000
            fake.realtime_bar(
                start + timedelta(seconds=5 * i), p, p + 0.0005, p - 0.0005, p + 0.0001
            )

    push(t0, 12, 1.3600)  # the 10:00 minute
    push(t0 + timedelta(minutes=1), 1, 1.3700)  # first 5 s of 10:01 closes 10:00
    await wait_for(lambda: len(got) == 1)
    asset, size, bar = got[0]
    assert (asset, size, bar.time) == ("USD-CAD", BarSize.MIN_1, t0)
    assert bar.open == pytest.approx(1.36) and bar.close == pytest.approx(1.3612)
    assert bar.high == pytest.approx(1.3616) and bar.low == pytest.approx(1.3595)
    await fake.restart(roll_back_ids=False)
    await wait_for(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    await wait_for(lambda: broker.connection_state is ConnectionState.CONNECTED)
    await wait_for(lambda: len(fake.bar_subs) == 1)  # asked again after the reconnect
    push(t0 + timedelta(minutes=1, seconds=5), 11, 1.3700)
    push(t0 + timedelta(minutes=2), 1, 1.3800)
    await wait_for(lambda: len(got) == 2)
    assert got[1][2].time == t0 + timedelta(minutes=1)
    assert got[1][2].open == pytest.approx(1.37)
    await broker.unsubscribe_bars("USD-CAD", BarSize.MIN_1)
    await wait_for(lambda: fake.bar_subs == [])
    assert fake.unhandled == []
