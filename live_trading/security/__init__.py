"""Users, roles, password hashing and JWT access tokens."""

from .tokens import InvalidTokenError, issue_token, read_token
from .users import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ROLE_RANK,
    USERNAME_PATTERN,
    InvalidUserError,
    LastAdminError,
    Role,
    User,
    UserExistsError,
    UserNotFoundError,
    authenticate,
    create_user,
    list_users,
    role_allows,
    update_user,
)

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLE_RANK",
    "USERNAME_PATTERN",
    "InvalidTokenError",
    "InvalidUserError",
    "LastAdminError",
    "Role",
    "User",
    "UserExistsError",
    "UserNotFoundError",
    "authenticate",
    "create_user",
    "issue_token",
    "list_users",
    "read_token",
    "role_allows",
    "update_user",
]
