"""Risk rules, as pure decisions on an operation's state.

* ``max_position_size``: an entry larger than the limit (units of the base
  asset) is refused.
* ``max_daily_loss``: once the net P/L of the positions closed on a UTC day
  reaches minus the limit (quote currency), the operation opens no new
  position for the rest of that day; exits still happen. The day is the
  market's: the UTC date of the fills and bars, so a replay of past data
  follows the calendar of the data.
"""

from __future__ import annotations

from datetime import datetime

from .projection import OperationState


def utc_day(moment: datetime) -> str:
    return moment.date().isoformat()


def daily_loss_breached(state: OperationState, limit: float | None) -> bool:
    """True when today's (``state.pnl_day``) closed P/L is at or below -limit."""
    return limit is not None and state.pnl_day is not None and state.pnl_today <= -limit


def entries_blocked(state: OperationState, day: str) -> bool:
    """True when max_daily_loss has fired for ``day``."""
    return state.entries_blocked_day == day


def position_too_large(quantity: float, limit: float | None) -> bool:
    return limit is not None and quantity > limit
