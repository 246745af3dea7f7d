"""``create_app(settings)``: wiring only: services, routers, middleware, error handlers,
lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from maria import __version__
from maria.accounts.router import router as accounts_router
from maria.admin.router import router as admin_router
from maria.auth.router import router as auth_router
from maria.config import Settings, load_settings
from maria.console.router import router as console_router
from maria.http import openapi
from maria.http.body import BodyLimit
from maria.http.cors import VaryOrigin
from maria.http.errors import install_error_handlers
from maria.http.identity import Authentication
from maria.http.observe import Observe
from maria.http.transport import CSRF_HEADER
from maria.keys.router import router as keys_router
from maria.lists.router import router as lists_router
from maria.ops.router import router as ops_router
from maria.rooms.router import router as rooms_router
from maria.services import build_services
from maria.users import avatars
from maria.users.router import avatars_router
from maria.users.router import router as users_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    # Built now (no I/O happens before ``start``), so that middleware gets its services in
    # its constructor.
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        # Long-lived start-up objects (settings, routes, the password list) leave the
        # collector's view: full collections stay short, and so do tail latencies.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await services.close()

    app = FastAPI(
        title="Maria",
        version=__version__,
        description="Accounts, movie lists and watch-together rooms for Kinoway.",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry hooks look up the global providers on every request
        # (turning them off gave /users/me 9 % more req/s); Maria's metrics are on /metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Served offline by maria.console (FastAPI's own pages load their assets from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    openapi.install(app)
    # Starlette matches routes in order: the hottest paths first.
    for router in (
        users_router,
        lists_router,
        rooms_router,
        auth_router,
        accounts_router,
        admin_router,
        avatars_router,
        keys_router,
        ops_router,
        console_router,
    ):
        app.include_router(router)
    # Inside CORS, so that its early 401s carry CORS headers.
    app.add_middleware(
        Authentication, verify=services.auth.authenticate, origins=settings.cors_origins
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", CSRF_HEADER],
            # What cross-origin scripts may read: when to retry, list versions, request ids.
            expose_headers=["Retry-After", "ETag", "X-Request-ID"],
        )
        app.add_middleware(VaryOrigin)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        # The avatar upload: the file's 5 MiB and the multipart framing around it.
        larger={"/api/v1/users/me/avatar": avatars.MAX_BYTES + 64 * 1024},
    )
    # Request ids, metrics and access lines: outside everything that may answer early.
    app.add_middleware(Observe, access_log=settings.access_log)
    if settings.trusted_proxies:
        # Outermost: limits, sessions, audit and logs all see the client's own address.
        # Of X-Forwarded-For, the right-most hop that is not a trusted proxy counts, so a
        # client's own header cannot choose its address.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
