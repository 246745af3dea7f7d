"""A room's shared queue, as pure operations on an immutable value.

The queue is an ordered list of entries (a Kinopoisk film each, with who added it), the
entry now playing (``index``, or None), the current media (``movie_id``: the room's film),
``media_seq`` (grows with every media change: ``next``, ``previous``, ``play``) and ``seq``
(grows with every change). The room row stores it; every change is a compare-and-set on
``seq`` (``sync_store``), so these functions only say what the queue becomes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from maria.errors import Conflict, NotFound

MAX_QUEUE = 500


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    movie_id: int
    added_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "movie_id": self.movie_id, "added_by": self.added_by}


@dataclass(frozen=True, slots=True)
class Queue:
    items: tuple[Entry, ...] = ()
    index: int | None = None
    movie_id: int = 0
    media_seq: int = 0
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The contract's queue object (the ``queue`` frame without its type)."""
        return {
            "items": [entry.as_dict() for entry in self.items],
            "index": self.index,
            "movie_id": self.movie_id,
            "media_seq": self.media_seq,
            "seq": self.seq,
        }

    def items_json(self) -> str:
        """The entries as the room row stores them."""
        return json.dumps([e.as_dict() for e in self.items], separators=(",", ":"))


def entries_of(stored: str) -> tuple[Entry, ...]:
    """The entries the room row stores (``Queue.items_json``)."""
    return tuple(Entry(e["id"], e["movie_id"], e["added_by"]) for e in json.loads(stored))


def _missing(index: int) -> NotFound:
    return NotFound(f"No queue entry at index {index}")


def _at(queue: Queue, index: int) -> Entry:
    if not 0 <= index < len(queue.items):
        raise _missing(index)
    return queue.items[index]


def _changed(queue: Queue, **values: Any) -> Queue:
    return replace(queue, seq=queue.seq + 1, **values)


def add(queue: Queue, movie_ids: Sequence[int], by: str, new_id: Callable[[], str]) -> Queue:
    """Append films, as many as fit (``add_list`` fills the queue in one call); a full queue
    refuses with ``Conflict``. Nothing to add changes nothing (the same queue back)."""
    if not movie_ids:
        return queue
    room = MAX_QUEUE - len(queue.items)
    if room <= 0:
        raise Conflict(f"The queue is full (at most {MAX_QUEUE} entries)")
    added = tuple(Entry(new_id(), movie_id, by) for movie_id in movie_ids[:room])
    return _changed(queue, items=queue.items + added)


def remove(queue: Queue, index: int) -> Queue:
    """Take an entry out; the current film plays on (if it was that entry, no entry is
    current any more)."""
    _at(queue, index)
    items = queue.items[:index] + queue.items[index + 1 :]
    current = queue.index
    if current is not None and current >= index:
        current = None if current == index else current - 1
    return _changed(queue, items=items, index=current)


def move(queue: Queue, index: int, to: int) -> Queue:
    """Move the entry at ``index`` so that it stands at ``to``; the current entry stays
    current wherever it moves."""
    entry = _at(queue, index)
    _at(queue, to)
    items = list(queue.items)
    del items[index]
    items.insert(to, entry)
    current = queue.index
    if current == index:
        current = to
    elif current is not None and index < current <= to:
        current -= 1
    elif current is not None and to <= current < index:
        current += 1
    return _changed(queue, items=tuple(items), index=current)


def play(queue: Queue, index: int) -> Queue:
    """Make the entry at ``index`` the current media (a media change)."""
    entry = _at(queue, index)
    return _changed(queue, index=index, movie_id=entry.movie_id, media_seq=queue.media_seq + 1)


def next_entry(queue: Queue) -> Queue:
    """The entry after the current one (the first if none is current)."""
    target = 0 if queue.index is None else queue.index + 1
    if target >= len(queue.items):
        raise NotFound("No queue entry after the current one")
    return play(queue, target)


def previous_entry(queue: Queue) -> Queue:
    """The entry before the current one."""
    if queue.index is None or queue.index == 0:
        raise NotFound("No queue entry before the current one")
    return play(queue, queue.index - 1)


def clear(queue: Queue) -> Queue:
    """Empty the queue; the current film plays on."""
    return _changed(queue, items=(), index=None)


def media_changed(before: Queue, after: Queue) -> bool:
    return after.media_seq != before.media_seq
