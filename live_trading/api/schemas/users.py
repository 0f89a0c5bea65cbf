"""Logging in, the current user, and users (never a password or its hash)."""

from __future__ import annotations

from live_trading.security import Role

from .base import IsoTime, OutModel


class TokenOut(OutModel):
    """A bearer token: send ``Authorization: Bearer <access_token>``; it
    expires after ``expires_in`` seconds."""

    access_token: str
    token_type: str
    role: Role
    expires_in: int


class MeOut(OutModel):
    """The user a token stands for."""

    username: str
    role: Role


class UserOut(OutModel):
    """A user of the API; a disabled one can neither log in nor use a token."""

    username: str
    role: Role
    disabled: bool
    created_at: IsoTime
