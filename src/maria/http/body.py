"""The request body size limit, applied to the raw ASGI messages before anything reads them."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maria.errors import PayloadTooLarge
from maria.http.errors import error_response


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body without Content-Length outgrows the limit.

    A Starlette ``HTTPException`` on purpose: FastAPI turns any other exception met while
    reading the body into 400 "error parsing the body", but re-raises this one, and the
    error handlers render it as 413 ``payload_too_large``.
    """

    def __init__(self) -> None:
        super().__init__(413, PayloadTooLarge.message)


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with 413, by header or while streaming; the paths in
    ``larger`` (uploads) have limits of their own."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._larger.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    await error_response(PayloadTooLarge())(scope, receive, send)
                    return
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)
