"""Rate limits of the API, kept by the ``limits`` library (moving window, in memory).

Two limits, both read from the settings:

* ``RATE_LIMIT_LOGIN`` (e.g. ``"10/minute"``) per client address on
  ``POST /api/auth/token``, right or wrong password alike;
* ``RATE_LIMIT_MUTATIONS`` per user on every POST, PUT, PATCH and DELETE
  made with a valid token. The role dependencies of :mod:`live_trading.api.auth`
  apply it, so every route that declares ``Viewer``, ``Trader`` or ``Admin`` is
  covered without more code.

``RATE_LIMIT_ENABLED=false`` turns both off. A call over a limit is answered
429 with ``Retry-After`` (whole seconds until a slot frees up). The counters
live in the process: they restart with it and are not shared between
processes.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RateLimiter:
    """The login and mutation limits of one app.

    Raises:
        ValueError: (constructor) a limit is not in ``limits`` syntax, e.g.
            ``"10/minute"`` or ``"3 per 5 seconds"``.
    """

    def __init__(self, settings) -> None:
        self.enabled: bool = settings.rate_limit_enabled
        self.login = _parse("RATE_LIMIT_LOGIN", settings.rate_limit_login)
        self.mutations = _parse("RATE_LIMIT_MUTATIONS", settings.rate_limit_mutations)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check_login(self, client: str) -> None:
        """Count a login attempt from ``client`` (an address). Raises 429 over the limit."""
        await self._hit(self.login, "login", client, "login attempts from this address")

    async def check_mutation(self, username: str) -> None:
        """Count a mutating call by ``username``. Raises 429 over the limit."""
        await self._hit(self.mutations, "mutation", username, "changes by this user")

    async def _hit(self, item: RateLimitItem, scope: str, key: str, what: str) -> None:
        if not self.enabled or await self._limiter.hit(item, scope, key):
            return
        stats = await self._limiter.get_window_stats(item, scope, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit exceeded: at most {item.amount} {what} per "
                   f"{_window(item)}; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)})


def _parse(name: str, value: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a rate limit such as '10/minute' "
                         "or '3 per 5 seconds'") from None


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


def rate_limiter(request: Request) -> RateLimiter:
    """The app's limiter (made by ``create_app``; built from the settings on
    first use when the app was assembled some other way)."""
    state = request.app.state
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = state.rate_limiter = RateLimiter(state.services.settings)
    return limiter


async def limit_login(request: Request) -> None:
    """Dependency of the login route: RATE_LIMIT_LOGIN per client address."""
    client = request.client.host if request.client else "unknown"
    await rate_limiter(request).check_login(client)


async def limit_mutation(request: Request, username: str) -> None:
    """RATE_LIMIT_MUTATIONS per user, for POST/PUT/PATCH/DELETE only."""
    if request.method not in SAFE_METHODS:
        await rate_limiter(request).check_mutation(username)
