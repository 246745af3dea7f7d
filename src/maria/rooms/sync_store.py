"""The room row's changes for keeping members in step: the queue and the gate's start.

The database decides every race. A queue change holds the room row for its transaction
(concurrent edits take turns), and one that changes the media also changes the playback,
so it holds only if the playback did not move since it was read. The gate's start is one
conditional ``UPDATE … WHERE <the waiting seq> RETURNING``: however many instances try,
one stores it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from maria.db import Database
from maria.errors import Conflict, Forbidden, NotFound
from maria.rooms import members
from maria.rooms.models import Room
from maria.rooms.playback import Playback, now_ms
from maria.rooms.queue import Queue
from maria.rooms.views import playback_of, queue_of

# What a queue operation makes of (queue, playback) at ``now``: the queue unchanged (the
# same object) or a new one, and a new playback if the media changed.
QueueEdit = Callable[[Queue, Playback, int], tuple[Queue, Playback | None]]


def _playback_values(new: Playback) -> dict[str, Any]:
    return {
        "playback_state": new.state,
        "playback_position": new.position,
        "playback_at": new.at,
        "playback_by": new.by,
        "playback_seq": new.seq,
    }


async def change_queue(
    database: Database, room_id: str, *, user_id: str, edit: QueueEdit
) -> tuple[Queue, Playback | None] | None:
    """Apply ``edit`` as ``user_id`` (a controller); None if it changed nothing.

    One transaction that takes the room row first (a no-op ``UPDATE … RETURNING``, as
    ``lists.store.lock_list`` does: the row lock on Postgres, the write lock on SQLite), so
    concurrent edits from any instance wait their turn instead of losing a race: a retry
    loop of compare-and-sets starved one of two writers editing back to back (ten losses
    running). The write still names the ``queue_seq`` (and ``playback_seq``) it read.
    """
    async with database.work() as work:
        room = (
            await work.db.execute(
                update(Room)
                .where(Room.id == room_id)
                .values(queue_seq=Room.queue_seq)
                .returning(Room)
            )
        ).scalar_one_or_none()
        if room is None:
            raise NotFound("No such room")
        if not await members.may_control(work.db, room, user_id):
            raise Forbidden("Only the host and co-hosts control the queue")
        queue, playback = queue_of(room), playback_of(room)
        new, new_playback = edit(queue, playback, now_ms())
        if new is queue:
            work.discard()
            return None
        values: dict[str, Any] = {
            "queue_items": new.items_json(),
            "queue_index": new.index,
            "movie_id": new.movie_id,
            "media_seq": new.media_seq,
            "queue_seq": new.seq,
        }
        conditions = [Room.id == room_id, Room.queue_seq == queue.seq]
        if new_playback is not None:
            values.update(_playback_values(new_playback))
            conditions.append(Room.playback_seq == playback.seq)
        result = await work.db.execute(
            update(Room).where(*conditions).values(**values).returning(Room.id)
        )
        if result.scalar_one_or_none() is None:  # not while the row is held: a guard
            raise Conflict("The room changed meanwhile; try again")
    return new, new_playback


async def start(database: Database, room_id: str, waiting: Playback, new: Playback) -> bool:
    """Store the scheduled start of the play ``waiting`` held; whether this call did it
    (False: the state moved on, or another instance started it first)."""
    async with database.autocommit() as db:
        result = await db.execute(
            update(Room)
            .where(
                Room.id == room_id,
                Room.playback_seq == waiting.seq,
                Room.playback_state == "waiting",
            )
            .values(**_playback_values(new))
            .returning(Room.id)
        )
        return result.scalar_one_or_none() is not None
