"""The schema under the lists: account deletion cascades, the page query's index, and the
migration giving accounts made before it their built-in lists."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from alembic import command
from sqlalchemy import func, select, text

from maria.db import make_engine
from maria.lists.models import ListItem, MovieList
from maria.lists.pages import page_statement
from maria.lists.paging import page_query
from maria.migrate import alembic_config, upgrade
from tests.support.api import bearer
from tests.support.app import make_admin, reading
from tests.support.lists import Lists

INDEX = "ix_list_items_list_id_added_at_movie_id"


async def _counts(app: Any, user_id: str) -> tuple[int, int]:
    async with reading(app) as db:
        lists = await db.execute(
            select(func.count()).select_from(MovieList).where(MovieList.user_id == user_id)
        )
        items = await db.execute(
            select(func.count())
            .select_from(ListItem)
            .join(MovieList, MovieList.id == ListItem.list_id)
            .where(MovieList.user_id == user_id)
        )
        return lists.scalar_one(), items.scalar_one()


async def test_deleting_an_account_deletes_its_lists(
    app: Any, client: httpx.AsyncClient, alice: Lists, bob: Lists
) -> None:
    await alice.create("Mine", is_public=True)
    await alice.add("mine", 1, 2)
    await alice.import_({"favorites": [1, 2, 3], "watch-later": [4]})
    await bob.add("favorites", 1)
    assert await _counts(app, alice.user_id) == (3, 6)
    admin = await make_admin(app, client)
    response = await client.delete(f"/api/v1/admin/users/{alice.user_id}", headers=bearer(admin))
    assert response.status_code == 204
    assert await _counts(app, alice.user_id) == (0, 0)
    assert await _counts(app, bob.user_id) == (2, 1)  # others untouched
    client.cookies.clear()
    gone = await client.get(f"/api/v1/users/{alice.user_id}/lists/mine/items")
    assert gone.status_code == 404


async def _plan(app: Any, statement: Any, params: dict[str, Any]) -> str:
    engine = app.state.services.database.engine
    bound = statement.params(params)
    sql = str(bound.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE list_items"))
            rows = await conn.execute(text("EXPLAIN " + sql))
        else:
            await conn.execute(text("ANALYZE"))
            rows = await conn.execute(text("EXPLAIN QUERY PLAN " + sql))
        return "\n".join(" ".join(str(col) for col in row) for row in rows)


def _parent(lines: list[str], child: int) -> str:
    """The plan node a Postgres EXPLAIN line hangs from (the closest less indented node)."""
    depth = lines[child].index("->")
    for line in reversed(lines[:child]):
        if "->" in line and line.index("->") < depth:
            return line
    return lines[0]


async def test_page_query_uses_the_index(app: Any, alice: Lists, bob: Lists) -> None:
    """EXPLAIN of the real page statement (first page and after a cursor, both orders): the
    items come from a range scan of the index, in index order and cut at limit + 1; the only
    sort is of those few rows, after the join with the list row."""
    await alice.import_({"favorites": list(range(1, 5001)), "watch-later": list(range(1, 3001))})
    await bob.import_({"favorites": list(range(1, 2001))})
    postgres = app.state.services.database.engine.dialect.name == "postgresql"
    for order in ("newest", "oldest"):
        first = (await alice.page("favorites", order=order)).json()
        for cursor in (None, first["next_cursor"]):
            query = page_query(order=order, limit=20, cursor=cursor)  # type: ignore[arg-type]
            plan = await _plan(app, *page_statement(alice.user_id, "favorites", query))
            assert INDEX in plan, plan
            lines = plan.splitlines()
            if postgres:
                assert "Seq Scan" not in plan, plan
                scan = next(i for i, line in enumerate(lines) if INDEX in line)
                assert _parent(lines, scan).lstrip(" ->").startswith("Limit"), plan
                assert "list_id" in lines[scan + 1] and "Index Cond" in lines[scan + 1], plan
                if cursor:  # the cursor bound is part of the index range, not a filter
                    assert "ROW(added_at, movie_id)" in lines[scan + 1], plan
                sorts = [line for line in lines if "Sort  (" in line]
                assert len(sorts) <= 1 and (not sorts or "rows=21 " in sorts[0]), plan
            else:
                assert "SCAN list_items" not in plan, plan
                # Only the outer ORDER BY (over the materialised page) uses a temp b-tree.
                assert all(line.split()[1] == "0" for line in lines if "TEMP B-TREE" in line)
                if cursor:
                    assert "(added_at,movie_id)" in plan, plan


def test_migration_adds_builtins_for_existing_accounts(database_url: str) -> None:
    """Downgrade to 0001, make an account the old way, upgrade: it has its built-ins."""
    cfg = alembic_config(database_url)
    command.downgrade(cfg, "0001")
    try:
        asyncio.run(_insert_legacy_user(database_url))
    finally:
        upgrade(database_url)
    slugs = asyncio.run(_slugs_of(database_url, "legacy-user"))
    assert slugs == [("favorites", True), ("watch-later", True)]


async def _insert_legacy_user(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, display_name, role,"
                    " email_verified, disabled, created_at, updated_at) VALUES ('legacy-user',"
                    " 'old@example.com', 'x', 'Old', 'user', false, false,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    finally:
        await engine.dispose()


async def _slugs_of(url: str, user_id: str) -> list[tuple[str, bool]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(MovieList.slug, MovieList.builtin)
                .where(MovieList.user_id == user_id)
                .order_by(MovieList.slug)
            )
            return [(slug, bool(builtin)) for slug, builtin in rows]
    finally:
        await engine.dispose()
