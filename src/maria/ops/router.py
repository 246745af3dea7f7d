"""Operational endpoints for load balancers and orchestrators (no prefix)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from maria.errors import NotAuthenticated, Unavailable
from maria.http.deps import service
from maria.http.metrics import render
from maria.http.openapi import doc
from maria.ops.service import Readiness, Telemetry

router = APIRouter(tags=["ops"])
Ready = Annotated[Readiness, service("readiness")]
TelemetryDep = Annotated[Telemetry, service("telemetry")]
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
        NotAuthenticated("Send the metrics token as a bearer token"),
        outage=False,
        responses={
            200: {
                "description": "Prometheus text, or OpenMetrics when `Accept` asks for it",
                "content": {"text/plain": {}, "application/openmetrics-text": {}},
            }
        },
    ),
)
async def metrics(request: Request, telemetry: TelemetryDep) -> Response:
    """Prometheus text exposition (OpenMetrics when ``Accept`` asks for it), of every
    worker. With ``MARIA_METRICS_TOKEN`` set, only for ``Authorization: Bearer <it>``."""
    if not telemetry.allows(request.headers.get("authorization")):
        raise NotAuthenticated(
            "Send the metrics token as a bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    await telemetry.sample()
    body, content_type = render(request.headers.get("accept"))
    return Response(body, headers={"content-type": content_type})


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
