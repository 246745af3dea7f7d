"""Whether Redis answers, and what runs instead while it does not.

Redis makes limits, revocations and room fan-out shared between instances; none of them is
worth refusing requests for. When a command fails for want of Redis, ``RedisHealth`` marks
it down (one log line, not one per request), the callers switch to their in-process
fallbacks (``attempt``), and a probe pings every second until Redis answers; then the
``on_back`` hooks drop what the fallbacks kept, and shared state resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from maria.logs import detached
from maria.metrics import REDIS_UP

log = logging.getLogger("maria.redis")

T = TypeVar("T")

# Redis away (refused, reset, timed out, loading, a replica that cannot write): not a bug.
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError, TimeoutError)


class RedisHealth:
    """Up or down, as the last command or probe found it."""

    def __init__(self, redis: Redis, probe_interval: float = 1.0) -> None:
        self._redis = redis
        self._interval = probe_interval
        self._probe: asyncio.Task[None] | None = None
        self.available = True
        self.on_back: list[Callable[[], None]] = []
        REDIS_UP.set(1)

    @property
    def status(self) -> str:
        return "ok" if self.available else "degraded"

    def failed(self, exc: BaseException) -> None:
        """A command failed for want of Redis: fall back until it answers again."""
        if not self.available:
            return
        self.available = False
        REDIS_UP.set(0)
        log.warning(
            "redis unavailable (%s): serving on with in-process limits, this instance's room "
            "fan-out and revocations from the database poll",
            type(exc).__name__,
        )
        with contextlib.suppress(RuntimeError):  # no loop (closing): nothing to probe for
            self._probe = asyncio.get_running_loop().create_task(
                self._until_back(), name="maria-redis-probe", context=detached()
            )

    def recovered(self) -> None:
        """Redis answers again: drop the fallbacks' state and use it."""
        if self.available:
            return
        self.available = True
        REDIS_UP.set(1)
        log.warning("redis is back: shared limits and fan-out resumed")
        for hook in self.on_back:
            try:
                hook()
            except Exception:
                log.exception("redis recovery hook failed")

    async def attempt(
        self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        """``shared()`` while Redis is up; ``local()`` while it is down or when it fails."""
        if self.available:
            try:
                return await shared()
            except REDIS_AWAY as exc:
                self.failed(exc)
        return await local()

    async def _until_back(self) -> None:
        while not self.available:
            await asyncio.sleep(self._interval)
            try:
                await self._redis.ping()
            except REDIS_AWAY:
                continue
            self.recovered()

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
