"""Log in (OAuth2 password flow) and see who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from live_trading.api.auth import Viewer
from live_trading.api.deps import ServicesDep
from live_trading.api.ratelimit import limit_login
from live_trading.api.schemas import MeOut, TokenOut
from live_trading.security import authenticate, issue_token

router = APIRouter(tags=["auth"])


@router.post("/api/auth/token", dependencies=[Depends(limit_login)])
async def login(
    services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """Exchange a username and password for a bearer token (``access_token``,
    valid ``ACCESS_TOKEN_EXPIRE_MINUTES``). 401 on wrong credentials; 429
    (with ``Retry-After``) past ``RATE_LIMIT_LOGIN`` attempts per client address."""
    user = await authenticate(form.username, form.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    settings = services.settings
    token = issue_token(
        settings.signing_key(), user.username, user.role, settings.access_token_expire_minutes
    )
    return TokenOut(
        access_token=token,
        token_type="bearer",
        role=user.role,
        expires_in=settings.access_token_expire_minutes * 60,
    )


@router.get("/api/auth/me")
async def me(user: Viewer) -> MeOut:
    """The user the token stands for and their role."""
    return MeOut(username=user.username, role=user.role)
