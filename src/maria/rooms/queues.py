"""The shared queue's commands: who may change it, what each operation does to the stored
queue (``queue`` says, ``sync_store`` stores with a compare-and-set), and the event that
tells every instance. A media change comes with its playback (``gate.after_media_change``)
in the same event, so every replica resets the ready states before it sees the new state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from maria.db import Database, new_id
from maria.lists.service import ListsService
from maria.rooms import protocol, queue, sync_store
from maria.rooms.conn import Conn
from maria.rooms.events import QueueEvent, RoomEvent
from maria.rooms.frames import ClientQueue
from maria.rooms.gate import after_media_change
from maria.rooms.playback import Playback
from maria.rooms.queue import MAX_QUEUE, Queue
from maria.rooms.registry import Registry
from maria.rooms.sync_store import QueueEdit

Publish = Callable[[str, RoomEvent], Awaitable[None]]


class Queues:
    def __init__(
        self, rooms: Registry, database: Database, publish: Publish, lists: ListsService
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._publish = publish
        self._lists = lists

    async def change(self, conn: Conn, frame: ClientQueue) -> None:
        room = self._rooms.get(conn.room_id)
        view = None if room is None else room.view
        if room is not None and view is not None and not room.can_control(conn.user_id):
            conn.push(protocol.error("forbidden", "Only the host and co-hosts control the queue"))
            return
        films: list[int] = []
        if frame.op == "add" and frame.movie_id is not None:
            films = [frame.movie_id]
        elif frame.op == "add_list" and frame.slug is not None:
            films = await self._lists.movie_ids(conn.user_id, frame.slug, MAX_QUEUE)
        changed = await sync_store.change_queue(
            self._database,
            conn.room_id,
            user_id=conn.user_id,
            edit=edit(frame, conn.user_id, films),
        )
        if changed is None:  # nothing to add: the caller still gets an answer
            if view is not None:
                conn.push(protocol.queue(view.queue))
            return
        new, playback = changed
        await self._publish(conn.room_id, QueueEvent(new, playback, self._rooms.instance))


def edit(frame: ClientQueue, by: str, films: list[int]) -> QueueEdit:
    """The change ``frame`` asks for, as a function of the stored queue and playback."""

    def change(current: Queue, playback: Playback, now: int) -> tuple[Queue, Playback | None]:
        new = operate(current, frame, by, films)
        if not queue.media_changed(current, new):
            return new, None
        return new, after_media_change(playback, by, now)

    return change


def operate(current: Queue, frame: ClientQueue, by: str, films: list[int]) -> Queue:
    """The queue after ``frame``'s operation (``films``: what ``add``/``add_list`` append)."""
    op, index = frame.op, frame.index if frame.index is not None else -1
    if op == "add" or op == "add_list":
        return queue.add(current, films, by, new_id)
    if op == "remove":
        return queue.remove(current, index)
    if op == "move":
        return queue.move(current, index, frame.to if frame.to is not None else -1)
    if op == "play":
        return queue.play(current, index)
    if op == "next":
        return queue.next_entry(current)
    if op == "previous":
        return queue.previous_entry(current)
    return queue.clear(current)
