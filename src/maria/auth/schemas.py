"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maria import examples as ex
from maria.auth.devices import MAX_TOKEN_LENGTH
from maria.fields import DisplayName, Email, NewPassword, PlainText
from maria.users.schemas import UserOut

Password = Field(min_length=1, max_length=1024)  # what signing in takes: any old password
DEVICE_TOKEN_IN = (
    "The `device_token` of an earlier sign-in to this account (browsers send the "
    "`maria_device` cookie instead): the client is then a known device, which the account's "
    "lock never refuses. A wrong, forged or other account's token only makes the client "
    "unknown."
)
DEVICE_TOKEN_OUT = (
    "Keep it and send it with the next login to this account (`device_token`); also set as "
    "the `maria_device` cookie. Null on a refresh."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": ex.EMAIL, "password": ex.PASSWORD, "display_name": ex.NAME}]
        }
    )

    email: Email
    password: str = NewPassword
    display_name: DisplayName


class LoginIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": ex.EMAIL, "password": ex.PASSWORD},
                {"email": ex.EMAIL, "password": ex.PASSWORD, "device_token": ex.DEVICE_TOKEN},
            ]
        }
    )

    email: PlainText = Field(min_length=1, max_length=320)
    password: str = Password
    device_token: str | None = Field(
        default=None, min_length=1, max_length=MAX_TOKEN_LENGTH, description=DEVICE_TOKEN_IN
    )


class RefreshIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": ex.REFRESH_TOKEN}]})

    refresh_token: str | None = Field(default=None, min_length=1, max_length=512)


class LogoutIn(Strict):
    """`local`: this session; `others`: every other one; `global`: all of them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"scope": "others"}]})

    scope: Literal["local", "others", "global"] = "local"


class SessionOut(BaseModel):
    """The contract's ``Session``: a signed-in user and their token pair."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": ex.ACCESS_TOKEN,
                    "token_type": "bearer",
                    "expires_in": 900,
                    "expires_at": ex.EXPIRES_AT,
                    "refresh_token": ex.REFRESH_TOKEN,
                    "user": ex.USER,
                    "device_token": ex.DEVICE_TOKEN,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    expires_at: int = Field(description="Unix time (seconds) at which the access token expires")
    refresh_token: str
    user: UserOut
    device_token: str | None = Field(default=None, description=DEVICE_TOKEN_OUT)


class TokenOut(BaseModel):
    """OAuth2 password-grant answer (used by Swagger UI's Authorize button)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": ex.ACCESS_TOKEN,
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": ex.REFRESH_TOKEN,
                    "device_token": ex.DEVICE_TOKEN,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    device_token: str | None = Field(default=None, description=DEVICE_TOKEN_OUT)


class DeviceSessionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": ex.SESSION_ID,
                    "created_at": ex.CREATED_AT,
                    "last_used_at": ex.LATER,
                    "user_agent": ex.USER_AGENT,
                    "ip": ex.IP,
                    "current": True,
                }
            ]
        }
    )

    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool


class EmailIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": ex.EMAIL}]})

    email: Email


class TokenIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"token": ex.LINK_TOKEN}]})

    token: str = Field(min_length=1, max_length=256)


class ResetIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": ex.LINK_TOKEN, "new_password": ex.NEW_PASSWORD}]}
    )

    token: str = Field(min_length=1, max_length=256)
    new_password: str = NewPassword


class CodeIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": ex.EMAIL, "code": ex.CODE}]}
    )

    email: Email
    code: str = Field(pattern=r"^[0-9]{6}$", description="The six digits from the mail")
