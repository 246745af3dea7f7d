"""``/openapi.json`` as a contract clients can build on (issue 12).

Every operation has a stable camelCase ``operationId`` written on its route, a summary and
a description, examples of its JSON bodies (valid against their schemas), its error
responses with the codes it answers, and its security. The document is valid OpenAPI 3.1.
Errors the server really answers are declared for their operation: each in-process
client checks every answer it gets (``tests/support/contract.py``); the cases below
provoke one of each kind on purpose.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import jwt
import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from schemathesis.specs.openapi.definitions import OPENAPI_31  # the OAS 3.1 JSON Schema
from sqlalchemy import update

from maria.app import create_app
from maria.users.models import User
from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import make_admin, make_settings, running, transaction
from tests.support.contract import Contract, error_codes, undeclared
from tests.support.tokens import forge

CAMEL_CASE = re.compile(r"[a-z][a-zA-Z0-9]*")
METHODS = ("get", "put", "post", "delete", "patch")
JSON = "application/json"
UNSAFE = ("put", "post", "delete", "patch")
JSON_TYPE = {"content-type": JSON}
LOGIN, REGISTER, REFRESH = "/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"
LISTS = "/api/v1/users/me/lists"
NO_ID = "00000000-0000-4000-8000-000000000000"
# Operations anyone may call (the lists and avatars also take credentials, not needing them).
PUBLIC = {
    "register",
    "login",
    "createToken",
    "requestPasswordReset",
    "resetPassword",
    "verifyEmail",
    "sendSignInCode",
    "signInWithCode",
    "listPublicListItems",
    "getAvatar",
    "getJwks",
    "getHealth",
    "getReadiness",
    "getMetrics",
}


@cache
def _schema_and_app(tmp: str) -> tuple[dict[str, Any], Any]:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp}/unused.db", Path(tmp))
    app = create_app(settings)  # the schema needs no started app (no database)
    return app.openapi(), app


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Any]:
    return _schema_and_app(str(tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
def schema(built: tuple[dict[str, Any], Any]) -> dict[str, Any]:
    return built[0]


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in METHODS:
                yield path, method, operation


def by_id(schema: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    (found,) = [o for o in operations(schema) if o[2]["operationId"] == operation_id]
    return found


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def has_example(schema: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example on the media type, or on its schema (through ``$ref``, ``anyOf`` and
    array items), where Swagger UI and generators find it."""
    if "example" in media or media.get("examples"):
        return True
    pending = [media.get("schema", {})]
    while pending:
        node = resolve(schema, pending.pop())
        if node.get("examples") or "example" in node:
            return True
        pending += node.get("anyOf", []) + node.get("allOf", [])
        if "items" in node:
            pending.append(node["items"])
    return False


# -- the document ---------------------------------------------------------------------


def test_the_schema_is_valid_openapi_3_1(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.1.")
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
    errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(schema)]
    assert not errors, errors[:10]
    loaded = schemathesis.openapi.from_dict(schema)
    labels = [result.ok().label for result in loaded.get_all_operations()]
    assert len(labels) == len(list(operations(schema)))


