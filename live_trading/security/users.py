"""Users of the API and their roles.

Roles are ranked: ``viewer`` reads; ``trader`` also creates, changes, pauses
and closes operations and positions and triggers trading cycles; ``admin``
also manages brokers and users. Passwords are hashed with Argon2id through
pwdlib; the hash is all that is stored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, Indexed
from pwdlib import PasswordHash
from pymongo.errors import DuplicateKeyError

from live_trading.domain.values import utc_now


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHash.recommended()  # Argon2id


def role_allows(role: Role | str, needed: Role) -> bool:
    """True when ``role`` is ``needed`` or ranks above it."""
    return ROLE_RANK[Role(role)] >= ROLE_RANK[needed]


class UserExistsError(ValueError):
    """A user with this username exists already."""


class User(Document):
    """A user: ``username`` is unique; ``password_hash`` is Argon2id."""

    username: Indexed(str, unique=True)  # type: ignore[valid-type]
    password_hash: str
    role: Role
    disabled: bool = False
    created_at: datetime

    class Settings:
        name = "users"


async def create_user(username: str, password: str, role: Role) -> User:
    """Create a user.

    Raises:
        ValueError: the username is empty or the password shorter than 8.
        UserExistsError: the username is taken.
    """
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(username=username, password_hash=_hasher.hash(password), role=Role(role),
                created_at=utc_now())
    try:
        await user.insert()
    except DuplicateKeyError:
        raise UserExistsError(f"user {username!r} exists already") from None
    return user


async def authenticate(username: str, password: str) -> User | None:
    """The enabled user with these credentials, or None."""
    user = await User.find_one(User.username == username)
    if user is None:
        _hasher.hash(password)  # same work whether or not the user exists
        return None
    if user.disabled or not _hasher.verify(password, user.password_hash):
        return None
    return user
