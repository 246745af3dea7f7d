"""The database: engine, the two ways services use it, and the declarative Base.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) by URL. SQLite gets WAL,
enforced foreign keys and a busy timeout so that it behaves like a database under load.

Services reach the database only through ``Database``:

- ``work()``: one unit of work. The block runs in a transaction that commits when it ends
  (or rolls back on an error, or when ``discard`` said nothing worth keeping happened);
  what must follow a commit (drop a cache entry, tell the other instances, wake the mailer)
  is registered with ``after_commit`` and runs after it. An effect that fails is logged
  with its reason and never undoes or fails the committed change: the caller still gets
  its answer, and the other instances catch up by their polls. ``core_work()`` is the same
  on a bare Core connection, for a few Core statements on a hot path.
- ``autocommit()``: every statement commits on its own: reads without ``BEGIN`` and
  ``ROLLBACK`` round trips (each sees only committed data), and single-statement writes.
  ``connect()`` is the same without the ORM session around the connection, for the Core
  statements of the hottest paths (signing in): half the CPU of going through a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from maria.metrics import DB_POOL_ACQUIRE

log = logging.getLogger("maria.db")

Effect = Callable[[], Awaitable[None]]
EFFECT_TIMEOUT = 5.0  # seconds an after-commit effect may take (a broker that hangs)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class TimedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, timing each connection it hands out: the wait for a
    free one (or the time to open one) is ``maria_db_pool_acquire_seconds``."""

    def _do_get(self) -> ConnectionPoolEntry:
        started = time.perf_counter()
        try:
            return super()._do_get()
        finally:
            DB_POOL_ACQUIRE.observe(time.perf_counter() - started)


# SQLAlchemy names a pool's logger after its class: keep this one as quiet as its own.
logging.getLogger(f"{__name__}.{TimedPool.__name__}").setLevel(logging.WARNING)


def _private_file(path: str | None) -> None:
    """Create a SQLite file readable by its owner only (0600) before SQLite does (0644 less
    the umask); SQLite gives its journal, WAL and shared-memory files the same mode."""
    if not path or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, *, timeout: float | None = None, **kwargs: Any) -> AsyncEngine:
    """An engine for ``url``. ``timeout`` (seconds) bounds every wait on Postgres: opening a
    connection, waiting for one from the pool, and each statement (client and server side),
    so a frozen database costs a request ``timeout`` seconds, not forever. Migrations pass
    none: a schema change may take as long as it takes."""
    if url.startswith("sqlite"):
        if ":memory:" not in url and "mode=memory" not in url:
            kwargs.setdefault("poolclass", TimedPool)
            _private_file(make_url(url).database)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # No pre-ping (a round trip per checkout): a connection that died with the server fails
    # its request with 503 ``unavailable`` (errors.py) and is dropped from the pool.
    # A fixed pool, no overflow: overflow connections are opened for a burst and closed
    # when returned to a full pool, so a load hovering above the pool size churned hundreds
    # of Postgres connections per minute (each a backend process). Requests beyond 12 wait
    # for a connection instead; one event loop can't keep more queries busy anyway, and
    # cached reads need none. 12 per instance leaves room for several instances, migrations
    # and psql under Postgres's default max_connections=100.
    kwargs.setdefault("poolclass", TimedPool)
    kwargs.setdefault("pool_size", 12)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_recycle", 1800)
    if timeout is not None:
        kwargs["pool_timeout"] = timeout
        kwargs["connect_args"] = {
            "timeout": timeout,
            "command_timeout": timeout,
            "server_settings": {"statement_timeout": str(int(timeout * 1000))},
        }
    return create_async_engine(url, **kwargs)


