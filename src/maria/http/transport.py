"""How credentials travel: a bearer header for API clients, HttpOnly cookies for browsers.

Kept apart from how tokens are made (``auth``), as fastapi-users keeps transports apart
from strategies. A cookie-authenticated unsafe request must echo the readable
``maria_csrf`` cookie in ``X-CSRF-Token`` (double submit); a socket may use the access
cookie only from an allowed page (``origin_allowed``: no cross-site WebSocket hijacking).
A browser also keeps ``maria_device``, the device token of its last sign-in (HttpOnly,
``SameSite=Strict``, sent only to ``/api/v1/auth``, kept a year and through logouts): what
makes it a known client of that account for the login limits.

The refresh cookie goes only to ``/api/v1/auth`` unless ``MARIA_REFRESH_COOKIE_PATH`` says
otherwise (``/`` lets an app's own server renew sessions, e.g. Next.js middleware).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass, replace

from starlette.responses import Response

ACCESS_COOKIE = "maria_access"
REFRESH_COOKIE = "maria_refresh"
CSRF_COOKIE = "maria_csrf"
DEVICE_COOKIE = "maria_device"
DEVICE_MAX_AGE = 365 * 86_400
CSRF_HEADER = "x-csrf-token"
AUTH_PATH = "/api/v1/auth"
# The refresh cookie's two usual homes. Every write of it also removes it at those of them
# that are not configured, so no browser keeps a copy from before a change of the path: sent
# beside the new cookie, a stale copy at the shorter path is the one Maria reads, a rotated
# token taken for a stolen one, which ends the session.
REFRESH_PATHS = ("/", AUTH_PATH)
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_ok(method: str, cookies: dict[str, str], header: str | None) -> bool:
    """Safe methods need nothing; unsafe ones the CSRF cookie's value in the header."""
    if method in SAFE_METHODS:
        return True
    cookie = cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), (header or "").encode())


def origin_allowed(
    origin: str | None, host: str | None, secure: bool, allowed: Collection[str]
) -> bool:
    """Whether a page at ``origin`` may use the cookies on a socket: one of ``allowed``, or
    this server's own; a client without ``Origin`` is not a browser, so a cookie it sends
    is its own."""
    if origin is None or origin in allowed:
        return True
    scheme = "https" if secure else "http"
    return host is not None and origin == f"{scheme}://{host}"


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """The session cookies' attributes, from settings. ``secure=None`` ("auto") marks them
    ``Secure`` exactly when the request came over HTTPS: the connection's own scheme, or the
    ``X-Forwarded-Proto`` of a trusted proxy (``MARIA_TRUSTED_PROXIES``; nobody else's is
    believed). A plain-HTTP client never gets cookies its browser would refuse to keep, and
    a cookie handed out over HTTPS is never sent back over plain HTTP."""

    secure: bool | None
    access_max_age: int
    refresh_max_age: int
    refresh_path: str = AUTH_PATH

    def for_scheme(self, scheme: str) -> CookiePolicy:
        """The policy for a request that came by ``scheme`` (http, https, ws, wss)."""
        if self.secure is not None:
            return self
        return replace(self, secure=scheme in ("https", "wss"))

    def _cookie(
        self,
        name: str,
        value: str,
        max_age: int,
        path: str,
        httponly: bool,
        samesite: str = "lax",
    ) -> bytes:
        """A ``Set-Cookie`` value, as Starlette's ``set_cookie`` writes it (attributes in
        ``http.cookies`` order), without building a ``SimpleCookie`` for it: the values
        are base64url tokens, which need no quoting."""
        flags = "HttpOnly; " if httponly else ""
        secure = "; Secure" if self.secure else ""
        text = f"{name}={value}; {flags}Max-Age={max_age}; Path={path}; SameSite={samesite}{secure}"
        return text.encode("latin-1")

    def _expired(self, name: str, path: str) -> tuple[bytes, bytes]:
        """A ``Set-Cookie`` that removes a cookie, as Starlette's ``delete_cookie`` writes
        it but for the (past) date. The path must be the one it was set with, else browsers
        keep the cookie."""
        flags = "HttpOnly; " if name != CSRF_COOKIE else ""
        secure = "; Secure" if self.secure else ""
        text = f'{name}=""; expires={EPOCH}; {flags}Max-Age=0; Path={path}; SameSite=lax{secure}'
        return b"set-cookie", text.encode("latin-1")

    def _stale_refresh_copies(self) -> list[tuple[bytes, bytes]]:
        return [self._expired(REFRESH_COOKIE, p) for p in REFRESH_PATHS if p != self.refresh_path]

    def set_session(self, response: Response, access_token: str, refresh_token: str) -> None:
        """The three session cookies: the access token, the refresh token (sent only to
        ``refresh_path``) and a fresh readable CSRF token."""
        response.raw_headers += [
            *self._stale_refresh_copies(),
            (
                b"set-cookie",
                self._cookie(ACCESS_COOKIE, access_token, self.access_max_age, "/", True),
            ),
            (
                b"set-cookie",
                self._cookie(
                    REFRESH_COOKIE, refresh_token, self.refresh_max_age, self.refresh_path, True
                ),
            ),
            (
                b"set-cookie",
                self._cookie(
                    CSRF_COOKIE, secrets.token_urlsafe(32), self.refresh_max_age, "/", False
                ),
            ),
        ]

    def set_device(self, response: Response, device_token: str) -> None:
        """The device cookie of a sign-in (only ever sent to sign in again)."""
        cookie = self._cookie(
            DEVICE_COOKIE, device_token, DEVICE_MAX_AGE, AUTH_PATH, True, "strict"
        )
        response.raw_headers.append((b"set-cookie", cookie))

    def clear_session(self, response: Response) -> None:
        """Remove the session cookies, each at the path it was set with."""
        response.raw_headers += [
            self._expired(ACCESS_COOKIE, "/"),
            *self._stale_refresh_copies(),
            self._expired(REFRESH_COOKIE, self.refresh_path),
            self._expired(CSRF_COOKIE, "/"),
        ]
