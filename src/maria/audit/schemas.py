"""Response bodies of the audit endpoints (``/users/me/audit``, ``/admin/audit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from maria import examples as ex
from maria.audit.store import EventView

EVENT: dict[str, Any] = {
    "id": ex.EVENT_ID,
    "at": ex.LATER,
    "event": "role_changed",
    "user_id": ex.USER_ID,
    "actor_id": ex.ADMIN_ID,
    "ip": ex.IP,
    "user_agent": ex.USER_AGENT,
    "detail": {"from": "user", "to": "admin"},
}


class AuditEventOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EVENT]})

    id: str
    at: datetime
    event: str = Field(examples=["signed_in"])
    user_id: str | None
    actor_id: str | None = Field(description="The admin who acted, if one did")
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any] | None

    @classmethod
    def of(cls, view: EventView) -> AuditEventOut:
        return cls(
            id=view.id,
            at=view.at,
            event=view.event,
            user_id=view.user_id,
            actor_id=view.actor_id,
            ip=view.ip,
            user_agent=view.user_agent,
            detail=view.detail,
        )


class AuditPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [EVENT], "next_cursor": ex.CURSOR}]}
    )

    items: list[AuditEventOut]
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for the next page")

    @classmethod
    def of(cls, events: list[EventView], next_cursor: str | None) -> AuditPage:
        return cls(items=[AuditEventOut.of(e) for e in events], next_cursor=next_cursor)
