"""Sessions for the list reads, in autocommit mode.

A read in a transaction costs two extra round trips (``BEGIN``, ``ROLLBACK``) on top of its
queries, and the page read is the hot path of lists. Autocommit is safe for it: each
statement sees only committed data, and the page reads the list row before the items, so a
page is never older than the ETag computed from that row (at worst newer, which only costs
the client one more fetch later).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from maria.db import make_sessionmaker

_readers: WeakKeyDictionary[AsyncEngine, async_sessionmaker[AsyncSession]] = WeakKeyDictionary()


def reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The autocommit session factory over ``engine``'s pool (made once per engine)."""
    found = _readers.get(engine)
    if found is None:
        found = make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
        _readers[engine] = found
    return found
