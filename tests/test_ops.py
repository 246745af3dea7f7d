"""Operational endpoints: liveness, readiness, the OpenAPI schema and Swagger UI."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.api import PASSWORD, assert_error, register
from tests.support.app import app_and_client, make_settings
from tests.support.servers import free_port

AUTH_PATHS = {
    "/api/v1/auth/register": {"post"},
    "/api/v1/auth/login": {"post"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/refresh": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/auth/sessions": {"get"},
    "/api/v1/auth/sessions/{session_id}": {"delete"},
    "/api/v1/users/me": {"get", "patch"},
}


@contextlib.asynccontextmanager
async def serve(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_and_client(settings, ("203.0.113.9", 50000)) as (_, c):
        yield c


@pytest.fixture
async def sqlite_client(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """For endpoints that don't read the database."""
    shutil.copy(sqlite_template, tmp_path / "maria.db")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}", tmp_path)
    async with serve(settings) as client:
        yield client


# -- liveness and readiness -----------------------------------------------------------


async def test_healthz(sqlite_client: httpx.AsyncClient) -> None:
    response = await sqlite_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_with_a_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


class TcpProxy:
    """A TCP relay to the real Postgres that the test can cut and restore: an outage."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.close()

    async def stop(self) -> None:
        """Refuse new connections and drop the open ones, as a dead database host does."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def test_readyz_is_503_while_the_database_is_unreachable(
    postgres_database: str, tmp_path: Path
) -> None:
    real = make_url(postgres_database)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    try:
        url = real.set(port=proxy.port).render_as_string(hide_password=False)
        async with serve(make_settings(url, tmp_path)) as client:
            assert (await client.get("/readyz")).status_code == 200

            await proxy.stop()
            response = await client.get("/readyz")
            assert_error(response, 503, "unavailable")
            assert "Traceback" not in response.text
            # Alive but not ready: the orchestrator should not restart it, only route around.
            assert (await client.get("/healthz")).status_code == 200

            await proxy.start()  # the database is back: ready again, without a restart
            for _ in range(50):
                response = await client.get("/readyz")
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert response.status_code == 200, response.text
            assert response.json() == {"status": "ready"}
    finally:
        await proxy.stop()


async def test_starts_without_its_database_and_becomes_ready_when_it_returns(
    postgres_database: str, tmp_path: Path
) -> None:
    real = make_url(postgres_database)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)  # not started: down
    try:
        url = real.set(port=proxy.port).render_as_string(hide_password=False)
        async with serve(make_settings(url, tmp_path)) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert_error(await client.get("/readyz"), 503, "unavailable")

            await proxy.start()
            for _ in range(50):  # the revocation poll loads within about a second
                response = await client.get("/readyz")
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert response.status_code == 200, response.text
            session = await register(client)
            assert session["user"]["email"].endswith("@example.com")
    finally:
        await proxy.stop()


# -- OpenAPI and Swagger UI -----------------------------------------------------------


async def test_openapi_lists_the_auth_and_users_paths(sqlite_client: httpx.AsyncClient) -> None:
    response = await sqlite_client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Maria"
    for path, methods in AUTH_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, set(schema["paths"][path]))
    assert {"/healthz", "/readyz"} <= set(schema["paths"])


async def test_openapi_declares_the_oauth2_password_flow(sqlite_client: httpx.AsyncClient) -> None:
    schema = (await sqlite_client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    oauth = {
        name: s
        for name, s in schemes.items()
        if s["type"] == "oauth2" and s["flows"].get("password", {}).get("tokenUrl")
    }
    assert len(oauth) == 1, schemes
    (name, scheme), *_ = oauth.items()
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    # Protected operations carry it, so Swagger sends the token after "Authorize".
    for path, method in [("/api/v1/users/me", "get"), ("/api/v1/auth/sessions", "get")]:
        assert {name: []} in schema["paths"][path][method].get("security", []), (path, method)
    assert "security" not in schema["paths"]["/api/v1/auth/login"]["post"]
    # The token endpoint takes the form Swagger sends.
    body = schema["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in body


async def test_docs_serve_swagger_ui(sqlite_client: httpx.AsyncClient) -> None:
    response = await sqlite_client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text.lower()
    assert "/openapi.json" in response.text
    assert "oauth2-redirect" in response.text
    assert (await sqlite_client.get("/docs/oauth2-redirect")).status_code == 200


async def test_swagger_authorize_flow_through_the_token_endpoint(
    client: httpx.AsyncClient,
) -> None:
    session = await register(client, email="swagger@example.com")
    # What Swagger UI's "Authorize" dialog posts for the password flow.
    form = {"grant_type": "password", "username": "swagger@example.com", "password": PASSWORD}
    response = await client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"].lower() == "bearer"
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == session["user"]["id"]

    wrong = {**form, "password": "not the password"}
    assert_error(await client.post("/api/v1/auth/token", data=wrong), 401, "invalid_credentials")


async def test_openapi_documents_the_error_shape(sqlite_client: httpx.AsyncClient) -> None:
    schema = (await sqlite_client.get("/openapi.json")).json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    me = schema["paths"]["/api/v1/users/me"]["get"]["responses"]
    assert me["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/UserOut")
    for status in ("4XX", "422"):
        assert me[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "HTTPValidationError" not in schema["components"]["schemas"]


async def test_requests_during_a_database_outage_get_503_then_recover(
    postgres_database: str, tmp_path: Path
) -> None:
    real = make_url(postgres_database)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    try:
        url = real.set(port=proxy.port).render_as_string(hide_password=False)
        async with serve(make_settings(url, tmp_path)) as client:
            session = await register(client)  # the pool now holds live connections
            auth = {"Authorization": f"Bearer {session['access_token']}"}
            assert (await client.get("/api/v1/users/me", headers=auth)).status_code == 200
            await proxy.stop()
            login = {"email": session["user"]["email"], "password": PASSWORD}
            response = await client.post("/api/v1/auth/login", json=login)
            assert_error(response, 503, "unavailable")
            assert response.headers["retry-after"] == "1"
            # The token check and the cached profile need no database: still served.
            assert (await client.get("/api/v1/users/me", headers=auth)).status_code == 200

            await proxy.start()
            statuses = []
            for _ in range(5):  # dead pooled connections are dropped as they fail
                response = await client.post("/api/v1/auth/login", json=login)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    break
            assert statuses[-1] == 200, statuses
            assert set(statuses) <= {200, 503}, statuses
    finally:
        await proxy.stop()
