"""When the FX market trades, and when a bar feed is late.

Spot FX trades around the clock from Sunday 22:00 UTC to Friday 22:00 UTC
(the New York close; the exact minute moves with daylight saving time and
varies by venue by up to an hour, which the grace of :func:`feed_stale`
absorbs). Holidays are not modelled. Times are aware UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FRIDAY, WEEK = 4, timedelta(days=7)
CLOSE_HOUR = 22  # Friday 22:00 UTC: closes; Sunday 22:00 UTC: opens
CLOSED_FOR = timedelta(days=2)


def _week_close(at: datetime) -> datetime:
    """The Friday 22:00 UTC at or before ``at``."""
    friday = at.replace(hour=CLOSE_HOUR, minute=0, second=0, microsecond=0) - timedelta(
        days=(at.weekday() - FRIDAY) % 7
    )
    return friday if friday <= at else friday - WEEK


def fx_trades(at: datetime) -> bool:
    """True when spot FX trades at ``at``."""
    return at >= _week_close(at) + CLOSED_FOR


def trading_seconds(start: datetime, end: datetime) -> float:
    """Seconds of [``start``, ``end``) during which FX trades (0 if end <= start)."""
    if end <= start:
        return 0.0
    total = (end - start).total_seconds()
    close = _week_close(start)
    while close < end:
        reopen = close + CLOSED_FOR
        overlap = min(reopen, end) - max(close, start)
        total -= max(0.0, overlap.total_seconds())
        close += WEEK
    return total


def feed_stale(
    last_seen: datetime, now: datetime, bar_seconds: float, grace_seconds: float
) -> bool:
    """True when no bar has come for more than twice ``bar_seconds`` plus
    ``grace_seconds`` of trading time since ``last_seen`` (the close of the
    last bar, or when the feed started)."""
    return fx_trades(now) and trading_seconds(last_seen, now) > 2 * bar_seconds + grace_seconds
