"""Movie lists: what the routes (and account creation) ask of the lists domain.

Each write is one unit of work that locks the list first (``store.lock_list``) and, once
committed, drops the owner's cached views on every instance (``ListCache.changed``, an
after-commit effect). A write that changes nothing is discarded, not committed. Reads of
pages go through ``reads.PageReader`` (cache first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from maria.db import Database, Work
from maria.lists import importer, items, store
from maria.lists.cache import ListCache
from maria.lists.importer import ImportResult
from maria.lists.items import KEEP_NOTE, ItemView, NoteChange
from maria.lists.paging import PageQuery
from maria.lists.reads import Owners, PageAnswer, PageReader
from maria.lists.store import ListView


class ListsService:
    def __init__(self, database: Database, cache: ListCache, owners: Owners) -> None:
        self._database = database
        self.cache = cache
        self.pages = PageReader(database, cache, owners)

    def _changed(self, work: Work, owner_id: str) -> None:
        work.after_commit("list cache invalidation", partial(self.cache.changed, owner_id))

    async def create_builtins(self, work: Work, user_id: str) -> None:
        """``favorites`` and ``watch-later``, in the unit of work creating the user, so they
        exist from the account's first moment and are never created lazily by racing
        requests."""
        await store.create_builtin_lists(work.db, user_id)

    # -- lists ----------------------------------------------------------------------------

    async def own_lists(self, user_id: str) -> list[ListView]:
        async with self._database.autocommit() as db:
            return await store.own_lists(db, user_id)

    async def get_list(self, user_id: str, slug: str) -> ListView:
        async with self._database.autocommit() as db:
            return await store.get_list(db, user_id, slug)

    async def create_list(self, user_id: str, *, title: str, is_public: bool) -> ListView:
        async with self._database.work() as work:
            created = await store.create_list(work.db, user_id, title=title, is_public=is_public)
            self._changed(work, user_id)
        return created

    async def update_list(
        self, user_id: str, slug: str, *, title: str | None, is_public: bool | None
    ) -> ListView:
        async with self._database.work() as work:
            updated = await store.update_list(
                work.db, user_id, slug, title=title, is_public=is_public
            )
            self._changed(work, user_id)
        return updated

    async def delete_list(self, user_id: str, slug: str) -> None:
        async with self._database.work() as work:
            await store.delete_list(work.db, user_id, slug)
            self._changed(work, user_id)

    # -- items ----------------------------------------------------------------------------

    async def get_item(self, user_id: str, slug: str, movie_id: int) -> ItemView:
        async with self._database.autocommit() as db:
            return await items.get_item(db, user_id, slug, movie_id)

    async def movie_ids(self, user_id: str, slug: str, limit: int) -> list[int]:
        """The films of one of the user's lists, oldest first, at most ``limit``; NotFound
        if they have no list ``slug``."""
        async with self._database.autocommit() as db:
            return await items.movie_ids(db, user_id, slug, limit)

    async def put_item(
        self,
        user_id: str,
        slug: str,
        movie_id: int,
        note: NoteChange = KEEP_NOTE,
    ) -> tuple[ItemView, bool]:
        """Add a movie (``True``: it is new), or keep the one there, with ``note`` set if
        one was given."""
        async with self._database.work() as work:
            item, created, changed = await items.put_item(work.db, user_id, slug, movie_id, note)
            self._keep_if(work, changed, user_id)
        return item, created

    async def remove_item(self, user_id: str, slug: str, movie_id: int) -> None:
        async with self._database.work() as work:
            self._keep_if(work, await items.remove_item(work.db, user_id, slug, movie_id), user_id)

    async def import_lists(
        self, user_id: str, arrays: Mapping[str, Sequence[object]]
    ) -> ImportResult:
        async with self._database.work() as work:
            result = await importer.import_lists(work.db, user_id, arrays)
            self._keep_if(work, result.added > 0, user_id)
        return result

    def _keep_if(self, work: Work, changed: bool, owner_id: str) -> None:
        if changed:
            self._changed(work, owner_id)
        else:
            work.discard()

    # -- pages ----------------------------------------------------------------------------

    def cached_page(
        self,
        owner_id: str,
        slug: str,
        viewer_id: str | None,
        query: PageQuery,
        if_none_match: str | None,
    ) -> PageAnswer | None:
        return self.pages.cached(owner_id, slug, viewer_id, query, if_none_match)

    async def page(
        self,
        owner_id: str,
        slug: str,
        viewer_id: str | None,
        query: PageQuery,
        if_none_match: str | None,
    ) -> PageAnswer:
        return await self.pages.read(owner_id, slug, viewer_id, query, if_none_match)
