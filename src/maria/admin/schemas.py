"""Request and response bodies of the admin endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from maria.users.schemas import UserOut
from maria.users.views import UserView


class AdminUserOut(UserOut):
    disabled: bool

    @classmethod
    def of(cls, user: UserView) -> AdminUserOut:
        return cls(**UserOut.of(user).model_dump(), disabled=user.disabled)


class AdminUserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "admin"] | None = None
    disabled: bool | None = None


class AdminUserPage(BaseModel):
    items: list[AdminUserOut]
    next_cursor: str | None
