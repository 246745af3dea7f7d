"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maria.fields import DisplayName, Email, NewPassword, PlainText
from maria.users.schemas import UserOut

Password = Field(min_length=1, max_length=1024)  # what signing in takes: any old password


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    email: Email
    password: str = NewPassword
    display_name: DisplayName


class LoginIn(Strict):
    email: PlainText = Field(min_length=1, max_length=320)
    password: str = Password


class RefreshIn(Strict):
    refresh_token: str | None = Field(default=None, min_length=1, max_length=512)


class LogoutIn(Strict):
    scope: Literal["local", "others", "global"] = "local"


class SessionOut(BaseModel):
    """The contract's ``Session``: a signed-in user and their token pair."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    expires_at: int = Field(description="Unix time (seconds) at which the access token expires")
    refresh_token: str
    user: UserOut


class TokenOut(BaseModel):
    """OAuth2 password-grant answer (used by Swagger UI's Authorize button)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class DeviceSessionOut(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool


class EmailIn(Strict):
    email: Email


class TokenIn(Strict):
    token: str = Field(min_length=1, max_length=256)


class ResetIn(Strict):
    token: str = Field(min_length=1, max_length=256)
    new_password: str = NewPassword


class CodeIn(Strict):
    email: Email
    code: str = Field(pattern=r"^[0-9]{6}$", description="The six digits from the mail")
