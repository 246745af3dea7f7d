"""One user's view of the movie-lists API, for the list tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import bearer

BASE = "/api/v1/users/me/lists"


class Lists:
    """One user's view of the lists API, with their bearer token on every request."""

    def __init__(self, client: httpx.AsyncClient, session: dict[str, Any]) -> None:
        self.client = client
        self.session = session
        self.user_id: str = session["user"]["id"]
        self.headers = bearer(session)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, BASE + path, headers=headers, **kwargs)

    async def all(self) -> list[dict[str, Any]]:
        response = await self.request("GET", "")
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()
        return result

    async def get(self, slug: str) -> dict[str, Any]:
        response = await self.request("GET", f"/{slug}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def create(self, title: str, **extra: Any) -> dict[str, Any]:
        response = await self.request("POST", "", json={"title": title, **extra})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def put(self, slug: str, movie_id: int | str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", f"/{slug}/items/{movie_id}", **kwargs)

    async def add(self, slug: str, *movie_ids: int) -> None:
        for movie_id in movie_ids:
            response = await self.put(slug, movie_id)
            assert response.status_code in (200, 201), response.text

    async def remove(self, slug: str, movie_id: int | str) -> httpx.Response:
        return await self.request("DELETE", f"/{slug}/items/{movie_id}")

    async def page(
        self, slug: str, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        return await self.request("GET", f"/{slug}/items", params=params, headers=headers or {})

    async def walk(self, slug: str, **params: Any) -> list[int]:
        """Every movie id of a list, following cursors."""
        seen: list[int] = []
        cursor = None
        while True:
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            response = await self.page(slug, **query)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [item["movie_id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return seen

    async def import_(self, body: Any) -> httpx.Response:
        return await self.request("POST", "/import", json=body)