# SQLSTATE classes of a database that is away or refusing work, not of a bad statement:
# connection exceptions (08), insufficient resources (53: too many connections), object not
# in prerequisite state (55: a database not accepting connections, a lock not available),
# operator intervention (57: shutdown, statement timeout), system errors (58), and
# 3D000 (the database does not exist, e.g. dropped or not yet restored).
_OUTAGE_SQLSTATES = ("08", "53", "55", "57", "58", "3D")


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database (or the way to it) is away, so the answer is 503
    ``unavailable`` rather than a bug's 500."""
    if isinstance(exc, sqlalchemy_exc.TimeoutError | TimeoutError | OSError):
        return True  # no pooled connection in time; a statement or connect timed out
    if isinstance(exc, sqlalchemy_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(
            exc, sqlalchemy_exc.OperationalError | sqlalchemy_exc.InterfaceError
        ):
            return True
        orig = exc.orig
        if isinstance(orig, TimeoutError | OSError):
            return True
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        return isinstance(state, str) and state.startswith(_OUTAGE_SQLSTATES)
    return False


class OutageLog:
    """Outages logged as warnings at most once per ``every`` seconds per kind of work, with
    how many were held back: an outage under load is a few lines, not hundreds (each request
    and poll that met it). Anything else that failed is a bug: logged with its traceback."""

    def __init__(self, log: logging.Logger, every: float = 10.0) -> None:
        self._log = log
        self._every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def failed(self, what: str, exc: BaseException) -> None:
        if not is_outage(exc):
            self._log.error("%s failed", what, exc_info=exc)
            return
        now = time.monotonic()
        last = self._last.get(what)
        if last is not None and now - last < self._every:
            self._held[what] = self._held.get(what, 0) + 1
            return
        self._last[what] = now
        held = self._held.pop(what, 0)
        self._log.warning(
            "%s: the database is unavailable (%s)%s",
            what,
            type(getattr(exc, "orig", None) or exc).__name__,
            f"; {held} more like it since the last line" if held else "",
        )


class Pruner:
    """A clean-up of rows past their retention: at start, then every ``every`` seconds while
    the instance runs; a failure (the database away) waits for the next turn."""

    def __init__(
        self, what: str, prune: Callable[[], Awaitable[int]], every: float, log: logging.Logger
    ) -> None:
        self._what = what
        self._prune = prune
        self._every = every
        self._log = log
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"maria-prune-{self._what}")

    async def _run(self) -> None:
        while True:
            try:
                pruned = await self._prune()
                if pruned:
                    self._log.info("%s: %d rows past their retention pruned", self._what, pruned)
            except Exception as exc:
                self._log.warning("%s prune failed: %s", self._what, type(exc).__name__)
            await asyncio.sleep(self._every)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class _Unit:
    """What a unit of work does after its transaction: the effects, or nothing."""

    __slots__ = ("_effects", "kept")

    def __init__(self) -> None:
        self._effects: list[tuple[str, Effect]] = []
        self.kept = True

    def after_commit(self, what: str, effect: Effect) -> None:
        """Run ``effect`` once the transaction has committed (not at all if it does not)."""
        self._effects.append((what, effect))

    def discard(self) -> None:
        """Nothing worth keeping happened: roll back instead of committing (a write that
        changed nothing leaves no trace, not even a new row version), and run no effects."""
        self.kept = False

    async def run_effects(self) -> None:
        for what, effect in self._effects:
            try:
                async with asyncio.timeout(EFFECT_TIMEOUT):
                    await effect()
            except Exception as exc:
                log.warning(
                    "committed, but %s failed (%s: %s); other instances catch up by polling",
                    what,
                    type(exc).__name__,
                    exc,
                )


class Work(_Unit):
    """A unit of work in progress: ``db`` (an ORM session) in a transaction, and its
    after-commit effects."""

    __slots__ = ("db",)

    def __init__(self, db: AsyncSession) -> None:
        super().__init__()
        self.db = db


class CoreWork(_Unit):
    """The same on a Core connection, for a few Core statements on a hot path (signing in):
    no ORM session around them."""

    __slots__ = ("db",)

    def __init__(self, db: AsyncConnection) -> None:
        super().__init__()
        self.db = db


AnyWork = Work | CoreWork


class Database:
    """The engine and the ways in (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, autocommit_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self._own_autocommit = autocommit_engine is not None
        self._autocommit_engine = autocommit_engine or engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self._in_transaction = async_sessionmaker(engine, expire_on_commit=False)
        self._autocommit = async_sessionmaker(self._autocommit_engine, expire_on_commit=False)

    @asynccontextmanager
    async def work(self) -> AsyncIterator[Work]:
        async with self._in_transaction() as db:
            work = Work(db)
            yield work  # an error in the block: closing the session rolls back
            if work.kept:
                await db.commit()
            else:
                await db.rollback()
        if work.kept:
            await work.run_effects()

    @asynccontextmanager
    async def core_work(self) -> AsyncIterator[CoreWork]:
        async with self.engine.connect() as conn:
            work = CoreWork(conn)
            yield work  # an error in the block: closing the connection rolls back
            if work.kept:
                await conn.commit()
            else:
                await conn.rollback()
        if work.kept:
            await work.run_effects()

    def autocommit(self) -> AsyncSession:
        """A session whose statements commit one by one (use it as ``async with``)."""
        return self._autocommit()

    def connect(self) -> AsyncConnection:
        """A Core connection whose statements commit one by one (``async with``)."""
        return self._autocommit_engine.connect()

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine with a pool of its own (what ``close`` disposes)."""
        if self._own_autocommit:
            return self.engine, self._autocommit_engine
        return (self.engine,)

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def open_database(url: str, *, timeout: float | None = None) -> Database:
    engine = make_engine(url, timeout=timeout)
    if engine.dialect.name == "sqlite":
        # Switching a pooled aiosqlite connection into autocommit and back costs two trips
        # to the driver's thread per checkout; a pool of its own that stays in autocommit
        # costs none. (Postgres switches with a flag on the client side.)
        return Database(engine, make_engine(url, isolation_level="AUTOCOMMIT"))
    return Database(engine)
