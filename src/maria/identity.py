"""Who is calling, in the terms every layer shares: framework-free and domain-free.

``Identity`` is what a verified access token says (made by ``auth``, put in the request's
scope by ``maria.http.identity``, read by every route and socket). ``Client`` is where a
request comes from, as sessions and rate limits care.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    session_id: str
    role: str
    expires_at: int  # unix seconds: the access token's ``exp``

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class Client:
    ip: str
    user_agent: str | None
