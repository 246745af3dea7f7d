"""The migrations build exactly the schema the models declare (no drift either way)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from maria.db import Base, make_engine
from maria.models import load_all


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    load_all()
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn: Any) -> list[Any]:
                return list(compare_metadata(MigrationContext.configure(sync_conn), Base.metadata))

            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
