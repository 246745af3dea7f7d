"""``/metrics``: what each metric counts, that the series stay bounded whatever clients
send, OpenMetrics on request, and the optional bearer token.

The app runs in this process, so the registry is this process's: every check compares a
scrape before with one after (other tests count too).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from maria.app import create_app
from maria.migrate import upgrade
from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import app_and_client, make_settings
from tests.support.rooms import Api, Peer
from tests.support.servers import converge, free_port, uvicorn_thread

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


class Scrape:
    """One /metrics answer, parsed: ``value(name, **labels)`` is 0 for an absent series."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum over every series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)


async def scrape(client: httpx.AsyncClient, **headers: str) -> Scrape:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return Scrape(response.text)


# -- HTTP requests --------------------------------------------------------------------


async def test_requests_are_counted_by_route_template_and_status_class(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    session = await register(client)
    for _ in range(3):
        assert (await client.get("/api/v1/users/me", headers=bearer(session))).status_code == 200
    await client.get("/api/v1/admin/users/does-not-exist", headers=bearer(session))
    await client.get("/no/such/path")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = Scrape(response.text)

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    me = {"method": "GET", "route": "/api/v1/users/me", "status": "2xx"}
    assert delta("maria_http_requests_total", **me) == 3
    assert delta("maria_http_request_duration_seconds_count", **me) == 3
    # Path parameters are reported by template, not by value; statuses by class.
    admin = {"method": "GET", "route": "/api/v1/admin/users/{user_id}", "status": "4xx"}
    assert delta("maria_http_requests_total", **admin) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "4xx"}
    assert delta("maria_http_requests_total", **unmatched) >= 1
    assert "does-not-exist" not in response.text and "/no/such/path" not in response.text
    assert session["access_token"] not in response.text


async def test_a_thousand_distinct_paths_and_ids_add_a_bounded_number_of_series(
    sqlite_client: httpx.AsyncClient,
) -> None:
    client = sqlite_client
    session = await register(client)
    user_id = session["user"]["id"]
    # Warm every route this test uses, so that "before" already has their series.
    await client.get(f"/api/v1/users/{secrets.token_hex(8)}/lists/favorites/items")
    await client.get("/api/v1/admin/users/x", headers=bearer(session))
    await client.request("BREW", "/api/v1/users/me")
    before = await scrape(client)
    ids: list[str] = []
    for i in range(1000):
        token = secrets.token_hex(8)
        ids.append(token)
        kind = i % 5
        headers = {"X-Request-ID": f"rid-{token}"}
        if kind == 0:
            await client.get(f"/{token}/{i}", headers=headers)  # unknown paths
        elif kind == 1:
            await client.get(f"/api/v1/users/{token}/lists/s{token}/items", headers=headers)
        elif kind == 2:
            await client.get(f"/api/v1/admin/users/{token}", headers={**headers, **bearer(session)})
        elif kind == 3:
            await client.get(f"/api/v1/users/me?{token}=1", headers=headers)
        else:
            await client.request(f"M{token[:6].upper()}", f"/api/v1/rooms/{token}", headers=headers)
    after = await scrape(client)
    added = set(after.samples) - set(before.samples)
    # A few new status classes at most (each adds a counter and a histogram's series).
    assert len(added) <= 30, sorted(added)
    for token in ids[:200]:
        assert token not in after.text
    assert user_id not in after.text
    # Odd methods count together.
    assert after.total("maria_http_requests_total", method="other") > before.total(
        "maria_http_requests_total", method="other"
    )


async def test_openmetrics_when_the_scraper_asks(sqlite_client: httpx.AsyncClient) -> None:
    response = await sqlite_client.get("/metrics", headers={"Accept": OPENMETRICS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    assert "maria_http_requests_total" in response.text or "maria_http_requests" in response.text
    plain = await sqlite_client.get("/metrics", headers={"Accept": "text/html"})
    assert plain.headers["content-type"].startswith("text/plain")


@pytest.fixture
async def sqlite_client(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "maria.db")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}", tmp_path)
    async with app_and_client(settings) as (_, client):
        yield client


async def test_a_metrics_token_is_asked_for_when_configured(
    sqlite_template: Path, tmp_path: Path
) -> None:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "maria.db")
    token = secrets.token_urlsafe(24)
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}", tmp_path, metrics_token=token
    )
    async with app_and_client(settings) as (_, client):
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {token}"},
            {"Authorization": f"Bearer {token}x"},
            {"Authorization": "Bearer"},
        ):
            refused = await client.get("/metrics", headers=headers)
            assert_error(refused, 401, "not_authenticated")
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "maria_" not in refused.text
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "maria_http_requests_total" in ok.text
        assert token not in ok.text


# -- what the services count ----------------------------------------------------------


