"""The long-lived objects of one app instance: built from Settings (no I/O), started and
closed together by the app's lifespan. The one place that knows every domain and backend;
everything else receives what it uses."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from maria.accounts.service import Accounts
from maria.admin.service import AdminService
from maria.audit.service import AuditLog
from maria.auth.devices import DeviceTokens
from maria.auth.known import KnownAddresses
from maria.auth.limits import LoginGuard
from maria.auth.passwords import PasswordService
from maria.auth.recovery import Recovery
from maria.auth.revocation import RevokedSessions
from maria.auth.service import AuthService
from maria.auth.tokens import TokenCodec
from maria.backends.broker import Broker, MemoryBroker, RedisBroker
from maria.backends.fallback import FallbackCounters
from maria.backends.health import RedisHealth
from maria.backends.ratelimit import Counters, MemoryCounters, RedisCounters
from maria.config import Settings
from maria.db import Database, open_database
from maria.http.transport import CookiePolicy
from maria.keys.service import KeyRing, key_ring
from maria.lists.cache import ListCache
from maria.lists.service import ListsService
from maria.mail.service import Mailer
from maria.mail.templates import Templates
from maria.mail.transports import DirectoryTransport, SmtpServer, SmtpTransport, Transport
from maria.migrate import SchemaMismatch, current_revision, schema_problem
from maria.ops.service import Readiness, Telemetry
from maria.rooms.hub import RoomHub
from maria.rooms.invites import Invites
from maria.rooms.presence import FallbackPresence, MemoryPresence, Presence, RedisPresence
from maria.rooms.service import RoomsService
from maria.users.cache import UserCache
from maria.users.service import UsersService

log = logging.getLogger("maria")


@dataclass
class Services:
    settings: Settings
    database: Database
    redis: Redis | None
    redis_health: RedisHealth | None
    broker: Broker
    counters: Counters
    passwords: PasswordService
    revoked: RevokedSessions
    known: KnownAddresses
    keys: KeyRing
    audit: AuditLog
    mailer: Mailer
    users: UsersService
    auth: AuthService
    recovery: Recovery
    accounts: Accounts
    lists: ListsService
    rooms: RoomsService
    admin: AdminService
    readiness: Readiness
    telemetry: Telemetry
    cookies: CookiePolicy

    async def start(self) -> None:
        await self._check_schema()
        await self.telemetry.start()
        await self.broker.start()
        await self.keys.start()
        await self.revoked.start()
        await self.users.cache.start()
        await self.lists.cache.start()
        await self.rooms.hub.start()
        await self.mailer.start()
        await self.audit.start()
        await self.known.start()

    async def _check_schema(self) -> None:
        """Refuse to serve a database whose schema is older or newer than this code's
        (``SchemaMismatch``); one that does not answer yet is checked by ``maria serve``
        before it starts, and serves on its fallbacks here."""
        try:
            revision = await current_revision(self.database)
        except Exception as exc:
            log.warning("schema version not checked: %s", type(exc).__name__)
            return
        problem = schema_problem(revision)
        if problem is not None:
            log.error("refusing to serve: %s", problem)
            raise SchemaMismatch(problem)

    async def close(self) -> None:
        await self.known.close()
        await self.audit.close()
        await self.mailer.close()
        await self.rooms.hub.close()
        await self.lists.cache.close()
        await self.users.cache.close()
        await self.revoked.close()
        await self.keys.close()
        await self.broker.close()
        await self.counters.close()
        self.passwords.close()
        if self.redis_health is not None:
            await self.redis_health.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.close()
        await self.telemetry.close()


def build_services(settings: Settings) -> Services:
    database = open_database(settings.resolved_database_url, timeout=settings.database_timeout)
    redis: Redis | None = None
    health: RedisHealth | None = None
    broker: Broker
    counters: Counters
    if settings.redis_url:
        redis = redis_client(settings.redis_url)
        health = RedisHealth(redis)
        broker = RedisBroker(redis, health)
        counters = FallbackCounters(RedisCounters(redis), health)
    else:
        broker, counters = MemoryBroker(), MemoryCounters()
    passwords = PasswordService(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
        threads=settings.hash_threads,
    )
    keys = key_ring(settings, database)
    codec = TokenCodec(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway=settings.jwt_leeway,
    )
    revoked = RevokedSessions(
        database, broker, token_lifetime=settings.access_token_ttl + settings.jwt_leeway
    )
    user_cache = UserCache(database, broker)
    lists = ListsService(database, ListCache(database, broker), owners=user_cache)
    users = UsersService(database, user_cache, lists, public_url=settings.public_url)
    audit = AuditLog(database, retention_days=settings.audit_retention_days)
    guard = LoginGuard(counters)
    known = KnownAddresses(database, days=guard.limits.known_address_days)
    mailer = Mailer(database, mail_transport(settings))
    auth = AuthService(
        secret=settings.secret,
        codec=codec,
        passwords=passwords,
        revoked=revoked,
        guard=guard,
        devices=DeviceTokens(settings.secret),
        known=known,
        users=users,
        database=database,
        audit_log=audit,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        reuse_grace=settings.refresh_reuse_grace,
    )
    recovery = Recovery(
        database=database,
        auth=auth,
        users=users,
        passwords=passwords,
        guard=guard,
        mailer=mailer,
        templates=Templates(settings.public_url),
        audit_log=audit,
        secret=settings.secret,
    )
    auth.on_registered.append(recovery.at_registration)
    presence: Presence = (
        FallbackPresence(RedisPresence(redis, secrets.token_hex(8)), broker, health)
        if redis is not None and health is not None
        else MemoryPresence(broker)
    )
    hub = RoomHub(
        database=database,
        broker=broker,
        presence=presence,
        counters=counters,
        users=users,
        lists=lists,
        is_revoked=revoked.is_revoked,
        chat_limit=(settings.room_chat_limit, settings.room_chat_window),
        reconnect_grace=settings.room_reconnect_grace,
        host_grace=settings.room_host_grace,
        ready_timeout=settings.room_ready_timeout,
        audit=audit,
        capacity=settings.room_capacity,
        kick_ban=settings.room_kick_ban,
    )
    accounts = Accounts(
        database=database,
        users=users,
        auth=auth,
        recovery=recovery,
        passwords=passwords,
        hub=hub,
        audit_log=audit,
    )
    return Services(
        settings=settings,
        database=database,
        redis=redis,
        redis_health=health,
        broker=broker,
        counters=counters,
        passwords=passwords,
        revoked=revoked,
        known=known,
        keys=keys,
        audit=audit,
        mailer=mailer,
        users=users,
        auth=auth,
        recovery=recovery,
        accounts=accounts,
        lists=lists,
        rooms=RoomsService(
            database,
            hub,
            counters,
            Invites(settings.secret, settings.public_url),
            capacity=settings.room_capacity,
        ),
        admin=AdminService(database, users, auth, accounts, audit),
        readiness=Readiness(database, revoked, keys, health),
        telemetry=Telemetry(
            database,
            mailer,
            health,
            token=settings.metrics_token.get_secret_value() if settings.metrics_token else None,
            multiprocess=bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR")),
        ),
        cookies=CookiePolicy(
            secure=None if settings.cookie_secure == "auto" else settings.cookie_secure,
            access_max_age=settings.access_token_ttl,
            refresh_max_age=settings.refresh_token_ttl,
            refresh_path=settings.refresh_cookie_path,
        ),
    )


def redis_client(url: str) -> Redis:
    """A client that fails fast and retries a dead pooled connection once: a Redis that
    restarted costs the next command one reconnect, not an error; one that is away or frozen
    costs about a second before the fallbacks take over (``RedisHealth``)."""
    pool = BlockingConnectionPool.from_url(
        url,
        # Past 100 commands in flight (a room's join/leave storm) callers wait for a
        # connection instead of failing with MaxConnectionsError; but not for long.
        max_connections=100,
        timeout=2,
        socket_connect_timeout=1,
        socket_timeout=1,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return Redis.from_pool(pool)


def mail_transport(settings: Settings) -> Transport:
    """SMTP when ``MARIA_SMTP_URL`` is set, else ``.eml`` files in the data dir."""
    if settings.smtp_url is not None:
        return SmtpTransport(
            SmtpServer.parse(settings.smtp_url.get_secret_value()), settings.mail_from
        )
    return DirectoryTransport(settings.data_dir / "outbox", settings.mail_from)
