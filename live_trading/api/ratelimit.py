"""Rate limits of the API, kept by the ``limits`` library (moving window, in memory).

Three limits, read from the settings:

* ``RATE_LIMIT_LOGIN`` (e.g. ``"20/minute"``) per client address and
  ``RATE_LIMIT_LOGIN_USER`` (e.g. ``"5/minute"``) per (username, client
  address) on ``POST /api/auth/token``, right or wrong password alike. The
  small per-user bucket stops guessing one user's password; the larger
  per-client bucket stops spraying many usernames. There is no lock-out of
  a user as such: someone guessing from one address blocks that user only
  from that address, and only until the window moves on;
* ``RATE_LIMIT_MUTATIONS`` per user on every POST, PUT, PATCH and DELETE
  made with a valid token. The role dependencies of :mod:`live_trading.api.auth`
  apply it, so every route that declares ``Viewer``, ``Trader`` or ``Admin`` is
  covered without more code.

The client address is the peer of the connection, or, when that peer is
one of ``TRUSTED_PROXIES``, the address the proxy put in
``X-Forwarded-For`` (:mod:`live_trading.api.proxy`): a client cannot pick
its own bucket by sending that header.

``RATE_LIMIT_ENABLED=false`` turns them off. A call over a limit is answered
429 with ``Retry-After`` (whole seconds until a slot frees up). The counters
live in the process: they restart with it and are not shared between
processes.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_KEY = 128  # characters of a username kept in a bucket's key


class RateLimiter:
    """The login and mutation limits of one app.

    Raises:
        ValueError: (constructor) a limit is not in ``limits`` syntax, e.g.
            ``"10/minute"`` or ``"3 per 5 seconds"``.
    """

    def __init__(self, settings) -> None:
        self.enabled: bool = settings.rate_limit_enabled
        self.login = _parse("RATE_LIMIT_LOGIN", settings.rate_limit_login)
        self.login_user = _parse("RATE_LIMIT_LOGIN_USER", settings.rate_limit_login_user)
        self.mutations = _parse("RATE_LIMIT_MUTATIONS", settings.rate_limit_mutations)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check_login(self, client: str, username: str) -> None:
        """Count a login attempt as ``username`` from ``client`` (an address).
        Raises 429 over either limit (the per-user one is not counted when
        the per-client one refuses)."""
        await self._hit(self.login, "login", client, "login attempts from this address")
        await self._hit(
            self.login_user,
            "login-user",
            f"{client}|{username[:MAX_KEY]}",
            "login attempts as this user from this address",
        )

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
            headers={"Retry-After": str(retry_after)},
        )


def _parse(name: str, value: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError:
        raise ValueError(
            f"{name}={value!r} is not a rate limit such as '10/minute' or '3 per 5 seconds'"
        ) from None


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


async def limit_login(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> None:
    """Dependency of the login route: RATE_LIMIT_LOGIN per client address and
    RATE_LIMIT_LOGIN_USER per (username, client address). The form is the
    route's own (FastAPI parses it once)."""
    client = request.client.host if request.client else "unknown"
    await rate_limiter(request).check_login(client, form.username.strip())


async def limit_mutation(request: Request, username: str) -> None:
    """RATE_LIMIT_MUTATIONS per user, for POST/PUT/PATCH/DELETE only."""
    if request.method not in SAFE_METHODS:
        await rate_limiter(request).check_mutation(username)
