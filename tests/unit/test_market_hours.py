"""FX trading hours and late bar feeds (domain/market_hours.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from live_trading.domain.market_hours import feed_stale, fx_trades, trading_seconds

FRI = datetime(2024, 5, 10, tzinfo=UTC)  # a Friday
HOUR = 3600.0


def test_the_weekend_is_closed_from_friday_to_sunday_22_utc() -> None:
    assert fx_trades(FRI.replace(hour=21, minute=59))
    assert not fx_trades(FRI.replace(hour=22))
    assert not fx_trades(FRI + timedelta(days=1, hours=12))
    assert not fx_trades(FRI + timedelta(days=2, hours=21, minutes=59))
    assert fx_trades(FRI + timedelta(days=2, hours=22))
    assert fx_trades(FRI - timedelta(days=3))


def test_trading_seconds_leave_out_the_weekend() -> None:
    start, end = FRI.replace(hour=21), FRI + timedelta(days=2, hours=23)
    assert trading_seconds(start, end) == 2 * HOUR
    assert trading_seconds(FRI, FRI + timedelta(hours=3)) == 3 * HOUR
    assert trading_seconds(start, start + timedelta(days=14)) == 10 * 24 * HOUR
    assert trading_seconds(end, start) == 0.0


def test_a_feed_is_stale_after_two_bars_and_the_grace_of_trading_time() -> None:
    last = FRI.replace(hour=10)
    assert not feed_stale(last, last + timedelta(minutes=130), HOUR, 600)
    assert feed_stale(last, last + timedelta(minutes=131), HOUR, 600)
    friday_close = FRI.replace(hour=21)
    sunday_open = FRI + timedelta(days=2, hours=22)
    assert not feed_stale(friday_close, sunday_open - timedelta(minutes=1), HOUR, 600)
    assert not feed_stale(friday_close, sunday_open + timedelta(minutes=30), HOUR, 600)
    assert feed_stale(friday_close, sunday_open + timedelta(minutes=71), HOUR, 600)
