"""The error family services raise: a status, a contract code and a message, nothing else.

Framework-free on purpose, so that services and models never import the web framework;
``maria.http.errors`` renders these as ``{"error": {"code", "message"}}`` answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"
    message = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        details: Sequence[Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.headers = dict(headers or {})
        self.details = details
        super().__init__(self.message)


class InvalidCredentials(ApiError):
    status, code, message = 401, "invalid_credentials", "Invalid email or password"


class TokenExpired(ApiError):
    status, code, message = 401, "token_expired", "The access token has expired"


class InvalidToken(ApiError):
    status, code, message = 401, "invalid_token", "The token is invalid"


class AccountGone(InvalidToken):
    """A valid token of an account that was deleted or disabled since it was issued."""

    message = "The account no longer exists"


class NotAuthenticated(ApiError):
    status, code, message = 401, "not_authenticated", "Authentication required"


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "Not allowed"


class CsrfFailed(ApiError):
    status, code, message = 403, "csrf_failed", "Missing or wrong X-CSRF-Token header"


class NotFound(ApiError):
    status, code, message = 404, "not_found", "Not found"


class Conflict(ApiError):
    status, code, message = 409, "conflict", "Conflict"


class PayloadTooLarge(ApiError):
    status, code, message = 413, "payload_too_large", "Request body too large"


class HeadersTooLarge(ApiError):
    """Answered by ``maria serve`` itself (``maria.http.head``), before the app sees it."""

    status, code, message = 431, "headers_too_large", "The request line and headers exceed 16 KiB"


class ValidationFailed(ApiError):
    status, code, message = 422, "validation_error", "Invalid request"


class BadCursor(ValidationFailed):
    """A page anchor of the documented shape that names no place to page from (garbled,
    another list's, an unknown message): a rule no schema can state, so the answer says
    so with ``type: cursor`` in its details."""

    def __init__(self, message: str = "Invalid cursor", *, param: str = "cursor") -> None:
        super().__init__(
            message, details=[{"loc": ["query", param], "msg": message, "type": "cursor"}]
        )


class RateLimited(ApiError):
    status, code, message = 429, "rate_limited", "Too many requests, try again later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class Unavailable(ApiError):
    status, code, message = 503, "unavailable", "Service unavailable"
