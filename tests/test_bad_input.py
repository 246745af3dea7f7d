"""Bad input to every handler that takes input: always a 4xx in the contract's format.

Each case states the answers it may get (status and error code); none may be a 500, none may
echo the submitted password, and a refused request changes nothing (checked after the
request: the email is still free, the profile unchanged, the session still alive). Runs on
SQLite and on Postgres through the ``client`` fixture.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, assert_error, bearer, register

MARKER = "Zq7-unique-Secret-Marker"
PW = MARKER + "-pass"  # a valid password that must never come back in a response
TEN_MB = 10 * 1024 * 1024
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}

VALIDATION = {(422, "validation_error")}
UNPARSEABLE = {(400, "bad_request"), (422, "validation_error")}
TOO_LARGE = {(413, "payload_too_large")}
BAD_CREDENTIALS = {(401, "invalid_credentials")}
NO_REFRESH_TOKEN = {(401, "not_authenticated")}
BAD_REFRESH_TOKEN = {(401, "invalid_token")}
NO_SUCH_SESSION = {(404, "not_found")}


def assert_contract_4xx(response: httpx.Response, allowed: set[tuple[int, str]]) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert MARKER not in response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert (response.status_code, error["code"]) in allowed, (response.status_code, error)


async def chunks(total: int, chunk: bytes = b"x" * 65536) -> AsyncIterator[bytes]:
    """A streamed body: httpx sends it chunked, without Content-Length."""
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


def huge_json(**fields: Any) -> bytes:
    """A 10 MB JSON object that starts like a valid request."""
    start = b"{" + b"".join(f'"{k}":"{v}",'.encode() for k, v in fields.items())
    return start + b'"filler":"' + b"x" * (TEN_MB - len(start) - 13) + b'"}'


def fresh_email() -> str:
    return f"bad-input-{secrets.token_hex(4)}@example.com"


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    request: Callable[[], dict[str, Any]]
    allowed: set[tuple[int, str]] = field(default_factory=lambda: VALIDATION)
    auth: bool = False


def json_body(body: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"json": body}


def raw(content: bytes, headers: dict[str, str] | None = None) -> Callable[[], dict[str, Any]]:
    return lambda: {"content": content, "headers": JSON if headers is None else headers}


def streamed(headers: dict[str, str]) -> Callable[[], dict[str, Any]]:
    return lambda: {"content": chunks(TEN_MB), "headers": headers}


def register_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "someone@example.com",
        "password": PW,
        "display_name": "Some One",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def json_cases(
    name: str, method: str, path: str, *, auth: bool, valid: dict[str, Any]
) -> list[Case]:
    """The bad bodies every JSON handler must refuse the same way."""
    first = next(iter(valid))
    return [
        Case(f"{name}-array", method, path, json_body([valid]), auth=auth),
        Case(f"{name}-array-of-numbers", method, path, json_body([1, 2]), auth=auth),
        Case(f"{name}-string", method, path, json_body("x"), auth=auth),
        Case(f"{name}-number", method, path, json_body(42), auth=auth),
        Case(f"{name}-extra-field", method, path, json_body({**valid, "role": "admin"}), auth=auth),
        Case(f"{name}-wrong-type-int", method, path, json_body({**valid, first: 5}), auth=auth),
        Case(
            f"{name}-wrong-type-list", method, path, json_body({**valid, first: ["x"]}), auth=auth
        ),
        Case(f"{name}-wrong-type-object", method, path, json_body({first: {"a": 1}}), auth=auth),
        Case(f"{name}-wrong-type-bool", method, path, json_body({first: True}), auth=auth),
        Case(f"{name}-malformed-json", method, path, raw(b'{"a": '), UNPARSEABLE, auth),
        Case(f"{name}-trailing-garbage", method, path, raw(b"{}}"), UNPARSEABLE, auth),
        Case(f"{name}-invalid-utf8", method, path, raw(b"\xff\xfe\xfd"), UNPARSEABLE, auth),
        Case(
            f"{name}-invalid-utf8-in-string",
            method,
            path,
            raw(b'{"' + first.encode() + b'":"\xc3\x28\xff"}'),
            UNPARSEABLE,
            auth,
        ),
        Case(
            f"{name}-lone-surrogate",
            method,
            path,
            raw(b'{"' + first.encode() + b'":"\\ud800"}'),
            auth=auth,
        ),
        Case(
            f"{name}-deep-nesting",
            method,
            path,
            raw(b"[" * 100_000 + b"]" * 100_000),
            UNPARSEABLE,
            auth,
        ),
        Case(
            f"{name}-10MB-content-length",
            method,
            path,
            raw(huge_json(**{k: v for k, v in valid.items() if isinstance(v, str)})),
            TOO_LARGE,
            auth,
        ),
        Case(f"{name}-10MB-chunked", method, path, streamed(JSON), TOO_LARGE, auth),
        Case(
            f"{name}-text-plain",
            method,
            path,
            lambda: {
                "content": str(valid).replace("'", '"'),
                "headers": {"content-type": "text/plain"},
            },
            auth=auth,
        ),
        Case(f"{name}-form-encoded", method, path, lambda: {"data": valid}, auth=auth),
    ]


REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
SESSIONS = "/api/v1/auth/sessions"

CASES: list[Case] = [
    # -- POST /auth/register --
    *json_cases("register", "POST", REGISTER, auth=False, valid=register_body()),
    Case("register-null", "POST", REGISTER, raw(b"null")),
    Case("register-empty-body", "POST", REGISTER, raw(b"")),
    Case("register-empty-body-no-type", "POST", REGISTER, lambda: {"content": b""}),
    Case("register-empty-object", "POST", REGISTER, json_body({})),
    Case("register-missing-password", "POST", REGISTER, json_body(register_body(password=...))),
    Case("register-missing-email", "POST", REGISTER, json_body(register_body(email=...))),
    Case("register-missing-name", "POST", REGISTER, json_body(register_body(display_name=...))),
    Case("register-null-password", "POST", REGISTER, json_body(register_body(password=None))),
    Case("register-int-password", "POST", REGISTER, json_body(register_body(password=12345678))),
    Case("register-email-no-at", "POST", REGISTER, json_body(register_body(email="x.example.com"))),
    Case("register-email-is-password", "POST", REGISTER, json_body(register_body(email=PW))),
    Case("register-email-empty", "POST", REGISTER, json_body(register_body(email=""))),
    Case("register-email-two-at", "POST", REGISTER, json_body(register_body(email="a@b@c.com"))),
    Case(
        "register-email-10k",
        "POST",
        REGISTER,
        json_body(register_body(email="a" * 10_000 + "@x.io")),
    ),
    Case(
        "register-password-10k",
        "POST",
        REGISTER,
        json_body(register_body(password=PW + "x" * 10_000)),
    ),
    Case("register-password-short", "POST", REGISTER, json_body(register_body(password="Zq7-ab"))),
    Case(
        "register-password-common", "POST", REGISTER, json_body(register_body(password="password1"))
    ),
    Case("register-password-empty", "POST", REGISTER, json_body(register_body(password=""))),
    Case("register-name-blank", "POST", REGISTER, json_body(register_body(display_name="   "))),
    Case(
        "register-name-10k", "POST", REGISTER, json_body(register_body(display_name="n" * 10_000))
    ),
    Case(
        "register-name-is-password",
        "POST",
        REGISTER,
        json_body(register_body(display_name=PW * 10)),
    ),
    # -- POST /auth/login --
    *json_cases(
        "login", "POST", LOGIN, auth=False, valid={"email": "a@example.com", "password": PW}
    ),
    Case("login-null", "POST", LOGIN, raw(b"null")),
    Case("login-empty-body", "POST", LOGIN, raw(b"")),
    Case("login-missing-password", "POST", LOGIN, json_body({"email": "a@example.com"})),
    Case("login-missing-email", "POST", LOGIN, json_body({"password": PW})),
    Case(
        "login-null-password",
        "POST",
        LOGIN,
        json_body({"email": "a@example.com", "password": None}),
    ),
    Case(
        "login-email-no-at",
        "POST",
        LOGIN,
        json_body({"email": "nobody.example.com", "password": PW}),
        VALIDATION | BAD_CREDENTIALS,
    ),
    Case(
        "login-password-10k",
        "POST",
        LOGIN,
        json_body({"email": "a@example.com", "password": PW + "x" * 10_000}),
    ),
    Case(
        "login-email-10k",
        "POST",
        LOGIN,
        json_body({"email": "a" * 10_000 + "@x.io", "password": PW}),
    ),
    Case(
        "login-device-token-10k",
        "POST",
        LOGIN,
        json_body({"email": "a@example.com", "password": PW, "device_token": "d1." * 3_000}),
    ),
    Case(
        "login-device-token-int",
        "POST",
        LOGIN,
        json_body({"email": "a@example.com", "password": PW, "device_token": 5}),
    ),
    Case(
        "login-device-token-empty",
        "POST",
        LOGIN,
        json_body({"email": "a@example.com", "password": PW, "device_token": ""}),
    ),
    Case(
        "login-device-token-malformed",  # not an error: an unknown client
        "POST",
        LOGIN,
        json_body({"email": "a@example.com", "password": PW, "device_token": "d1.\u0000.x"}),
        BAD_CREDENTIALS,
    ),
    # -- POST /auth/token (form) --
    Case(
        "token-device-token-10k",
        "POST",
        TOKEN,
        lambda: {
            "data": {"username": "a@example.com", "password": PW, "device_token": "x" * 10_000}
        },
    ),
    Case(
        "token-json-body", "POST", TOKEN, json_body({"username": "a@example.com", "password": PW})
    ),
    Case("token-json-array", "POST", TOKEN, json_body([1, 2])),
    Case("token-json-null", "POST", TOKEN, raw(b"null")),
    Case("token-empty-body", "POST", TOKEN, raw(b"", FORM)),
    Case("token-missing-password", "POST", TOKEN, lambda: {"data": {"username": "a@example.com"}}),
    Case("token-missing-username", "POST", TOKEN, lambda: {"data": {"password": PW}}),
    Case(
        "token-username-no-at",
        "POST",
        TOKEN,
        lambda: {"data": {"username": "nobody", "password": PW}},
        VALIDATION | BAD_CREDENTIALS,
    ),
    Case(
        "token-password-10k",
        "POST",
        TOKEN,
        lambda: {"data": {"username": "a@example.com", "password": PW + "x" * 10_000}},
    ),
    Case(
        "token-invalid-utf8",
        "POST",
        TOKEN,
        raw(b"username=\xff\xfe%ff&password=" + PW.encode() + b"\xc3\x28", FORM),
        UNPARSEABLE | VALIDATION | BAD_CREDENTIALS,
    ),
    Case(
        "token-text-plain",
        "POST",
        TOKEN,
        raw(b"username=a&password=b", {"content-type": "text/plain"}),
    ),
    Case(
        "token-multipart-garbage",
        "POST",
        TOKEN,
        raw(b"garbage", {"content-type": "multipart/form-data; boundary=xyz"}),
        UNPARSEABLE,
    ),
    Case(
        "token-multipart-no-boundary",
        "POST",
        TOKEN,
        raw(b"garbage", {"content-type": "multipart/form-data"}),
        UNPARSEABLE,
    ),
    Case(
        "token-10MB-content-length",
        "POST",
        TOKEN,
        raw(b"username=a%40example.com&password=" + b"x" * TEN_MB, FORM),
        TOO_LARGE,
    ),
    Case("token-10MB-chunked", "POST", TOKEN, streamed(FORM), TOO_LARGE),
    # -- POST /auth/refresh --
    *json_cases("refresh", "POST", REFRESH, auth=False, valid={"refresh_token": "a.1.b"}),
    Case("refresh-null", "POST", REFRESH, raw(b"null"), NO_REFRESH_TOKEN),
    Case("refresh-empty-body", "POST", REFRESH, raw(b""), NO_REFRESH_TOKEN),
    Case("refresh-empty-object", "POST", REFRESH, json_body({}), NO_REFRESH_TOKEN | VALIDATION),
    Case("refresh-empty-token", "POST", REFRESH, json_body({"refresh_token": ""})),
    Case("refresh-token-10k", "POST", REFRESH, json_body({"refresh_token": "a" * 10_000})),
    *[
        Case(
            f"refresh-garbage-{i}",
            "POST",
            REFRESH,
            json_body({"refresh_token": t}),
            BAD_REFRESH_TOKEN,
        )
        for i, t in enumerate(
            [
                "x",
                "a.b.c",
                "..",
                "a.1.b.c",
                "00000000-0000-0000-0000-000000000000.-1.x",
                "00000000-0000-0000-0000-000000000000.99999999999999999999999999.x",
                "00000000-0000-0000-0000-000000000000.1e9.x",
                "00000000-0000-0000-0000-000000000000.\u0661.x",  # an Arabic-Indic digit
                "é.1.ü",
            ]
        )
    ],
    # -- POST /auth/logout (signed in) --
    *json_cases("logout", "POST", LOGOUT, auth=True, valid={"scope": "local"}),
    Case("logout-unknown-scope", "POST", LOGOUT, json_body({"scope": "all"}), auth=True),
    Case("logout-scope-case", "POST", LOGOUT, json_body({"scope": "GLOBAL"}), auth=True),
    Case("logout-scope-10k", "POST", LOGOUT, json_body({"scope": "l" * 10_000}), auth=True),
    # -- PATCH /users/me (signed in) --
    *json_cases("patch-me", "PATCH", ME, auth=True, valid={"display_name": "New Name"}),
    Case("patch-me-null", "PATCH", ME, raw(b"null"), auth=True),
    Case("patch-me-empty-body", "PATCH", ME, raw(b""), auth=True),
    Case("patch-me-name-empty", "PATCH", ME, json_body({"display_name": ""}), auth=True),
    Case("patch-me-name-10k", "PATCH", ME, json_body({"display_name": "n" * 10_000}), auth=True),
    Case("patch-me-role", "PATCH", ME, json_body({"role": "admin"}), auth=True),
    Case("patch-me-email", "PATCH", ME, json_body({"email": "x@example.com"}), auth=True),
    Case("patch-me-password", "PATCH", ME, json_body({"password": PW}), auth=True),
    # -- DELETE /auth/sessions/{id} (signed in) --
    Case(
        "delete-session-unknown",
        "DELETE",
        f"{SESSIONS}/00000000-0000-0000-0000-000000000000",
        lambda: {},
        NO_SUCH_SESSION,
        True,
    ),
    Case(
        "delete-session-long-id",
        "DELETE",
        f"{SESSIONS}/{'a' * 10_000}",
        lambda: {},
        NO_SUCH_SESSION,
        True,
    ),
    Case(
        "delete-session-bad-utf8", "DELETE", f"{SESSIONS}/%ff%fe", lambda: {}, NO_SUCH_SESSION, True
    ),
    Case(
        "delete-session-emoji",
        "DELETE",
        f"{SESSIONS}/%F0%9F%98%80",
        lambda: {},
        NO_SUCH_SESSION,
        True,
    ),
    Case(
        "delete-session-quote",
        "DELETE",
        f"{SESSIONS}/%27%20OR%201%3D1--",
        lambda: {},
        NO_SUCH_SESSION,
        True,
    ),
    Case(
        "delete-session-10MB-content-length",
        "DELETE",
        f"{SESSIONS}/x",
        raw(huge_json()),
        TOO_LARGE,
        True,
    ),
]


@pytest.fixture
async def session(client: httpx.AsyncClient) -> dict[str, Any]:
    """A signed-in user; cookies dropped so only the bearer header authenticates."""
    data = await register(client)
    client.cookies.clear()
    return data


async def send(client: httpx.AsyncClient, case: Case, headers: dict[str, str]) -> httpx.Response:
    kwargs = case.request()
    kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
    return await client.request(case.method, case.path, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_is_a_4xx_in_contract_format(
    client: httpx.AsyncClient, session: dict[str, Any], case: Case
) -> None:
    headers = bearer(session) if case.auth else {}
    response = await send(client, case, headers)
    assert_contract_4xx(response, case.allowed)
    # Whatever was refused, the signed-in user is untouched and still signed in.
    me = await client.get(ME, headers=bearer(session))
    assert me.status_code == 200, me.text
    assert me.json() == session["user"]


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# -- nothing was created or changed -----------------------------------------------------


REFUSED_REGISTRATIONS: dict[str, Callable[[str], dict[str, Any]]] = {
    "extra-field": lambda e: {"json": register_body(email=e, role="admin")},
    "password-10k": lambda e: {"json": register_body(email=e, password=PW + "x" * 10_000)},
    "password-short": lambda e: {"json": register_body(email=e, password="Zq7-ab")},
    "password-common": lambda e: {"json": register_body(email=e, password="iloveyou")},
    "name-10k": lambda e: {"json": register_body(email=e, display_name="n" * 10_000)},
    "name-blank": lambda e: {"json": register_body(email=e, display_name=" ")},
    "name-wrong-type": lambda e: {"json": register_body(email=e, display_name=7)},
    "array": lambda e: {"json": [register_body(email=e)]},
    "text-plain": lambda e: {
        "content": f'{{"email":"{e}","password":"{PW}","display_name":"A"}}',
        "headers": {"content-type": "text/plain"},
    },
    "form-encoded": lambda e: {"data": register_body(email=e)},
    "10MB-content-length": lambda e: {
        "content": huge_json(email=e, password=PW, display_name="A"),
        "headers": JSON,
    },
    "10MB-chunked": lambda e: {
        "content": _prefixed_chunks(f'{{"email":"{e}","password":"{PW}","display_name":"A",'),
        "headers": JSON,
    },
}


async def _prefixed_chunks(prefix: str) -> AsyncIterator[bytes]:
    yield prefix.encode() + b'"filler":"'
    async for chunk in chunks(TEN_MB):
        yield chunk


@pytest.mark.parametrize(
    "make_request", list(REFUSED_REGISTRATIONS.values()), ids=list(REFUSED_REGISTRATIONS)
)
async def test_refused_registration_creates_nothing(
    client: httpx.AsyncClient, make_request: Callable[[str], dict[str, Any]]
) -> None:
    email = fresh_email()
    response = await client.post(REGISTER, **make_request(email))
    assert_contract_4xx(response, VALIDATION | TOO_LARGE)
    assert not response.cookies, "a refused registration must not sign anyone in"
    # No account exists: logging in fails, and the email is still free to register.
    login = await client.post(LOGIN, json={"email": email, "password": PW})
    assert_error(login, 401, "invalid_credentials")
    created = await register(client, email=email, password=PW)
    assert created["user"]["email"] == email
    assert created["user"]["display_name"] == "Tester"
    assert MARKER not in str(created)


async def test_refused_patch_changes_nothing(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    for body in (
        {"display_name": "Evil", "role": "admin"},
        {"display_name": "Evil", "email_verified": True},
        {"display_name": "Evil", "email": "evil@example.com"},
        [{"display_name": "Evil"}],
        {"display_name": "E" * 10_000},
    ):
        response = await client.patch(ME, json=body, headers=bearer(session))
        assert_contract_4xx(response, VALIDATION)
    me = (await client.get(ME, headers=bearer(session))).json()
    assert me == session["user"]
    assert me["role"] == "user" and me["display_name"] == "Tester"


async def test_refused_logout_keeps_every_session(client: httpx.AsyncClient) -> None:
    email = fresh_email()
    first = await register(client, email=email)
    client.cookies.clear()
    second = (await client.post(LOGIN, json={"email": email, "password": PASSWORD})).json()
    client.cookies.clear()
    for body in ({"scope": "everything"}, {"scope": "global", "x": 1}, ["global"], {"scope": 1}):
        response = await client.post(LOGOUT, json=body, headers=bearer(first))
        assert_contract_4xx(response, VALIDATION)
    for s in (first, second):
        assert (await client.get(ME, headers=bearer(s))).status_code == 200
    listed = await client.get(SESSIONS, headers=bearer(first))
    assert len(listed.json()) == 2


async def test_deleting_another_users_session_is_404_and_harmless(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    victim = await register(client)
    client.cookies.clear()
    sessions = (await client.get(SESSIONS, headers=bearer(victim))).json()
    victim_sid = sessions[0]["id"]
    response = await client.delete(f"{SESSIONS}/{victim_sid}", headers=bearer(session))
    assert_contract_4xx(response, NO_SUCH_SESSION)
    assert (await client.get(ME, headers=bearer(victim))).status_code == 200


async def test_refused_login_does_not_sign_in(client: httpx.AsyncClient) -> None:
    email = fresh_email()
    await register(client, email=email, password=PW)
    client.cookies.clear()
    for body in (
        {"email": email, "password": PW, "remember": True},
        {"email": email, "password": PW + "x" * 10_000},
        [{"email": email, "password": PW}],
        {"email": [email], "password": PW},
    ):
        response = await client.post(LOGIN, json=body)
        assert_contract_4xx(response, VALIDATION)
        assert "access_token" not in response.text
        assert not response.cookies


# -- the password never comes back ---------------------------------------------------------


async def test_successful_answers_do_not_contain_the_password(client: httpx.AsyncClient) -> None:
    email = fresh_email()
    responses = [await client.post(REGISTER, json=register_body(email=email))]
    responses.append(await client.post(LOGIN, json={"email": email, "password": PW}))
    responses.append(await client.post(TOKEN, data={"username": email, "password": PW}))
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert MARKER not in response.text
        assert "argon2" not in response.text
        assert all(MARKER not in v for v in response.headers.values())


async def test_failed_logins_do_not_contain_the_password(client: httpx.AsyncClient) -> None:
    email = fresh_email()
    await register(client, email=email)
    client.cookies.clear()
    for response in (
        await client.post(LOGIN, json={"email": email, "password": PW}),
        await client.post(LOGIN, json={"email": PW, "password": PW}),
        await client.post(TOKEN, data={"username": email, "password": PW}),
        await client.post(TOKEN, data={"username": PW, "password": PW}),
    ):
        assert_contract_4xx(response, BAD_CREDENTIALS)


# -- unknown routes and wrong methods ---------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/nope"),
        ("POST", "/api/v1/auth/nope"),
        ("GET", "/api/v1/users/me/nope"),
        ("GET", "/nope"),
        ("GET", "/api/v2/users/me"),
        ("DELETE", "/api/v1/auth/sessions/a/b"),
    ],
)
async def test_unknown_route_is_404_in_contract_format(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", REGISTER, "POST"),
        ("PUT", LOGIN, "POST"),
        ("GET", TOKEN, "POST"),
        ("DELETE", REFRESH, "POST"),
        ("GET", LOGOUT, "POST"),
        ("POST", ME, "DELETE, GET, PATCH"),
        ("OPTIONS", ME, "DELETE, GET, PATCH"),
        ("DELETE", SESSIONS, "GET"),
        ("POST", f"{SESSIONS}/abc", "DELETE"),
        ("POST", f"{ME}/avatar", "DELETE, PUT"),
        ("TRACE", f"{ME}/lists", "GET, POST"),
        ("GET", f"{ME}/lists/import", "POST"),  # "import" is no list's slug
        ("POST", f"{ME}/lists/favorites", "DELETE, GET, PATCH"),
        ("POST", f"{ME}/lists/favorites/items/5", "DELETE, GET, PUT"),
        ("PUT", "/api/v1/rooms/abc", "DELETE, GET, PATCH"),
        ("PUT", "/api/v1/rooms", "GET, POST"),
        ("PATCH", "/healthz", "GET"),
    ],
)
async def test_wrong_method_is_405_in_contract_format(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    """The ``Allow`` header names every method the path has, not only the first route's."""
    response = await client.request(method, path, json={"x": 1})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allowed


