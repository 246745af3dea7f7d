"""Talking to Maria's HTTP API as a client does, and checking its answers."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

TEST_SECRET = "test-secret-" + "k" * 40
PASSWORD = "correct horse battery staple"
ME = "/api/v1/users/me"


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    """Register a fresh user and return the Session body."""
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    body = {
        "email": email,
        "password": password,
        "display_name": extra.pop("display_name", "Tester"),
    }
    response = await client.post("/api/v1/auth/register", json=body, **extra)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape, with the expected status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body
