"""Log lines: one JSON object per line in production, readable text in development, and
the request id of the request (or WebSocket) being served in every line it causes.

``REQUEST_ID`` is a context variable set by the HTTP layer for each request and socket
(``maria.http.observe``); tasks started on a request's behalf inherit it, and background
work that outlives it starts from ``detached()``. uvicorn's own loggers get the same
handler and format (``log_config`` is what ``maria serve`` hands to uvicorn, in every
worker). Nothing here ever logs a request's headers, body or query string: a line says
which route answered, not what was sent to it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "maria_request_id", default=None
)

# What a client's or proxy's X-Request-ID may be to be kept (nginx's $request_id, UUIDs,
# most tracing ids): bounded, and nothing that could split or forge a text log line.
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

# Fields a record may carry (``extra=``) that the JSON line keeps, in this order.
FIELDS = ("method", "route", "status", "duration_ms", "user_id", "client", "close_code")


def request_id(presented: str | None) -> str:
    """The presented id if it has a safe shape, else a new one (32 hex characters)."""
    if presented is not None and _REQUEST_ID_SHAPE.fullmatch(presented):
        return presented
    return secrets.token_hex(16)


def detached() -> contextvars.Context:
    """The current context without a request id: for a task that outlives the request
    that started it (its lines belong to no request)."""
    context = contextvars.copy_context()
    context.run(REQUEST_ID.set, None)
    return context


def _utc(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = REQUEST_ID.get()
        if rid is not None:
            line["request_id"] = rid
        fields = record.__dict__
        for name in FIELDS:
            value = fields.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id]: message`` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = REQUEST_ID.get()
        record.rid = f" [{rid}]" if rid is not None else ""
        return super().format(record)


def log_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` of one stderr handler in ``fmt`` (json or text) for
    everything, uvicorn's loggers included (uvicorn applies it in each worker)."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    uvicorn = {"handlers": [], "propagate": True, "level": level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"maria": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "maria",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": dict(uvicorn),
            "uvicorn.error": dict(uvicorn),
            "uvicorn.access": dict(uvicorn),
            "alembic": {"level": "WARNING"},
        },
    }


def configure(fmt: str, level: str = "INFO") -> None:
    import logging.config

    logging.config.dictConfig(log_config(fmt, level))
