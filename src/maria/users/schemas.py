"""Request and response bodies of the users endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maria.fields import DisplayName
from maria.users.views import UserView


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    avatar_url: str | None
    role: Literal["user", "admin"]
    email_verified: bool
    created_at: datetime

    @classmethod
    def of(cls, user: UserView) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            role=user.role,
            email_verified=user.email_verified,
            created_at=user.created_at,
        )


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None


Password = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    """``current_password`` may be left out by an account that has none yet (made by a
    sign-in code)."""

    model_config = ConfigDict(extra="forbid")

    current_password: str | None = Field(default=None, min_length=1, max_length=1024)
    new_password: str = Password


class AccountDeletion(BaseModel):
    """The password, or (an account without one) a fresh sign-in code mailed to it."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=1, max_length=1024)
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
