"""The long-lived objects one app instance runs on, built from Settings and closed together."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from maria.auth.limits import LoginGuard
from maria.auth.passwords import PasswordService
from maria.auth.revocation import RevokedSessions
from maria.auth.service import AuthService
from maria.auth.tokens import TokenCodec
from maria.backends.broker import Broker, MemoryBroker, RedisBroker
from maria.backends.ratelimit import Counters, MemoryCounters, RedisCounters
from maria.config import Settings
from maria.db import make_engine, make_sessionmaker
from maria.lists.cache import ListCache
from maria.rooms.hub import RoomHub
from maria.rooms.presence import MemoryPresence, Presence, RedisPresence
from maria.users.service import UserCache


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis | None
    broker: Broker
    counters: Counters
    passwords: PasswordService
    users: UserCache
    auth: AuthService
    rooms: RoomHub
    lists: ListCache

    async def start(self) -> None:
        await self.broker.start()
        await self.auth.revoked.start()
        await self.users.start()
        await self.lists.start()
        await self.rooms.start()

    async def close(self) -> None:
        await self.rooms.close()
        await self.lists.close()
        await self.users.close()
        await self.auth.revoked.close()
        await self.broker.close()
        await self.counters.close()
        self.passwords.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.resolved_database_url)
    sessionmaker = make_sessionmaker(engine)
    redis: Redis | None = None
    broker: Broker
    counters: Counters
    if settings.redis_url:
        # A blocking pool: past 100 commands in flight (a room's join/leave storm) callers
        # wait for a connection instead of failing with MaxConnectionsError.
        redis = Redis.from_pool(
            BlockingConnectionPool.from_url(settings.redis_url, max_connections=100, timeout=10)
        )
        broker, counters = RedisBroker(redis), RedisCounters(redis)
    else:
        broker, counters = MemoryBroker(), MemoryCounters()
    passwords = PasswordService(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
        threads=settings.hash_threads,
    )
    codec = TokenCodec(
        settings.secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway=settings.jwt_leeway,
    )
    user_cache = UserCache(sessionmaker, broker)
    list_cache = ListCache(sessionmaker, broker)
    revoked = RevokedSessions(
        sessionmaker, broker, token_lifetime=settings.access_token_ttl + settings.jwt_leeway
    )
    auth = AuthService(
        secret=settings.secret,
        codec=codec,
        passwords=passwords,
        revoked=revoked,
        guard=LoginGuard(counters),
        user_cache=user_cache,
        sessionmaker=sessionmaker,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        reuse_grace=settings.refresh_reuse_grace,
    )
    presence: Presence = (
        RedisPresence(redis, secrets.token_hex(8)) if redis is not None else MemoryPresence(broker)
    )
    rooms = RoomHub(
        settings=settings,
        sessions=sessionmaker,
        broker=broker,
        presence=presence,
        counters=counters,
        users=user_cache,
        revoked=revoked,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        redis=redis,
        broker=broker,
        counters=counters,
        passwords=passwords,
        users=user_cache,
        auth=auth,
        rooms=rooms,
        lists=list_cache,
    )
