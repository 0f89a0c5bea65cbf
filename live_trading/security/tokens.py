"""JWT access tokens (HS256, PyJWT): ``sub`` is the username, ``role`` the role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from live_trading.domain.values import utc_now

from .users import Role

ALGORITHM = "HS256"


class InvalidTokenError(ValueError):
    """The token is malformed, badly signed or expired."""


@dataclass(frozen=True)
class TokenClaims:
    username: str
    role: Role


def issue_token(secret: str, username: str, role: Role, minutes: int) -> str:
    """A signed token for ``username`` valid for ``minutes``."""
    now = utc_now()
    claims = {
        "sub": username,
        "role": str(role),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> TokenClaims:
    """The claims of a valid token.

    Raises:
        InvalidTokenError: malformed, wrong signature, expired, or no sub/role.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
        return TokenClaims(username=str(claims["sub"]), role=Role(claims["role"]))
    except (jwt.PyJWTError, KeyError, ValueError) as error:
        raise InvalidTokenError(str(error) or "invalid token") from None
