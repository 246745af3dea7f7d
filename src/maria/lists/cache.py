"""Per-instance cache of list rows and rendered pages: the page read without the database.

Two maps:

- **Views**: owner id → slug → the list row (``ListView``), each with the moment it was last
  known to be current (``verified``). A view is used only while ``verified`` is less than
  ``ttl`` seconds old (1 s without Redis, 10 s with it), so no change stays unseen longer
  than that, whatever the broker does: edits, publishing, deleted lists and deleted
  accounts alike.
- **Pages**: ``(list id, version, order, limit, cursor)`` → ETag and JSON body. ``version``
  grows in the transaction of every change to a list or its items, so an entry never goes
  stale; entries of old versions are simply not asked for again and age out (the map is
  bounded by bytes).

Views are dropped four ways:

- at once on this instance, by ``changed(owner)`` after every committed write to a list
  (``ListsService`` registers it as an after-commit effect), so the writer's next read
  sees its write;
- on the other instances through the broker (``channels.LISTS``; milliseconds with Redis),
  and on every message of the users' channel (``channels.USERS``: profile changes, and
  account deletion, which removes the lists by cascade without passing through here);
- all of them when the broker reconnects (messages may have been lost meanwhile);
- by ``sync``, every ``poll_interval`` seconds: one query reads the versions of the views
  used since the previous round and renews the unchanged ones; changed or deleted lists
  are dropped. This is the fallback for instances without Redis (or a lost message):
  polling an ``updated_at`` column would not see deleted rows, this does. Views not used
  meanwhile are not polled; they expire after ``ttl``.

``reads.PageReader`` reads on a miss: an expired view whose page is kept is checked with one
indexed read of the row (``pages.read_view``); otherwise one statement reads the row and the
page (``pages.read_page``), and both are stored. A read that was under way when its owner's
views were dropped may have seen the database before the write: it answers its own request
but stores nothing (``begin_load``/``end_load``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import select

from maria.backends import channels
from maria.backends.broker import Broker, MemoryBroker
from maria.db import Database
from maria.lists.models import MovieList
from maria.lists.paging import Order
from maria.lists.store import ListView

log = logging.getLogger("maria.lists")
TTL_ALONE = 1.0
TTL_WITH_BROKER = 10.0
_SYNC_CHUNK = 500

PageKey = tuple[str, int, Order, int, str | None]


@dataclass(frozen=True, slots=True)
class CachedPage:
    etag: str
    body: bytes


@dataclass(slots=True)
class _Entry:
    view: ListView
    verified: float  # time.monotonic() at which ``view`` was known to be current
    used: bool = False  # read since the last ``sync``


@dataclass(slots=True)
class Load:
    """A read of a list row under way; ``stale`` once its owner's views were dropped."""

    owner_id: str
    slug: str
    started: float
    stale: bool = False


@dataclass(slots=True)
class _Owner:
    lists: dict[str, _Entry] = field(default_factory=dict)


