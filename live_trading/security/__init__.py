"""Users, roles, password hashing and JWT access tokens."""

from .tokens import InvalidTokenError, issue_token, read_token
from .users import (
    ROLE_RANK,
    Role,
    User,
    UserExistsError,
    authenticate,
    create_user,
    role_allows,
)

__all__ = ["ROLE_RANK", "InvalidTokenError", "Role", "User", "UserExistsError",
           "authenticate", "create_user", "issue_token", "read_token", "role_allows"]