def test_every_operation_has_a_stable_camel_case_id(
    schema: dict[str, Any], built: tuple[dict[str, Any], Any]
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert all(CAMEL_CASE.fullmatch(i) for i in ids), ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # Written on the route, never derived from the function's name.
    _, app = built
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            assert context.operation_id, f"{context.path} has no operation_id"
    assert {"getMe", "updateMe", "register", "login", "refreshSession", "listSessions"} <= set(ids)
    assert {"addListItem", "listListItems", "importLists", "createRoom", "getRoom"} <= set(ids)
    assert {"listRoomMessages", "adminListUsers", "getJwks", "getHealth"} <= set(ids)


def test_every_operation_has_a_summary_and_a_description(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        summary = operation.get("summary", "")
        assert summary and len(summary) <= 60 and not summary.endswith("."), (path, method)
        assert operation.get("description"), (path, method)


def test_json_bodies_have_examples(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        body = operation.get("requestBody", {}).get("content", {})
        if JSON in body:
            assert has_example(schema, body[JSON]), ("request", path, method)
        success = [s for s in operation["responses"] if s.startswith("2")]
        assert success, (path, method)
        for status in success:
            content = operation["responses"][status].get("content", {})
            for media_type, media in content.items():
                if media_type == JSON or media_type.endswith("+json"):
                    assert has_example(schema, media), ("response", status, path, method)


def test_every_example_fits_its_schema(schema: dict[str, Any]) -> None:
    """Examples of components, parameters, request and response bodies: what clients copy
    and schemathesis sends must be valid."""
    checked = 0

    def check(where: Any, node: dict[str, Any], values: list[Any]) -> None:
        nonlocal checked
        validator = jsonschema_rs.validator_for(
            {**node, "components": schema["components"]}, validate_formats=True
        )
        for value in values:
            errors = [e.message for e in validator.iter_errors(value)]
            assert not errors, (where, value, errors)
            checked += 1

    for name, component in schema["components"]["schemas"].items():
        check(name, component, component.get("examples", []))
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            check(
                (path, parameter["name"]),
                parameter["schema"],
                parameter["schema"].get("examples", []),
            )
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, r) for status, r in operation["responses"].items()]
        for where, body in bodies:
            for media in body.get("content", {}).values():
                examples = [e["value"] for e in media.get("examples", {}).values()]
                examples += [media["example"]] if "example" in media else []
                check((path, method, where), media.get("schema", {}), examples)
    assert checked > 100


def test_error_responses_name_their_codes(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "4XX" not in responses and "default" not in responses, (path, method)
        for status, response in responses.items():
            if status[0] not in "45":
                continue
            codes = error_codes(schema, response)
            assert codes, (path, method, status)
            media = response["content"][JSON]
            shown = {e["value"]["error"]["code"] for e in media["examples"].values()}
            assert shown == codes, (path, method, status)  # one example per code at least
            assert all(f"`{code}`" in response["description"] for code in codes)
        takes_input = "requestBody" in operation or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        )
        if takes_input:
            assert "validation_error" in (error_codes(schema, responses.get("422", {})) or ()), (
                path,
                method,
            )
        if "requestBody" in operation:
            assert error_codes(schema, responses["400"]) == {"bad_request"}, (path, method)
        assert error_codes(schema, responses["413"]) == {"payload_too_large"}, (path, method)
        assert error_codes(schema, responses["431"]) == {"headers_too_large"}, (path, method)
        if responses.get("429"):
            assert responses["429"]["headers"]["Retry-After"]["required"] is True


def test_one_schema_per_error_code(schema: dict[str, Any]) -> None:
    """``InvalidTokenError`` takes the contract's error body with that code, and no other."""
    invalid_token = jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/InvalidTokenError", "components": schema["components"]}
    )
    assert invalid_token.is_valid({"error": {"code": "invalid_token", "message": "Expired"}})
    assert not invalid_token.is_valid({"error": {"code": "not_found", "message": "No"}})
    assert not invalid_token.is_valid({"code": "invalid_token", "message": "Flat"})
    names = {n for n in schema["components"]["schemas"] if n.endswith("Error")}
    assert {"ValidationError", "CsrfFailedError", "RateLimitedError", "UnavailableError"} <= names


