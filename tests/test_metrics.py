from __future__ import annotations

import re

import httpx

from tests.support.api import bearer, register


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    session = await register(client)
    for _ in range(3):
        assert (await client.get("/api/v1/users/me", headers=bearer(session))).status_code == 200
    await client.get("/api/v1/admin/users/does-not-exist", headers=bearer(session))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(**labels: str) -> float:
        name = "maria_http_requests_total"
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta(method="GET", route="/api/v1/users/me", status="200") == 3
    # Path parameters are reported by template, not by value.
    assert delta(method="GET", route="/api/v1/admin/users/{user_id}", status="403") == 1
    assert "does-not-exist" not in after
    assert session["access_token"] not in after