class ListCache:
    def __init__(
        self,
        database: Database,
        broker: Broker,
        *,
        ttl: float | None = None,
        poll_interval: float = 0.5,
        max_owners: int = 20_000,
        max_page_bytes: int = 32 * 2**20,
    ) -> None:
        self._database = database
        self._broker = broker
        # Without Redis, views expire after a second: the bound for changes made elsewhere.
        # With Redis the broker tells at once (and a reconnect drops everything, as
        # messages may have been missed), so expiry is only a backstop.
        if ttl is None:
            ttl = TTL_ALONE if isinstance(broker, MemoryBroker) else TTL_WITH_BROKER
        self.ttl = ttl
        self.poll_interval = poll_interval
        self._max_owners = max_owners
        self._max_page_bytes = max_page_bytes
        self._owners: OrderedDict[str, _Owner] = OrderedDict()
        self._pages: OrderedDict[PageKey, CachedPage] = OrderedDict()
        self._page_bytes = 0
        self._loads: dict[str, list[Load]] = {}
        self._used: list[tuple[str, str, _Entry]] = []  # what the next ``sync`` checks
        self._task: asyncio.Task[None] | None = None
        broker.subscribe(channels.LISTS, self._on_message)
        broker.subscribe(channels.USERS, self._on_message)
        broker.on_reconnect.append(self.clear)

    # -- views ----------------------------------------------------------------------------

    def view(self, owner_id: str, slug: str) -> ListView | None:
        """The cached row of a list, if known and recent enough; no I/O."""
        owner = self._owners.get(owner_id)
        if owner is None:
            return None
        entry = owner.lists.get(slug)
        if entry is None or time.monotonic() - entry.verified > self.ttl:
            return None
        self._owners.move_to_end(owner_id)
        if not entry.used:
            entry.used = True
            self._used.append((owner_id, slug, entry))
        return entry.view

    def known(self, owner_id: str, slug: str) -> ListView | None:
        """The last row read of a list, however old: worth checking (``read_view``) when
        its page is cached, rather than reading the page again."""
        owner = self._owners.get(owner_id)
        entry = owner.lists.get(slug) if owner is not None else None
        return entry.view if entry is not None else None

    def holds(self, owner_id: str, slug: str) -> bool:
        """Whether a row of this list is stored (fresh or not); for tests and debugging."""
        return self.known(owner_id, slug) is not None

    def begin_load(self, owner_id: str, slug: str) -> Load:
        """Call before reading a list row from the database, then ``end_load``."""
        load = Load(owner_id, slug, time.monotonic())
        self._loads.setdefault(owner_id, []).append(load)
        return load

    def end_load(self, load: Load, found: ListView | None) -> None:
        """Keep what ``load`` read (``None``: no such list), unless the owner's views were
        dropped meanwhile."""
        waiting = self._loads.get(load.owner_id)
        if waiting is not None:
            with contextlib.suppress(ValueError):
                waiting.remove(load)
            if not waiting:
                del self._loads[load.owner_id]
        if load.stale:
            return
        owner = self._owners.get(load.owner_id)
        if found is None or found.user_id != load.owner_id or found.slug != load.slug:
            if owner is not None:
                owner.lists.pop(load.slug, None)
            return
        if owner is None:
            owner = self._owners[found.user_id] = _Owner()
            if len(self._owners) > self._max_owners:
                self._owners.popitem(last=False)
        else:
            self._owners.move_to_end(found.user_id)
        current = owner.lists.get(found.slug)
        if (
            current is not None
            and current.view.id == found.id
            and current.view.version > found.version
        ):
            return  # a later read already stored a newer row
        owner.lists[found.slug] = _Entry(found, load.started)

    def clear(self) -> None:
        """Drop every view (after the broker reconnected: messages may have been lost)."""
        self._owners.clear()
        for loads in self._loads.values():
            for load in loads:
                load.stale = True
        self._loads.clear()

    def forget(self, owner_id: str) -> None:
        """Drop every view of one owner's lists, and what reads under way would store."""
        self._owners.pop(owner_id, None)
        for load in self._loads.pop(owner_id, ()):
            load.stale = True

    def _on_message(self, owner_id: str) -> None:
        self.forget(owner_id)

    async def changed(self, owner_id: str) -> None:
        """After a committed write to any list of ``owner_id``: this instance drops its views
        at once, the others when the broker delivers (else by ``sync``/``ttl``; a failure to
        publish is the caller's to log)."""
        self.forget(owner_id)
        await self._broker.publish(channels.LISTS, owner_id)

    # -- pages ----------------------------------------------------------------------------

    @staticmethod
    def page_key(view: ListView, order: Order, limit: int, cursor: str | None) -> PageKey:
        """A page of one version of a list: the same bytes for as long as it exists."""
        return (view.id, view.version, order, limit, cursor)

    def page(self, key: PageKey) -> CachedPage | None:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
        return found

    def keep_page(self, key: PageKey, page: CachedPage) -> None:
        old = self._pages.pop(key, None)
        if old is not None:
            self._page_bytes -= len(old.body)
        self._pages[key] = page
        self._page_bytes += len(page.body)
        while self._page_bytes > self._max_page_bytes and self._pages:
            _, evicted = self._pages.popitem(last=False)
            self._page_bytes -= len(evicted.body)

    # -- polling --------------------------------------------------------------------------

    async def sync(self) -> None:
        """Check the views used since the last round against the database: renew those
        whose version is unchanged, drop the others (changed or deleted)."""
        used, self._used = self._used, []
        for _, _, entry in used:
            entry.used = False
        if not used:
            return
        started = time.monotonic()
        versions: dict[str, int] = {}
        ids = [entry.view.id for _, _, entry in used]
        async with self._database.autocommit() as db:
            for i in range(0, len(ids), _SYNC_CHUNK):
                rows = await db.execute(
                    select(MovieList.id, MovieList.version).where(
                        MovieList.id.in_(ids[i : i + _SYNC_CHUNK])
                    )
                )
                versions.update((list_id, version) for list_id, version in rows)
        for owner_id, slug, entry in used:
            owner = self._owners.get(owner_id)
            if owner is None or owner.lists.get(slug) is not entry:
                continue  # dropped or replaced meanwhile
            if versions.get(entry.view.id) == entry.view.version:
                entry.verified = max(entry.verified, started)
            else:
                del owner.lists[slug]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="maria-list-cache")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.sync()
            except Exception as exc:  # the database may be briefly away; views expire
                log.warning("list cache poll failed: %s", type(exc).__name__)

    async def close(self) -> None:
        """Stop polling (the broker subscriptions stay until the broker closes)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
