"""Request and response bodies of the users endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from maria import examples as ex
from maria.fields import DisplayName, NewPassword
from maria.users.views import UserView

CODE_PATTERN = r"^[0-9]{6}$"


class UserOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.USER]})

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
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"display_name": "Anna K."}]}
    )

    display_name: DisplayName | None = None


class PasswordChange(BaseModel):
    """``current_password`` may be left out by an account that has none yet (made by a
    sign-in code)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"current_password": ex.PASSWORD, "new_password": ex.NEW_PASSWORD}]
        },
    )

    current_password: str | None = Field(default=None, min_length=1, max_length=1024)
    new_password: str = NewPassword


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("leave it out instead of sending null")
    return value


class AccountDeletion(BaseModel):
    """The password, or (an account without one) a fresh sign-in code mailed to it: one of
    the two is required; which one the account takes is its own (the other is a 401)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["password"]}, {"required": ["code"]}],
            "examples": [{"password": ex.PASSWORD}, {"code": ex.CODE}],
        },
    )

    password: Annotated[
        str | None,
        BeforeValidator(_not_null),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 1024}),
    ] = Field(default=None, min_length=1, max_length=1024)
    code: Annotated[
        str | None,
        BeforeValidator(_not_null),
        WithJsonSchema({"type": "string", "pattern": CODE_PATTERN}),
    ] = Field(default=None, pattern=CODE_PATTERN)

    @model_validator(mode="after")
    def _one_proof(self) -> AccountDeletion:
        if self.password is None and self.code is None:
            raise ValueError("send your password, or a sign-in code for an account without one")
        return self
