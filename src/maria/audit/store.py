"""The audit events table: append in the caller's transaction, read in keyset pages."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from maria.audit.models import AuditEvent
from maria.db import new_id, utcnow
from maria.errors import BadCursor

_TABLE = cast(Table, AuditEvent.__table__)
_INSERT = insert(_TABLE)
Db = AsyncSession | AsyncConnection
_ID = re.compile(r"[0-9a-f-]{1,36}")  # the event id in a cursor: a UUID, nothing to trip SQL


@dataclass(frozen=True, slots=True)
class EventView:
    id: str
    at: datetime
    event: str
    user_id: str | None
    actor_id: str | None
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any] | None


def _view(row: Any) -> EventView:
    detail = json.loads(row.detail) if row.detail else None
    return EventView(
        row.id, row.at, row.event, row.user_id, row.actor_id, row.ip, row.user_agent, detail
    )


async def append(
    db: Db,
    event: str,
    *,
    user_id: str | None,
    actor_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await db.execute(
        _INSERT,
        {
            "id": new_id(),
            "at": utcnow(),
            "event": event,
            "user_id": user_id,
            "actor_id": actor_id,
            "ip": ip[:64] if ip else None,
            "user_agent": user_agent[:512] if user_agent else None,
            "detail": json.dumps(detail, separators=(",", ":")) if detail else None,
        },
    )


def _encode_cursor(view: EventView) -> str:
    raw = f"{view.at.isoformat()}|{view.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        at, event_id = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor() from None
    if moment.tzinfo is None or not _ID.fullmatch(event_id):
        raise BadCursor()
    return moment, event_id


async def page(
    db: Db,
    *,
    user_id: str | None,
    event: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[EventView], str | None]:
    """Events newest first, optionally one user's or one kind's; keyset on ``(at, id)``."""
    c = _TABLE.c
    stmt = select(_TABLE).order_by(c.at.desc(), c.id.desc()).limit(limit + 1)
    if user_id is not None:
        stmt = stmt.where(c.user_id == user_id)
    if event is not None:
        stmt = stmt.where(c.event == event)
    if cursor is not None:
        at, event_id = _decode_cursor(cursor)
        stmt = stmt.where(tuple_(c.at, c.id) < tuple_(at, event_id))
    views = [_view(row) for row in await db.execute(stmt)]
    next_cursor = _encode_cursor(views[limit - 1]) if len(views) > limit else None
    return views[:limit], next_cursor


async def forget_user(db: Db, user_id: str) -> None:
    """An account is gone: its events go, and its acts as an admin name nobody."""
    await db.execute(delete(_TABLE).where(_TABLE.c.user_id == user_id))
    await db.execute(update(_TABLE).where(_TABLE.c.actor_id == user_id).values(actor_id=None))


async def prune(db: Db, before: datetime) -> int:
    result = await db.execute(delete(_TABLE).where(_TABLE.c.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
