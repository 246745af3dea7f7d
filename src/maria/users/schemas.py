"""Request and response bodies of the users endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from maria.fields import NoControl
from maria.users.views import UserView

DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoControl
]


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
