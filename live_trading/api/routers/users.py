"""Users of the API (admin only): list, create, change role, disable.

Password hashes are never returned. A user who is disabled, or whose role
changes, is affected at once: every call re-reads the user behind the token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from live_trading.api.auth import Admin
from live_trading.api.schemas import UserOut
from live_trading.engine.specs import InvalidSpecError
from live_trading.security import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    InvalidUserError,
    LastAdminError,
    Role,
    UserExistsError,
    UserNotFoundError,
    create_user,
    list_users,
    update_user,
)

router = APIRouter(prefix="/api/users", tags=["users"])

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]


class UserCreate(BaseModel):
    """A new user: a login name, a password of 8 to 1024 characters, a role."""

    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="1-64 letters, digits or _.@-")
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    role: Role = Role.VIEWER


class UserUpdate(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = Field(
        None, strict=True, description="true: no login, tokens stop working"
    )


@router.get("")
async def get_users(user: Admin) -> list[UserOut]:
    """Every user: username, role, disabled, created_at (no password hashes)."""
    return [UserOut.model_validate(u.public()) for u in await list_users()]


@router.post("", status_code=status.HTTP_201_CREATED)
async def post_user(body: UserCreate, user: Admin) -> UserOut:
    """Create a user. 422 naming the field on bad input, 409 if the name is taken."""
    try:
        created = await create_user(body.username, body.password, body.role)
    except InvalidUserError as error:
        raise InvalidSpecError(error.field, error.message) from None
    except UserExistsError as error:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=str(error)) from None
    return UserOut.model_validate(created.public())


@router.patch("/{username}")
async def patch_user(username: str, body: UserUpdate, user: Admin) -> UserOut:
    """Change a user's role and/or disable or enable them. 404 for an unknown
    user; 409 when the change would leave no enabled admin."""
    try:
        changed = await update_user(username, role=body.role, disabled=body.disabled)
    except UserNotFoundError as error:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    except LastAdminError as error:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=str(error)) from None
    return UserOut.model_validate(changed.public())
