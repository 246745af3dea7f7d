"""Operational endpoints for load balancers and orchestrators (no prefix)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from sqlalchemy import text

from maria.deps import ServicesDep
from maria.errors import Unavailable
from maria.ops.metrics import render

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and its event loop answers."""
    return {"status": "ok"}


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text exposition."""
    body, content_type = render()
    return Response(body, media_type=content_type)


@router.get("/readyz")
async def readyz(services: ServicesDep) -> dict[str, str]:
    """Ready to serve: the database answers within two seconds and the revoked-session
    list has been loaded from it (before that, a logged-out token might pass)."""
    try:
        async with asyncio.timeout(2):
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:
        raise Unavailable("The database is not reachable") from None
    if not services.auth.revoked.loaded:
        raise Unavailable("Revoked sessions not loaded yet")
    return {"status": "ready"}
