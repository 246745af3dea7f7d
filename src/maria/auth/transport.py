"""How tokens travel: bearer header for API clients, HttpOnly cookies for browsers.

Kept apart from how tokens are made (``tokens``/``service``), as fastapi-users keeps
transports apart from strategies. Cookie-authenticated unsafe requests must echo the
readable ``maria_csrf`` cookie in ``X-CSRF-Token`` (double submit).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from maria.auth.service import IssuedTokens
from maria.config import Settings
from maria.errors import CsrfFailed

ACCESS_COOKIE = "maria_access"
REFRESH_COOKIE = "maria_refresh"
CSRF_COOKIE = "maria_csrf"
CSRF_HEADER = "x-csrf-token"
REFRESH_PATH = "/api/v1/auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise CsrfFailed()


def set_session_cookies(response: Response, issued: IssuedTokens, settings: Settings) -> None:
    common = {"secure": settings.cookie_secure, "samesite": "lax"}
    response.set_cookie(
        ACCESS_COOKIE,
        issued.access_token,
        max_age=settings.access_token_ttl,
        httponly=True,
        path="/",
        **common,  # type: ignore[arg-type]
    )
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=settings.refresh_token_ttl,
        httponly=True,
        path=REFRESH_PATH,
        **common,  # type: ignore[arg-type]
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=settings.refresh_token_ttl,
        httponly=False,
        path="/",
        **common,  # type: ignore[arg-type]
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(
            name,
            path=path,
            secure=settings.cookie_secure,
            httponly=name != CSRF_COOKIE,
            samesite="lax",
        )
