"""Prometheus metrics: request counts and latencies by route template and status.

Labels use the matched route's path template (``/api/v1/users/{user_id}``), never the raw
path, so ids can't blow up the series count. One registry per process; with several uvicorn
workers each worker reports its own numbers.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "maria_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "maria_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


class HttpMetrics:
    """Times every HTTP request from the outermost layer, 413s and gate 401s included.

    Label children are kept per (method, route, status): ``labels()`` validates and locks on
    every call, which showed in the profile of the hottest endpoint.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            key = (scope["method"], template, status)
            series = self._series.get(key)
            if series is None:
                series = (
                    REQUESTS.labels(key[0], template, str(status)),
                    LATENCY.labels(key[0], template),
                )
                self._series[key] = series
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
