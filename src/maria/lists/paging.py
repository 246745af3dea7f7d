"""Keyset pagination of list items: cursors and ETags.

Items are ordered by ``(added_at, movie_id)``, a total order that never changes for an item
once added, so a cursor is just the last position seen: a page starts strictly after it,
whatever was added or removed meanwhile. Items present throughout a walk are never skipped
or repeated (the position does not depend on the last item still being there), and the
index ``(list_id, added_at, movie_id)`` answers every page with one range scan.

A cursor is opaque to clients: base64url of ``1.<order>.<added_at µs>.<movie_id>.<tag>``,
where ``tag`` is a short hash of the list's id. That binds it to its list and order (a
cursor from elsewhere is a 422, not a silently wrong page) without revealing the id.
Nothing here is secret: forging a cursor only moves within a list the caller may read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from maria.errors import BadCursor
from maria.lists.models import MAX_MOVIE_ID

Order = Literal["newest", "oldest"]
DEFAULT_ORDER: Order = "newest"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR = 200

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MICROS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_ORDER_CODE: dict[Order, str] = {"newest": "n", "oldest": "o"}
_CODE_ORDER: dict[str, Order] = {v: k for k, v in _ORDER_CODE.items()}
_CURSOR = re.compile(r"1\.([no])\.([0-9]{1,18})\.([0-9]{1,10})\.([0-9a-f]{16})")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the sort key of its last item."""

    added_at: datetime
    movie_id: int


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A page request, its cursor decoded. ``check_list`` must accept the list it is run
    against before the page is shown (the list is only known once read)."""

    order: Order
    limit: int
    after: Position | None
    cursor: str | None
    list_tag: str | None = None

    @property
    def key(self) -> tuple[Order, int, str | None]:
        """What tells this page apart from the other pages of one list version."""
        return self.order, self.limit, self.cursor

    def check_list(self, list_id: str) -> None:
        if self.list_tag is not None and self.list_tag != _list_tag(list_id):
            raise BadCursor("This cursor belongs to another list")


def _list_tag(list_id: str) -> str:
    return hashlib.blake2b(list_id.encode(), digest_size=8).hexdigest()


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def encode_cursor(list_id: str, order: Order, position: Position) -> str:
    raw = (
        f"1.{_ORDER_CODE[order]}.{_micros(position.added_at)}.{position.movie_id}."
        f"{_list_tag(list_id)}"
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Order, Position, str]:
    """The order, position and list tag a cursor holds; 422 if it is garbled."""
    invalid = BadCursor()
    try:
        padded = cursor.encode("ascii") + b"=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, ValueError):  # UnicodeError is a ValueError
        raise invalid from None
    match = _CURSOR.fullmatch(raw)
    if match is None:
        raise invalid
    code, micros, movie_id, tag = match.groups()
    if int(micros) > _MAX_MICROS or not 1 <= int(movie_id) <= MAX_MOVIE_ID:
        raise invalid
    added_at = _EPOCH + timedelta(microseconds=int(micros))
    return _CODE_ORDER[code], Position(added_at, int(movie_id)), tag


def page_query(*, order: Order | None, limit: int, cursor: str | None) -> PageQuery:
    """Combine the query parameters. A cursor carries its order, so later pages may omit
    ``order``; an explicit ``order`` that contradicts the cursor is a 422."""
    if cursor is None:
        return PageQuery(order or DEFAULT_ORDER, limit, None, None)
    cursor_order, position, tag = decode_cursor(cursor)
    if order is not None and order != cursor_order:
        raise BadCursor(f"This cursor pages in '{cursor_order}' order")
    return PageQuery(cursor_order, limit, position, cursor, tag)


def page_etag(
    list_id: str, version: int, updated_at: datetime, count: int, query: PageQuery
) -> str:
    """A strong ETag from what the list row alone says about its state, plus the query.

    ``version`` grows on every change to the list or its items (in the same transaction),
    so a matching ETag means the page would be byte-identical, with no item query needed.
    """
    material = (
        f"{list_id}|{version}|{_micros(updated_at)}|{count}|"
        f"{query.order}|{query.limit}|{query.cursor or ''}"
    )
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 ``If-None-Match``: weak comparison against a list of tags, or ``*``."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False
