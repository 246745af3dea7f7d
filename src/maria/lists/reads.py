"""Reading a page of a list: from the instance's cache when it can, else from the database.

``PageReader.cached`` answers without any I/O when ``cache.ListCache`` holds a recent list
row and the page (the fast path of the page routes tries it before FastAPI runs).
``PageReader.read`` does the rest: when the row is older than the cache trusts but its page
is kept, one indexed read of the row tells whether the page is still current; otherwise one
statement reads the list row and the page, and both are kept for the next reads. Answers
are HTTP-free: an ETag, a ``Cache-Control`` value and the JSON body (``None`` for "not
modified").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from maria.db import Database
from maria.errors import ApiError, NotFound
from maria.lists import pages
from maria.lists.cache import CachedPage, ListCache
from maria.lists.paging import PageQuery, etag_matches, page_etag
from maria.lists.schemas import ItemPage
from maria.lists.store import ListView, check_readable


class Owners(Protocol):
    """Whether a list's owner may be shown to others (disabled accounts' public lists are
    not served); ``UserCache`` is one."""

    def known_active(self, user_id: str) -> bool | None:
        """True or False if this instance knows, None if it would have to ask."""

    async def is_active(self, user_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PageAnswer:
    etag: str
    cache_control: str
    body: bytes | None  # None: the client's copy (If-None-Match) is current


def cache_control(target: ListView, viewer_id: str | None) -> str:
    # Shared caches may keep public pages (revalidating each time), never private ones.
    return "no-cache" if target.is_public and viewer_id != target.user_id else "private, no-cache"


def _answer(
    target: ListView, viewer_id: str | None, page: CachedPage, if_none_match: str | None
) -> PageAnswer:
    body = None if etag_matches(if_none_match, page.etag) else page.body
    return PageAnswer(page.etag, cache_control(target, viewer_id), body)


class PageReader:
    def __init__(self, database: Database, cache: ListCache, owners: Owners) -> None:
        self._database = database
        self.cache = cache
        self._owners = owners

    def cached(
        self,
        owner_id: str,
        slug: str,
        viewer_id: str | None,
        query: PageQuery,
        if_none_match: str | None,
    ) -> PageAnswer | None:
        """The page (or "not modified") from memory, or ``None`` when the cache can't tell:
        not cached, or an answer that is an error (the database has the last word on those)."""
        cache = self.cache
        target = cache.view(owner_id, slug)
        if target is None or (not target.is_public and viewer_id != target.user_id):
            return None
        if viewer_id != owner_id and not self._owners.known_active(owner_id):
            return None  # unknown here, or not to be shown: the declared way says which
        try:
            query.check_list(target.id)
        except ApiError:
            return None
        page = cache.page(cache.page_key(target, *query.key))
        return None if page is None else _answer(target, viewer_id, page, if_none_match)

    async def read(
        self,
        owner_id: str,
        slug: str,
        viewer_id: str | None,
        query: PageQuery,
        if_none_match: str | None,
    ) -> PageAnswer:
        """The page, reading what the cache does not hold; 404 and 422 as the contract says."""
        answer = self.cached(owner_id, slug, viewer_id, query, if_none_match)
        if answer is not None:
            return answer
        cache = self.cache
        fresh = cache.view(owner_id, slug)
        if fresh is not None:  # refusals need no database either
            check_readable(fresh, viewer_id)
            query.check_list(fresh.id)
        if viewer_id != owner_id and not await self._owners.is_active(owner_id):
            raise NotFound("No such list")  # a disabled account's lists are not shown
        known = cache.known(owner_id, slug)
        if known is not None and cache.page(cache.page_key(known, *query.key)) is not None:
            # The page of the row last read is kept: if that row is still current (one
            # indexed read of it), the page is too.
            load = cache.begin_load(owner_id, slug)
            current: ListView | None = None
            try:
                async with self._database.autocommit() as db:
                    current = await pages.read_view(db, owner_id, slug)
            finally:
                cache.end_load(load, current)
            answer = self.cached(owner_id, slug, viewer_id, query, if_none_match)
            if answer is not None:
                return answer
        load = cache.begin_load(owner_id, slug)
        found: ListView | None = None
        try:
            async with self._database.autocommit() as db:
                found, page = await pages.read_page(db, owner_id, slug, query)
        finally:
            cache.end_load(load, found)
        check_readable(found, viewer_id)
        query.check_list(found.id)
        etag = page_etag(found.id, found.version, found.updated_at, found.count, query)
        kept = CachedPage(etag, ItemPage.of(page).model_dump_json().encode())
        cache.keep_page(cache.page_key(found, *query.key), kept)
        return _answer(found, viewer_id, kept, if_none_match)
