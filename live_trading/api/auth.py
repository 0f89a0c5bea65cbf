"""Authentication and role checks for the routers.

Every route declares the least role it needs through one of the
``Annotated`` aliases below (``Viewer``, ``Trader``, ``Admin``); the value is
the :class:`CurrentUser` making the call, whose ``username`` goes into each
journal entry the call makes. A missing or invalid token is answered 401 with
``WWW-Authenticate: Bearer``; a role too weak for the route, 403. On POST,
PUT, PATCH and DELETE the same dependencies also count the call against the
user's ``RATE_LIMIT_MUTATIONS`` (429 over it, see :mod:`live_trading.api.ratelimit`).

Unauthenticated on purpose: ``/health``, ``/metrics``, ``GET /api/v1/mode``,
``POST /api/auth/token`` and the OpenAPI pages.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Protocol, cast

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from live_trading.security import InvalidTokenError, Role, User, read_token, role_allows

from .ratelimit import limit_mutation

TOKEN_URL = "/api/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


@dataclass(frozen=True)
class CurrentUser:
    username: str
    role: Role


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def user_from_token(settings, token: str | None) -> CurrentUser:
    """The enabled user a bearer token stands for, with the role stored now
    (a role changed or a user disabled takes effect at once).

    Raises:
        HTTPException: 401 when the token is missing, invalid or expired, or
            its user no longer exists or is disabled.
    """
    if not token:
        raise _unauthorized("not authenticated: send a bearer token (POST /api/auth/token)")
    try:
        claims = read_token(settings.signing_key(), token)
    except InvalidTokenError as error:
        raise _unauthorized(f"invalid token: {error}") from None
    user = await User.find_one(User.username == claims.username)
    if user is None or user.disabled:
        raise _unauthorized("invalid token: the user does not exist or is disabled")
    return CurrentUser(user.username, user.role)


class RoleDependency(Protocol):
    """A dependency :func:`require` made: ``required_role`` names its role."""

    required_role: Role

    def __call__(self, request: Request, token: str | None) -> Awaitable[CurrentUser]: ...


def require(role: Role) -> RoleDependency:
    """A dependency that admits users of ``role`` or above (401 without a
    valid token, 403 below ``role``) and rate-limits their mutating calls
    (429). ``required_role`` on the returned function names ``role``."""

    async def dependency(
        request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> CurrentUser:
        user = await user_from_token(request.app.state.services.settings, token)
        if not role_allows(user.role, role):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"this needs the {role} role (you are {user.role})",
            )
        await limit_mutation(request, user.username)
        request.state.user = user
        return user

    marked = cast(RoleDependency, dependency)  # a function may carry attributes
    marked.required_role = role
    return marked


Viewer = Annotated[CurrentUser, Depends(require(Role.VIEWER))]
Trader = Annotated[CurrentUser, Depends(require(Role.TRADER))]
Admin = Annotated[CurrentUser, Depends(require(Role.ADMIN))]
