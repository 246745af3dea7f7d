"""Operational endpoints: liveness, readiness and the OpenAPI schema (Swagger UI and ReDoc:
tests/console/test_pages.py)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, assert_error, register
from tests.support.app import app_and_client, make_settings

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
    assert schema["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    # The token endpoint takes the form Swagger sends.
    body = schema["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in body


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
    assert me["503"]["content"]["application/json"]["schema"]["$ref"].endswith("/UnavailableError")
    refused = me["401"]["content"]["application/json"]["schema"]["oneOf"]
    assert [r["$ref"].rsplit("/", 1)[1] for r in refused] == [
        "InvalidTokenError",
        "NotAuthenticatedError",
        "TokenExpiredError",
    ]
    for name in ("UnavailableError", "InvalidTokenError"):
        error = schema["components"]["schemas"][name]["allOf"][0]
        assert error["$ref"].endswith("/ErrorOut")
    assert "HTTPValidationError" not in schema["components"]["schemas"]
