"""The contract's error body, ``{"error": {"code", "message"}}``, for every failure.

``install_error_handlers`` renders ``maria.errors.ApiError``, FastAPI's validation errors and
Starlette's 404/405 in that format. A database that is away, refusing connections or too
slow to answer within its timeouts is an outage (503 ``unavailable``), not a bug; so is a
Redis error the fallbacks did not absorb. Anything else becomes a bare 500 with no detail,
logged server-side.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from maria.db import OutageLog, is_outage
from maria.errors import ApiError, Unavailable

log = logging.getLogger("maria.errors")
outages = OutageLog(log)


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_token"], description="snake_case; what clients branch on")
    message: str = Field(description="For people; may change")
    details: list[Any] | None = Field(
        default=None,
        description="Validation errors only: `{loc, msg, type}` each, never the value sent",
    )


class ErrorOut(BaseModel):
    """The body of every 4xx/5xx answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": {"code": "not_found", "message": "No such list"}}]
        }
    )

    error: ErrorDetail


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


def error_body(code: str, message: str, details: Sequence[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = list(details)
    return {"error": error}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Location, message and type of each problem; never echo the input (it may be a password)."""
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the request's path has (RFC 9110's ``Allow``): each is asked of the
    routes in turn. The router's own 405 names only the first route that matched the path,
    and each method of a path is a route of its own."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            error_body("validation_error", "Invalid request", _validation_details(exc)),
            status_code=422,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)

    async def on_database_away(request: Request, exc: Exception) -> JSONResponse:
        """A database that is away, refusing connections or too slow is an outage (503,
        within the engine's timeouts), not a bug (500)."""
        if not is_outage(exc):
            return await on_unexpected(request, exc)
        outages.failed("requests", exc)
        return error_response(
            Unavailable("The database is unavailable", headers={"Retry-After": "1"})
        )

    async def on_redis_away(_: Request, exc: Exception) -> JSONResponse:
        """What the Redis fallbacks did not cover (they should cover everything) is an outage
        too, never a 500."""
        log.warning("redis unavailable: %s", type(exc).__name__)
        return error_response(
            Unavailable("A backing service is unavailable", headers={"Retry-After": "1"})
        )

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for away in (DBAPIError, PoolTimeout, TimeoutError, OSError):
        app.add_exception_handler(away, on_database_away)
    app.add_exception_handler(RedisError, on_redis_away)
    app.add_exception_handler(Exception, on_unexpected)