def test_security_schemes_and_requirements(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["cookieAuth"]["type"] == "apiKey"
    assert (schemes["cookieAuth"]["in"], schemes["cookieAuth"]["name"]) == (
        "cookie",
        "maria_access",
    )
    assert (schemes["csrfHeader"]["in"], schemes["csrfHeader"]["name"]) == (
        "header",
        "X-CSRF-Token",
    )
    assert (schemes["refreshCookie"]["in"], schemes["refreshCookie"]["name"]) == (
        "cookie",
        "maria_refresh",
    )
    assert all(s.get("description") for s in schemes.values())
    for _, method, operation in operations(schema):
        security = operation["security"]  # always stated, also when empty
        name = operation["operationId"]
        if name == "refreshSession":
            assert security == [{"refreshCookie": [], "csrfHeader": []}, {}]
        elif name in PUBLIC:
            assert security == [] or {} in security, name
        else:
            cookie = (
                {"cookieAuth": [], "csrfHeader": []} if method in UNSAFE else {"cookieAuth": []}
            )
            assert {"bearerAuth": []} in security and cookie in security, (name, security)
            assert {} not in security, name
            assert "not_authenticated" in error_codes(schema, operation["responses"]["401"]), name
            if method in UNSAFE:
                assert "csrf_failed" in error_codes(schema, operation["responses"]["403"]), name
        for requirement in security:
            assert set(requirement) <= set(schemes), requirement


def test_the_contract_check_catches_an_undeclared_answer(
    built: tuple[dict[str, Any], Any],
) -> None:
    """The check ``client_of`` runs on every answer fails for one the schema lacks."""
    schema, app = built
    me = httpx.Request("GET", "http://testserver/api/v1/users/me")
    conflict = httpx.Response(409, json={"error": {"code": "conflict", "message": "x"}}, request=me)
    assert "answered 409" in str(undeclared(app, conflict))
    other = httpx.Response(401, json={"error": {"code": "csrf_failed", "message": "x"}}, request=me)
    assert "csrf_failed" in str(undeclared(app, other))
    fine = httpx.Response(
        401, json={"error": {"code": "token_expired", "message": "x"}}, request=me
    )
    assert undeclared(app, fine) is None
    created = httpx.Response(201, json={}, request=me)
    assert "answered 201" in str(undeclared(app, created))
    # The path's template is found as the router finds it: "import" is no list's slug.
    imported = httpx.Request("POST", "http://testserver/api/v1/users/me/lists/import")
    too_many = httpx.Response(
        409, json={"error": {"code": "conflict", "message": "x"}}, request=imported
    )
    assert undeclared(app, too_many) is None
    assert Contract.of(schema).operations["/api/v1/users/me/lists/import", "POST"]


# -- errors the server really answers ---------------------------------------------------


@pytest.fixture
async def app_client(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    shutil.copy(sqlite_template, tmp_path / "maria.db")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}", tmp_path)
    async with running(settings) as app:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 50000))
        # A plain client: these cases compare with the schema themselves.
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c


