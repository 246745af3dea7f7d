"""``Vary: Origin`` on every answer while CORS is on.

Starlette's CORS middleware adds it only to requests that carry an ``Origin``; a shared
cache could then serve a same-origin answer (without ``Access-Control-Allow-Origin``) to a
cross-origin page, or the other way round. Every answer depends on the origin, so every
answer says so.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class VaryOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                varies = {part.strip().lower() for part in headers.get("vary", "").split(",")}
                if "origin" not in varies:
                    headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, vary)
