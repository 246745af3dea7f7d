"""The identity layer (``maria.http.identity``): who is calling is worked out once, and the
way out of a stale token stays open.

A client that still sends an old, revoked or garbage bearer token must be able to sign in
and refresh; every other API route refuses that token before routing; the routes under
``/auth/`` that need a caller refuse it themselves.
"""

from __future__ import annotations

import gc
from typing import Any

import httpx
import pytest

from tests.support.api import ME, PASSWORD, assert_error, bearer, register

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


async def _stale_session(client: httpx.AsyncClient) -> dict[str, Any]:
    """A signed-in user whose session was then ended: its access token is revoked."""
    session = await register(client)
    response = await client.post("/api/v1/auth/logout", headers=bearer(session))
    assert response.status_code == 204
    assert_error(await client.get(ME, headers=bearer(session)), 401, "invalid_token")
    return session


def _presented(kind: str, session: dict[str, Any]) -> dict[str, str]:
    """The ``Authorization`` header a client with a stale sign-in might still send."""
    values = {
        "revoked": f"Bearer {session['access_token']}",
        "garbage": "Bearer not.a.token",
        "not bearer": "Basic dXNlcjpwYXNz",
        "empty bearer": "Bearer ",
    }
    return {"Authorization": values[kind]}


KINDS = ["revoked", "garbage", "not bearer", "empty bearer"]


@pytest.mark.parametrize("kind", KINDS)
async def test_signing_in_works_while_a_stale_bearer_is_sent(
    client: httpx.AsyncClient, kind: str
) -> None:
    stale = await _stale_session(client)
    client.cookies.clear()
    headers = _presented(kind, stale)
    response = await client.post(
        LOGIN, json={"email": stale["user"]["email"], "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["user"]["id"] == stale["user"]["id"]
    # The new pair works, and refreshing it works with the stale header still attached.
    refreshed = await client.post(
        REFRESH, json={"refresh_token": fresh["refresh_token"]}, headers=headers
    )
    assert refreshed.status_code == 200, refreshed.text
    assert (await client.get(ME, headers=bearer(refreshed.json()))).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
async def test_registering_works_while_a_stale_bearer_is_sent(
    client: httpx.AsyncClient, kind: str
) -> None:
    stale = await _stale_session(client)
    session = await register(client, headers=_presented(kind, stale))
    assert session["user"]["id"] != stale["user"]["id"]


@pytest.mark.parametrize("kind", KINDS)
async def test_routes_under_auth_that_need_a_caller_still_refuse_it(
    client: httpx.AsyncClient, kind: str
) -> None:
    stale = await _stale_session(client)
    client.cookies.clear()
    for method, path in (("GET", "/api/v1/auth/sessions"), ("POST", "/api/v1/auth/logout")):
        response = await client.request(method, path, headers=_presented(kind, stale))
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] in {"invalid_token", "not_authenticated"}


@pytest.mark.parametrize("kind", KINDS)
async def test_other_api_routes_refuse_it_before_routing(
    client: httpx.AsyncClient, kind: str
) -> None:
    """Even a path that does not exist: the token is refused first."""
    stale = await _stale_session(client)
    for path in (ME, "/api/v1/users/me/lists", "/api/v1/no-such-thing"):
        response = await client.get(path, headers=_presented(kind, stale))
        assert response.status_code == 401, (path, response.text)
    # Outside the API nothing is refused: a load balancer's probe always gets through.
    assert (await client.get("/healthz", headers=_presented(kind, stale))).status_code == 200


async def test_refused_tokens_leave_no_reference_cycles(client: httpx.AsyncClient) -> None:
    """A refused token is kept in the scope without its traceback: with it, every refused
    request left a frame-scope-exception cycle for the garbage collector (a third more CPU
    per refusal, and collection pauses in the tail latency)."""
    headers = {"Authorization": "Bearer not.a.token"}
    for _ in range(5):  # warm up: first-use caches are not garbage
        await client.get(ME, headers=headers)
    gc.collect()
    gc.disable()
    try:
        for _ in range(100):  # the in-process client leaves some cycles of its own
            await client.get("/healthz")
        baseline = gc.collect()
        for _ in range(100):
            assert (await client.get(ME, headers=headers)).status_code == 401
        refused = gc.collect()
    finally:
        gc.enable()
    # Measured: 2,200 objects after /healthz, 2,300 after refusals; 7,900 with tracebacks.
    assert refused < baseline * 1.5, (baseline, refused)