async def test_errors_the_server_answers_are_declared(
    app_client: tuple[Any, httpx.AsyncClient], built: tuple[dict[str, Any], Any]
) -> None:
    """One real answer of each kind, each checked against its operation in the schema."""
    schema, _ = built
    app, client = app_client
    anna = await register(client)
    other = await register(client)
    admin = await make_admin(app, client)
    email = anna["user"]["email"]
    claims = jwt.decode(anna["access_token"], options={"verify_signature": False})
    expired = forge({**claims, "iat": 1, "exp": 2})
    room = await client.post("/api/v1/rooms", json={"movie_id": 326}, headers=bearer(anna))
    room_id = room.json()["id"]
    gone = await register(client)
    async with transaction(app) as db:
        await db.execute(update(User).where(User.id == gone["user"]["id"]).values(disabled=True))
    await app.state.services.users.cache.changed(gone["user"]["id"])
    client.cookies.clear()  # the sign-ins' cookies: each case sends its own credentials
    cookies = {"Cookie": f"maria_access={anna['access_token']}; maria_csrf=x"}  # no CSRF header
    public = f"/api/v1/users/{anna['user']['id']}/lists/favorites/items"

    me = "/api/v1/users/me"
    garbage = {"Authorization": "Bearer x"}
    cases: list[tuple[str, Callable[[], Awaitable[httpx.Response]], int, str]] = [
        ("getMe", lambda: client.get(me), 401, "not_authenticated"),
        ("getMe", lambda: client.get(me, headers=garbage), 401, "invalid_token"),
        (
            "getMe",
            lambda: client.get(me, headers=bearer({"access_token": expired})),
            401,
            "token_expired",
        ),
        (
            "updateMe",
            lambda: client.patch(me, json={"display_name": "A"}, headers=cookies),
            403,
            "csrf_failed",
        ),
        (
            "updateMe",
            lambda: client.patch(me, json={"display_name": 5}, headers=bearer(anna)),
            422,
            "validation_error",
        ),
        (
            "updateMe",
            lambda: client.patch(me, content=b"\xff", headers={**bearer(anna), **JSON_TYPE}),
            400,
            "bad_request",
        ),
        (
            "login",
            lambda: client.post(LOGIN, json={"email": email, "password": "wrong password"}),
            401,
            "invalid_credentials",
        ),
        (
            "login",
            lambda: client.post(LOGIN, json={"email": gone["user"]["email"], "password": PASSWORD}),
            403,
            "forbidden",
        ),
        (
            "register",
            lambda: client.post(
                REGISTER, json={"email": email, "password": PASSWORD, "display_name": "A"}
            ),
            409,
            "conflict",
        ),
        ("refreshSession", lambda: client.post(REFRESH), 401, "not_authenticated"),
        (
            "refreshSession",
            lambda: client.post(REFRESH, json={"refresh_token": "nope"}),
            401,
            "invalid_token",
        ),
        (
            "endSession",
            lambda: client.delete(f"/api/v1/auth/sessions/{NO_ID}", headers=bearer(anna)),
            404,
            "not_found",
        ),
        (
            "adminListUsers",
            lambda: client.get("/api/v1/admin/users", headers=bearer(anna)),
            403,
            "forbidden",
        ),
        (
            "adminGetUser",
            lambda: client.get(f"/api/v1/admin/users/{NO_ID}", headers=bearer(admin)),
            404,
            "not_found",
        ),
        ("getList", lambda: client.get(f"{LISTS}/nope", headers=bearer(anna)), 404, "not_found"),
        (
            "deleteList",
            lambda: client.delete(f"{LISTS}/favorites", headers=bearer(anna)),
            409,
            "conflict",
        ),
        (
            "importLists",
            lambda: client.post(
                f"{LISTS}/import", json={"favorites": list(range(1, 10_002))}, headers=bearer(anna)
            ),
            413,
            "payload_too_large",
        ),
        (
            "listListItems",
            lambda: client.get(f"{LISTS}/favorites/items?cursor=AAAA", headers=bearer(anna)),
            422,
            "validation_error",
        ),
        ("listPublicListItems", lambda: client.get(public, headers=garbage), 401, "invalid_token"),
        (
            "getAvatar",
            lambda: client.get(f"/api/v1/avatars/{secrets.token_hex(16)}.webp"),
            404,
            "not_found",
        ),
        (
            "deleteRoom",
            lambda: client.delete(f"/api/v1/rooms/{room_id}", headers=bearer(other)),
            403,
            "forbidden",
        ),
        (
            "getRoom",
            lambda: client.get(f"/api/v1/rooms/{NO_ID}", headers=bearer(anna)),
            404,
            "not_found",
        ),
    ]
    for operation_id, request, status, code in cases:
        response = await request()
        assert_error(response, status, code)
        _, _, operation = by_id(schema, operation_id)
        assert code in (error_codes(schema, operation["responses"].get(str(status), {})) or ()), (
            operation_id,
            status,
            code,
        )
        assert undeclared(app, response) is None

    # A limit: the 31st room in ten minutes.
    for _ in range(30):
        await client.post("/api/v1/rooms", json={"movie_id": 326}, headers=bearer(other))
    limited = await client.post("/api/v1/rooms", json={"movie_id": 326}, headers=bearer(other))
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert undeclared(app, limited) is None