# -- NUL characters: fine for SQLite, refused by Postgres' text type ---------------------------


NUL_CASES = [
    Case(
        "login-email",
        "POST",
        LOGIN,
        json_body({"email": "a\u0000b@example.com", "password": PW}),
        VALIDATION | BAD_CREDENTIALS,
    ),
    Case(
        "token-username",
        "POST",
        TOKEN,
        lambda: {"data": {"username": "a\u0000b@example.com", "password": PW}},
        VALIDATION | BAD_CREDENTIALS,
    ),
    Case(
        "refresh-token",
        "POST",
        REFRESH,
        json_body({"refresh_token": "a\u0000b.1.c"}),
        VALIDATION | BAD_REFRESH_TOKEN,
    ),
    Case("delete-session", "DELETE", f"{SESSIONS}/a%00b", lambda: {}, NO_SUCH_SESSION, True),
]


@pytest.mark.parametrize("case", NUL_CASES, ids=[c.id for c in NUL_CASES])
async def test_nul_character_is_not_a_500(
    client: httpx.AsyncClient, session: dict[str, Any], case: Case
) -> None:
    response = await send(client, case, bearer(session) if case.auth else {})
    assert_contract_4xx(response, case.allowed)


@pytest.mark.parametrize("where", ["register", "patch"])
async def test_nul_in_display_name_is_refused(
    client: httpx.AsyncClient, session: dict[str, Any], where: str
) -> None:
    if where == "register":
        response = await client.post(
            REGISTER, json=register_body(email=fresh_email(), display_name="a\u0000b")
        )
    else:
        response = await client.patch(
            ME, json={"display_name": "a\u0000b"}, headers=bearer(session)
        )
    assert_contract_4xx(response, VALIDATION)
