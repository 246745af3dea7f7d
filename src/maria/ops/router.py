"""Operational endpoints for load balancers and orchestrators (no prefix)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from maria.errors import Unavailable
from maria.http.deps import service
from maria.http.metrics import render
from maria.http.openapi import doc
from maria.ops.service import Readiness

router = APIRouter(tags=["ops"])
Ready = Annotated[Readiness, service("readiness")]
_OK = {"status": "ok"}


@router.get("/healthz", **doc("getHealth", "Is the process alive?", outage=False, example=_OK))
async def healthz() -> dict[str, str]:
    """The process is alive and its event loop answers."""
    return {"status": "ok"}


@router.get(
    "/metrics",
    response_class=Response,
    **doc(
        "getMetrics",
        "Prometheus metrics",
        outage=False,
        responses={200: {"description": "Prometheus text", "content": {"text/plain": {}}}},
    ),
)
async def metrics() -> Response:
    """Prometheus text exposition."""
    body, content_type = render()
    return Response(body, media_type=content_type)


@router.get(
    "/readyz",
    **doc(
        "getReadiness",
        "Is the instance ready to serve?",
        Unavailable("The database is not reachable"),
        example={"status": "ready", "redis": "ok"},
    ),
)
async def readyz(readiness: Ready) -> dict[str, str]:
    """Ready to serve: the database answers within two seconds, and the revoked-session
    list and the signing keys have been loaded from it. With Redis
    configured, ``redis`` says ``ok`` or ``degraded`` (serving on in-process fallbacks)."""
    await readiness.check()
    return readiness.report()
