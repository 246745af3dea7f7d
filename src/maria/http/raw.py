"""Reading the raw ASGI scope, for code that runs before FastAPI parses a request (the
identity middleware, route shortcuts)."""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, wanted: bytes) -> str | None:
    """The first value of the header ``wanted`` (lower-case bytes), as Starlette decodes it."""
    for name, value in scope["headers"]:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None
