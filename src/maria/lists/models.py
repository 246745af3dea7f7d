"""The movie-list tables and the limits that shape them.

A list row carries its own ``item_count`` and ``version`` so that the hot reads (the list
overview and a page's ``ETag``) need that one row and no ``COUNT(*)``; every item write
updates them in the same transaction, after locking the row (see ``service.lock_list``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from maria.db import Base, UTCDateTime, new_id, utcnow

FAVORITES = "favorites"
WATCH_LATER = "watch-later"
BUILTIN_TITLES = {FAVORITES: "Favorites", WATCH_LATER: "Watch later"}
RESERVED_SLUGS = frozenset({FAVORITES, WATCH_LATER, "import"})

MAX_OWN_LISTS = 100
MAX_ITEMS = 10_000
MAX_IMPORT_IDS = 10_000
MAX_TITLE = 100
MAX_NOTE = 500
MAX_SLUG = 80
MAX_MOVIE_ID = 2**31 - 1  # Kinopoisk ids fit a Postgres ``integer``


class MovieList(Base):
    __tablename__ = "movie_lists"
    __table_args__ = (UniqueConstraint("user_id", "slug"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(MAX_SLUG))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change: the ETag stays exact even if two changes share a timestamp.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListItem(Base):
    __tablename__ = "list_items"
    __table_args__ = (
        # The page query: one list, ordered by (added_at, movie_id), either direction.
        Index("ix_list_items_list_id_added_at_movie_id", "list_id", "added_at", "movie_id"),
    )

    # The primary key is the uniqueness rule: a movie appears at most once per list.
    list_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("movie_lists.id", ondelete="CASCADE"), primary_key=True
    )
    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(MAX_NOTE), default=None)