async def test_sign_ins_refreshes_limits_and_revocations(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    email = f"m-{secrets.token_hex(4)}@example.com"
    await register(client, email=email)
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    session = login.json()
    client.cookies.clear()  # a stranger: no device cookie, so the pair's limit applies
    wrong = {"email": email, "password": "not the password at all"}
    statuses = [(await client.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # the pair's limit: 5 failures

    first = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert first.status_code == 200
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert replay.status_code == 200  # a racing duplicate within the grace
    bad = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 10})
    assert bad.status_code == 401
    logout = await client.post("/api/v1/auth/logout", headers=bearer(first.json()))
    assert logout.status_code == 204
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert delta("maria_sign_ins_total", method="password", outcome="success") == 1
    assert delta("maria_sign_ins_total", method="password", outcome="invalid_credentials") == 5
    assert delta("maria_sign_ins_total", method="password", outcome="rate_limited") == 1
    assert delta("maria_rate_limited_total", limit="login_pair") == 1
    assert delta("maria_refreshes_total", outcome="rotated") == 1
    assert delta("maria_refreshes_total", outcome="replayed") == 1
    assert delta("maria_refreshes_total", outcome="refused") == 1
    assert delta("maria_revocations_applied_total", source="local") == 1
    assert delta("maria_revocation_lag_seconds_count", source="local") == 1
    assert delta("maria_db_pool_acquire_seconds_count") > 0
    assert email not in after.text and session["refresh_token"] not in after.text


async def test_refresh_reuse_is_counted(client: httpx.AsyncClient) -> None:
    session = await register(client)
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert rotated.status_code == 200
    before = await scrape(client)
    # A rotated token presented again after the grace is reuse: the grace is 10 s, so the
    # token two generations back is past it at once.
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert again.status_code == 200
    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert_error(reused, 401, "invalid_token")
    after = await scrape(client)
    assert (
        after.value("maria_refreshes_total", outcome="reused")
        - before.value("maria_refreshes_total", outcome="reused")
        == 1
    )


async def test_the_mail_queue_depth_is_read_when_scraped(
    app: Any, client: httpx.AsyncClient
) -> None:
    await app.state.services.mailer.close()  # nothing sends: what is queued stays queued
    await register(client)  # queues the verification mail
    await register(client)
    after = await scrape(client)
    assert after.value("maria_mail_queue_depth") >= 2
    assert after.value("maria_redis_up") == 0  # no Redis configured
    assert after.value("maria_db_pool_connections_in_use") >= 0


async def test_mail_failures_are_counted(database_url: str, tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there: every send fails
    settings = make_settings(database_url, tmp_path, smtp_url=f"smtp://127.0.0.1:{closed}")
    async with app_and_client(settings) as (_, client):
        before = await scrape(client)
        await register(client)

        async def failed() -> bool:
            now = await scrape(client)
            return now.value("maria_mail_failures_total", final="false") > before.value(
                "maria_mail_failures_total", final="false"
            )

        await converge("a mail failure counted", failed, within=15)


async def test_redis_availability(database_url: str, tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(database_url, tmp_path, redis_url=redis_url)
    async with app_and_client(settings) as (_, client):
        assert (await scrape(client)).value("maria_redis_up") == 1


# -- rooms ----------------------------------------------------------------------------


@pytest.fixture
def room_server(tmp_path: Path) -> Iterator[str]:
    """The app served by uvicorn in this process (its metrics are this process's)."""
    db = tmp_path / "maria.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    settings = make_settings(f"sqlite+aiosqlite:///{db}", tmp_path, room_reconnect_grace=0.2)
    with uvicorn_thread(create_app(settings), lifespan="on") as port:
        yield f"http://127.0.0.1:{port}"


async def test_sockets_rooms_chat_and_fanout(room_server: str) -> None:
    async with httpx.AsyncClient(base_url=room_server, timeout=30) as client:
        api = Api(client)
        ann = await api.user("Ann")
        room = await api.room(ann)
        before = await scrape(client)
        peer = await Peer.open(room_server, room["id"], ann["access_token"])
        await peer.send({"type": "chat", "text": "hello"})
        await peer.expect("chat")
        during = await scrape(client)
        await peer.close()

        async def socket_gone() -> bool:
            now = await scrape(client)
            return now.value("maria_websockets_open") == before.value("maria_websockets_open")

        await converge("the socket gauge back down", socket_gone, within=10)

        async def room_gone() -> bool:
            now = await scrape(client)
            return now.value("maria_rooms_open") == before.value("maria_rooms_open")

        await converge("the room gauge back down", room_gone, within=10)

    assert during.value("maria_websockets_open") == before.value("maria_websockets_open") + 1
    assert during.value("maria_rooms_open") == before.value("maria_rooms_open") + 1
    assert (
        during.value("maria_chat_messages_total") == before.value("maria_chat_messages_total") + 1
    )
    assert (
        during.value("maria_room_fanout_lag_seconds_count")
        == before.value("maria_room_fanout_lag_seconds_count") + 1
    )
