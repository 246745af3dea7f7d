"""Running a room: kick, mute, lock, clear and roles, by the host and co-hosts; every action
announced to the room (``moderated``, and ``roles`` for the state it leaves) and audited.

The hub refuses at once what its replica says is not allowed. What it lets through is
decided for good in one transaction that first bumps the room's ``roles_seq`` (the row's
lock on Postgres, the write lock on SQLite: one room's moderation is serialized), then
checks the actor's and the target's roles as stored, changes the rows, records the audit
event and reads the state it leaves. A ``ManagedEvent`` then tells every instance, which
applies it like any other (``LocalRoom.managed``): a kick closes the target's sockets there
with 4403 and bans them from joining until ``until``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete

from maria.audit import service as audit
from maria.audit.service import AuditLog
from maria.db import Database
from maria.errors import Forbidden, NotFound
from maria.rooms import members, protocol
from maria.rooms.conn import Conn
from maria.rooms.events import ManagedEvent, RoomEvent
from maria.rooms.models import RoomMessage, RoomReaction
from maria.rooms.playback import now_ms
from maria.rooms.registry import Registry
from maria.rooms.roles import Role, moderation_refusal, role_change_refusal, role_of
from maria.rooms.views import is_room_id

Publish = Callable[[str, RoomEvent], Awaitable[None]]

# The audit event of each action (``maria.audit.service``).
AUDITED = {
    "kick": audit.ROOM_MEMBER_KICKED,
    "mute": audit.ROOM_MEMBER_MUTED,
    "unmute": audit.ROOM_MEMBER_UNMUTED,
    "lock": audit.ROOM_CHAT_LOCKED,
    "unlock": audit.ROOM_CHAT_UNLOCKED,
    "clear": audit.ROOM_CHAT_CLEARED,
    "cohost": audit.ROOM_ROLE_CHANGED,
    "member": audit.ROOM_ROLE_CHANGED,
}
ROLE_CHANGES = ("cohost", "member")
NEVER_HERE = "That user is not in the room and has never been"


def _refusal(action: str, actor: Role, target: Role | None) -> str | None:
    if action in ROLE_CHANGES:
        assert target is not None
        return role_change_refusal(actor, target)
    return moderation_refusal(actor, target)


class Moderation:
    def __init__(
        self,
        rooms: Registry,
        database: Database,
        audit: AuditLog,
        publish: Publish,
        kick_ban: float,
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._audit = audit
        self._publish = publish
        self._ban_ms = int(kick_ban * 1000)

    async def kick(self, conn: Conn, user_id: str) -> None:
        await self._act(conn, "kick", user_id)

    async def mute(self, conn: Conn, user_id: str, muted: bool) -> None:
        await self._act(conn, "mute" if muted else "unmute", user_id)

    async def lock(self, conn: Conn, locked: bool) -> None:
        await self._act(conn, "lock" if locked else "unlock", None)

    async def clear(self, conn: Conn) -> None:
        await self._act(conn, "clear", None)

    async def role(self, conn: Conn, user_id: str, role: str) -> None:
        await self._act(conn, "cohost" if role == "cohost" else "member", user_id)

    async def _act(self, conn: Conn, action: str, target: str | None) -> None:
        room = self._rooms.get(conn.room_id)
        if room is None or room.view is None:
            return
        view, roles = room.view, room.roles
        if target is not None and target not in room.members and not is_room_id(target):
            conn.push(protocol.error("not_found", NEVER_HERE))  # user ids are UUIDs too
            return
        actor = role_of(view, roles, conn.user_id)
        known = None if target is None else role_of(view, roles, target)
        if actor == "member" or known in ("host", "cohost"):  # else the store decides
            refusal = _refusal(action, actor, known)
            if refusal is not None:
                conn.push(protocol.error("forbidden", refusal))
                return
        event = await self._store(
            conn.room_id,
            action,
            actor=conn.user_id,
            target=target,
            present=target is not None and target in room.members,
        )
        await self._publish(conn.room_id, event)

    async def _store(
        self, room_id: str, action: str, *, actor: str, target: str | None, present: bool
    ) -> ManagedEvent:
        async with self._database.work() as work:
            db = work.db
            values: dict[str, Any] = {}
            if action in ("lock", "unlock"):
                values["chat_locked"] = action == "lock"
            room = await members.bump(db, room_id, **values)
            if room is None:
                raise NotFound("No such room")
            actor_role = await members.role_of(db, room, actor) or "member"
            target_role: Role | None = None
            if target is not None:
                target_role = await members.role_of(db, room, target)
                if target_role is None:
                    if not present:
                        raise NotFound(NEVER_HERE)
                    target_role = "member"
            refusal = _refusal(action, actor_role, target_role)
            if refusal is not None:
                raise Forbidden(refusal)
            until = upto = None
            detail: dict[str, Any] = {"room_id": room_id, "by": actor}
            if target is not None and action == "kick":
                until = now_ms() + self._ban_ms
                demoted = {"role": "member"} if target_role == "cohost" else {}
                await members.upsert(db, room_id, target, banned_until=until, **demoted)
                detail["banned_until"] = until
            elif target is not None and action in ("mute", "unmute"):
                await members.upsert(db, room_id, target, muted=action == "mute")
            elif target is not None and action in ROLE_CHANGES:
                await members.upsert(db, room_id, target, role=action)
                detail["role"] = action
            elif action == "clear":
                upto = room.message_seq  # appends wait for the row: none can slip in
                await db.execute(
                    delete(RoomReaction).where(
                        RoomReaction.room_id == room_id, RoomReaction.message_id.is_not(None)
                    )
                )
                await db.execute(
                    delete(RoomMessage).where(
                        RoomMessage.room_id == room_id, RoomMessage.seq <= upto
                    )
                )
                detail["messages_up_to"] = upto
            await self._audit.record(
                work, AUDITED[action], user_id=target or actor, actor_id=actor, detail=detail
            )
            state = await members.roles(
                db, room_id, chat_locked=room.chat_locked, seq=room.roles_seq
            )
            return ManagedEvent(
                roles=state,
                title=room.title,
                visibility=room.visibility,
                capacity=room.capacity,
                action=action,
                user_id=target,
                by=actor,
                until=until,
                upto=upto,
            )
