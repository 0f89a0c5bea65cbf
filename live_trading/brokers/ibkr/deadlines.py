"""Deadlines on awaited ib_async calls.

ib_async ignores ``IB.RequestTimeout`` for its ``*Async`` methods: a request
TWS never answers waits for ever. Every awaited call of this package goes
through :func:`within`, which raises :class:`~live_trading.engine.ports.BrokerTimeout`
naming the call, and counts it per call name.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from typing import TypeVar

from live_trading.engine.ports import BrokerTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

TIMEOUTS: Counter[str] = Counter()
"""Broker calls that hit their deadline, per call name (all IB adapters of
the process); read by metrics and tests."""


async def within(call: str, awaitable: Awaitable[T], deadline_s: float) -> T:
    """The result of ``awaitable``, or ``BrokerTimeout(call, deadline_s)``
    if it has not completed within ``deadline_s`` seconds (the awaitable is
    cancelled)."""
    try:
        return await asyncio.wait_for(awaitable, deadline_s)
    except TimeoutError as error:
        TIMEOUTS[call] += 1
        log.warning("IB call %s got no answer within %g s", call, deadline_s)
        raise BrokerTimeout(call, deadline_s) from error
