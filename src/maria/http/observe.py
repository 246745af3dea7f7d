"""The outermost layer of every request and socket: its request id, its metrics and its
access-log line.

The request id is the client's (or proxy's) ``X-Request-ID`` when it has a safe shape
(``maria.logs.request_id``), else a new one; it is echoed in the response (and in a
socket's handshake answer) and set in ``maria.logs.REQUEST_ID`` while the request runs, so
every log line the request causes carries it.

Metrics are labelled by the matched route's template (``/api/v1/users/{user_id}``, read
from the scope once routing is done: nothing is parsed) and the status class; requests
answered before routing (a refused bearer token's 401, a 413, an unknown path's 404) count
as ``unmatched``, and a method outside the usual few as ``other``. The label children of
each (method, route, class) are kept, not looked up again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maria.http.identity import ANONYMOUS, CALLER_KEY
from maria.http.raw import header
from maria.logs import REQUEST_ID, request_id
from maria.metrics import HTTP_LATENCY, HTTP_REQUESTS, WEBSOCKETS

access = logging.getLogger("maria.access")

REQUEST_ID_HEADER = b"x-request-id"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


class Observe:
    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self._access_log = access_log
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(header(scope, REQUEST_ID_HEADER))
        echoed = (REQUEST_ID_HEADER, rid.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        token = REQUEST_ID.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template: str = getattr(route, "path", None) or "unmatched"
            method: str = scope["method"]
            key = (method, template, status // 100)
            series = self._series.get(key)
            if series is None:
                series = self._new_series(*key)
            series[0].inc()
            series[1].observe(elapsed)
            if self._access_log:
                self._log(scope, method, template, status, elapsed)
            REQUEST_ID.reset(token)

    def _new_series(self, method: str, template: str, cls: int) -> tuple[Any, Any]:
        label = method if method in METHODS else "other"
        status = CLASSES[cls - 1] if 1 <= cls <= 5 else "5xx"
        series = (
            HTTP_REQUESTS.labels(label, template, status),
            HTTP_LATENCY.labels(label, template, status),
        )
        self._series[(method, template, cls)] = series
        return series

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(header(scope, REQUEST_ID_HEADER))
        echoed = (REQUEST_ID_HEADER, rid.encode())
        accepted = False
        close_code: int | None = None
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal accepted, close_code
            kind = message["type"]
            if kind == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKETS.inc()
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            elif kind == "websocket.close":
                close_code = message.get("code", 1000)
            await send(message)

        token = REQUEST_ID.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if accepted:
                WEBSOCKETS.dec()
            if self._access_log:
                route = scope.get("route")
                template: str = getattr(route, "path", None) or "unmatched"
                status = 101 if accepted else 403
                self._log(scope, "WS", template, status, time.perf_counter() - started, close_code)
            REQUEST_ID.reset(token)

    def _log(
        self,
        scope: Scope,
        method: str,
        template: str,
        status: int,
        elapsed: float,
        close_code: int | None = None,
    ) -> None:
        """One access line: the route's template, never the path or query (they may hold
        ids and tokens); made without ``Logger.info``'s caller lookup."""
        if not access.isEnabledFor(logging.INFO):
            return
        identity = scope.get(CALLER_KEY, ANONYMOUS).identity
        client = scope.get("client")
        fields = {
            "method": method if method in METHODS or method == "WS" else "other",
            "route": template,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "user_id": identity.user_id if identity is not None else None,
            "client": client[0] if client else None,
            "close_code": close_code,
        }
        record = access.makeRecord(
            access.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %d in %.1f ms",
            (fields["method"], template, status, fields["duration_ms"]),
            None,
            extra=fields,
        )
        access.handle(record)
