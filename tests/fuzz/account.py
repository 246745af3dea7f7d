"""The fuzzer's account: signed in from its own loopback address, outside the fuzzer's view.

The failed logins and registrations the fuzzer makes from 127.0.0.1 spend that address's
limits, never this one's; and since the fuzzer logs out, ends sessions and could change a
password, the account signs in again whenever a token stops working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

ADDRESS = "127.0.0.2"


@dataclass(frozen=True)
class Account:
    base_url: str
    email: str
    password: str

    def _client(self) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=ADDRESS)
        return httpx.Client(base_url=self.base_url, transport=transport, timeout=30)

    def register(self) -> None:
        body = {"email": self.email, "password": self.password, "display_name": "Fuzz"}
        with self._client() as client:
            response = client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.text

    def sign_in(self) -> tuple[dict[str, Any], dict[str, str]]:
        """A new session: the ``Session`` body and the cookies the sign-in set."""
        with self._client() as client:
            response = client.post(
                "/api/v1/auth/login", json={"email": self.email, "password": self.password}
            )
        assert response.status_code == 200, f"{self.email} can't sign in: {response.text}"
        session: dict[str, Any] = response.json()
        return session, dict(response.cookies)

    def user_id(self) -> str:
        return str(self.sign_in()[0]["user"]["id"])
