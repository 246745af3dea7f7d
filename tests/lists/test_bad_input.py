"""A sweep of hostile input over every list endpoint: always a 4xx in the contract's
format, never a 500."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import bearer, register

SEGMENTS = ["favorites", "x" * 500, "%00", "%ff", "%ED%A0%80", "..", "a%2Fb", "-", "0", "🎬"]
MOVIES = ["1", "0", "-5", "1e30", "abc", "2147483648", "%00", "1.0", "9" * 400, "nan"]
BODIES: list[Any] = [
    None,
    {},
    [],
    "x",
    {"note": None},
    {"note": {"a": 1}},
    {"title": "t" * 1000},
    {"title": "ok", "is_public": None},
    {"favorites": [[[]]]},
]


def _contract_error(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.url, response.text)
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)


async def test_no_500_for_bad_input(client: httpx.AsyncClient) -> None:
    session = await register(client)
    headers = bearer(session)
    base = "/api/v1/users/me/lists"
    owner = session["user"]["id"]
    for segment in SEGMENTS:
        for body in BODIES:
            for method in ("GET", "PATCH", "DELETE"):
                _contract_error(
                    await client.request(method, f"{base}/{segment}", json=body, headers=headers)
                )
        for movie in MOVIES:
            for method in ("GET", "PUT", "DELETE"):
                _contract_error(
                    await client.request(
                        method,
                        f"{base}/{segment}/items/{movie}",
                        json={"note": "n"},
                        headers=headers,
                    )
                )
        for query in ("limit=-1", "limit=1e9", "cursor=%00", "order=%00", "cursor=" + "A" * 150):
            _contract_error(await client.get(f"{base}/{segment}/items?{query}", headers=headers))
            _contract_error(await client.get(f"/api/v1/users/{segment}/lists/{segment}/items"))
            _contract_error(await client.get(f"/api/v1/users/{owner}/lists/{segment}/items"))
    for body in BODIES:
        _contract_error(await client.post(base, json=body, headers=headers))
        _contract_error(await client.post(f"{base}/import", json=body, headers=headers))
    raw_bodies = [b"", b"{", b"\xff\xfe", b'{"title": "\\ud800"}', b"null", b"1" * 10_000]
    for raw in raw_bodies:
        for path in (base, f"{base}/import", f"{base}/favorites/items/1"):
            for method in ("POST", "PUT", "PATCH"):
                _contract_error(
                    await client.request(
                        method,
                        path,
                        content=raw,
                        headers={**headers, "Content-Type": "application/json"},
                    )
                )
