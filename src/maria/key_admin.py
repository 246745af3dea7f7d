"""``maria keys``: list, rotate and retire signing keys from the command line."""

from __future__ import annotations

from datetime import datetime

from maria.config import Settings
from maria.db import open_database
from maria.keys.service import KeyInfo, key_ring


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at is not None else "-"


def table(infos: list[KeyInfo]) -> str:
    rows = [("KID", "ALG", "STATE", "SIGNS FROM (UTC)", "REFUSED FROM (UTC)", "SOURCE")]
    rows += [
        (i.kid, i.alg, i.state, _when(i.activates_at), _when(i.retired_at), i.source) for i in infos
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


async def keys_command(
    settings: Settings, action: str, kid: str | None = None, *, now: bool = False
) -> str:
    """Run one ``maria keys`` action; its output. ``KeyProblem`` says why it cannot.
    ``now``: ``retire --now`` (refuse at once), ``rotate --now`` (sign once the instances
    have the key, without waiting for JWK Set caches)."""
    database = open_database(settings.resolved_database_url)
    ring = key_ring(settings, database)
    try:
        if action == "rotate":
            info = await ring.rotate(urgent=now)
            return f"new {info.alg} key {info.kid}: signs from {_when(info.activates_at)} UTC"
        if action == "retire":
            assert kid is not None
            info = await ring.retire(kid, immediately=now)
            return f"retired {info.kid}: refused from {_when(info.retired_at)} UTC"
        return table(await ring.describe())
    finally:
        await database.close()
