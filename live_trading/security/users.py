"""Users of the API and their roles.

Roles are ranked: ``viewer`` reads; ``trader`` also creates, changes, pauses
and closes operations and positions and triggers trading cycles; ``admin``
also manages brokers and users. Passwords are hashed with Argon2id through
pwdlib; the hash is all that is stored.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

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
MAX_PASSWORD_LENGTH = 1024
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
_hasher = PasswordHash.recommended()  # Argon2id


def role_allows(role: Role | str, needed: Role) -> bool:
    """True when ``role`` is ``needed`` or ranks above it."""
    return ROLE_RANK[Role(role)] >= ROLE_RANK[needed]


class UserExistsError(ValueError):
    """A user with this username exists already."""


class InvalidUserError(ValueError):
    """A field of a new user is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UserNotFoundError(LookupError):
    """No user has this username."""


class LastAdminError(ValueError):
    """The change would leave no enabled admin."""


class User(Document):
    """A user: ``username`` is unique; ``password_hash`` is Argon2id."""

    username: Indexed(str, unique=True)  # type: ignore[valid-type]
    password_hash: str
    role: Role
    disabled: bool = False
    created_at: datetime

    class Settings:
        name = "users"

    def public(self) -> dict[str, Any]:
        """What the API shows of a user: never the password hash."""
        return {
            "username": self.username,
            "role": str(self.role),
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
        }


async def create_user(username: str, password: str, role: Role) -> User:
    """Create a user.

    Raises:
        InvalidUserError: (a ValueError) the username is not 1-64 letters,
            digits or ``_.@-`` starting with a letter or digit, or the
            password is shorter than 8 or longer than 1024 characters.
        UserExistsError: the username is taken.
    """
    username = username.strip()
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise InvalidUserError(
            "username", "must be 1-64 letters, digits or _.@- and start with a letter or digit"
        )
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidUserError(
            "password", f"must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=Role(role),
        created_at=utc_now(),
    )
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


async def list_users() -> list[User]:
    """Every user, by username."""
    return await User.find({}).sort("+username").to_list()


async def update_user(
    username: str, *, role: Role | None = None, disabled: bool | None = None
) -> User:
    """Change a user's role and/or disable (or enable) them; ``None`` leaves
    a field as it is. A disabled user can no longer log in, and tokens
    already issued stop working at once.

    Raises:
        UserNotFoundError: no user ``username``.
        LastAdminError: the change would leave no enabled admin.
    """
    user = await User.find_one(User.username == username)
    if user is None:
        raise UserNotFoundError(f"no user {username!r}")
    new_role = Role(role) if role is not None else user.role
    new_disabled = user.disabled if disabled is None else disabled
    was_admin = user.role is Role.ADMIN and not user.disabled
    if was_admin and (new_role is not Role.ADMIN or new_disabled):
        others = await User.find(
            {"role": str(Role.ADMIN), "disabled": False, "username": {"$ne": username}}
        ).count()
        if others == 0:
            raise LastAdminError(
                f"{username!r} is the last enabled admin: make another admin first"
            )
    user.role, user.disabled = new_role, new_disabled
    await user.save()
    return user
