"""Who may do what in a room: the host (``rooms.host_id``), co-hosts and members.

Pure rules, shared by the hub (deciding fast from its replica) and the store (deciding for
good inside the transaction that makes the change). ``Roles`` is the moderation state every
instance holds a replica of: co-hosts, muted members and the chat lock, with the room's
``roles_seq`` (newest wins, like playback's ``seq``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from maria.rooms.views import RoomView

Role = Literal["host", "cohost", "member"]
_RANK: dict[str, int] = {"member": 0, "cohost": 1, "host": 2}


@dataclass(frozen=True, slots=True)
class Roles:
    cohosts: frozenset[str] = field(default_factory=frozenset)
    muted: frozenset[str] = field(default_factory=frozenset)
    chat_locked: bool = False
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The ``roles`` frame's fields (and the welcome's ``roles``)."""
        return {
            "cohosts": sorted(self.cohosts),
            "muted": sorted(self.muted),
            "chat_locked": self.chat_locked,
            "seq": self.seq,
        }

    def same_as(self, other: Roles) -> bool:
        """The same state, whatever the ``seq``."""
        return (self.cohosts, self.muted, self.chat_locked) == (
            other.cohosts,
            other.muted,
            other.chat_locked,
        )


def role_of(view: RoomView, roles: Roles, user_id: str) -> Role:
    if view.host_id == user_id:
        return "host"
    return "cohost" if user_id in roles.cohosts else "member"


def can_control(view: RoomView, roles: Roles, user_id: str) -> bool:
    """Whether ``user_id`` may control playback and the queue: the host, co-hosts, and
    everyone in ``everyone`` mode."""
    return view.control == "everyone" or role_of(view, roles, user_id) != "member"


def moderation_refusal(actor: Role, target: Role | None) -> str | None:
    """Why ``actor`` may not moderate ``target`` (None: they may). Moderating is for the
    host and co-hosts; a co-host moderates members only, and nobody the host. ``target``
    None: an action on the room (lock, clear)."""
    if actor == "member":
        return "Only the host and co-hosts can moderate"
    if target is None:
        return None
    if target == "host":
        return "Nobody can moderate the host"
    if _RANK[target] >= _RANK[actor]:
        return "Only the host can moderate co-hosts"
    return None


def role_change_refusal(actor: Role, target: Role) -> str | None:
    """Why ``actor`` may not change ``target``'s role (None: they may): the host only, and
    not their own."""
    if actor != "host":
        return "Only the host can change roles"
    if target == "host":
        return "The host's role cannot be changed; hand the room over instead"
    return None


def chat_refusal(view: RoomView, roles: Roles, user_id: str) -> str | None:
    """Why ``user_id`` may not chat now (None: they may); a muted member may not react
    either (see ``react_refusal``)."""
    if user_id in roles.muted:
        return "You are muted in this room"
    if roles.chat_locked and role_of(view, roles, user_id) == "member":
        return "The chat is locked: only the host and co-hosts can write"
    return None


def react_refusal(roles: Roles, user_id: str) -> str | None:
    return "You are muted in this room" if user_id in roles.muted else None
