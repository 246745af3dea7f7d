"""Publish/subscribe between instances: in-process by default, Redis when configured.

Handlers are plain callables run on the event loop for every message on their channel,
including messages this instance published itself, so callers handle local and remote
events in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from maria.backends.health import REDIS_AWAY, RedisHealth

log = logging.getLogger("maria.broker")

Handler = Callable[[str], None]


class Broker(Protocol):
    # Called after a lost connection is back: messages may have been missed meanwhile.
    on_reconnect: list[Callable[[], None]]

    def subscribe(self, channel: str, handler: Handler) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class _Handlers:
    def __init__(self) -> None:
        self.handlers: dict[str, list[Handler]] = defaultdict(list)
        self.on_reconnect: list[Callable[[], None]] = []

    def subscribe(self, channel: str, handler: Handler) -> None:
        self.handlers[channel].append(handler)

    def dispatch(self, channel: str, message: str) -> None:
        for handler in self.handlers.get(channel, ()):
            try:
                handler(message)
            except Exception:
                log.exception("broker handler failed on %s", channel)


class MemoryBroker(_Handlers):
    """One process: publishing is calling the handlers (it never reconnects)."""

    async def publish(self, channel: str, message: str) -> None:
        self.dispatch(channel, message)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisBroker(_Handlers):
    """Redis pub/sub; reconnects with back-off and tells ``on_reconnect`` hooks to resync.

    While it is not subscribed (Redis away), a message is handed to this instance's
    handlers directly: the instance keeps its own fan-out, and the others catch up by their
    polls and resyncs when it is back.
    """

    RECONNECT_MAX = 2.0  # seconds between attempts at most, so recovery is quick

    def __init__(self, redis: Redis, health: RedisHealth) -> None:
        super().__init__()
        self._redis = redis
        self._health = health
        self._task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()  # subscribed, or found Redis away
        self._subscribed = False
        self._wake = asyncio.Event()  # the health probe saw Redis back: retry now
        health.on_back.append(self._wake.set)

    async def publish(self, channel: str, message: str) -> None:
        if self._subscribed and self._health.available:
            try:
                await self._redis.publish(channel, message)
                return
            except REDIS_AWAY as exc:
                self._health.failed(exc)
        self.dispatch(channel, message)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="maria-broker")
        # Subscribed before serving, so no message published after start is missed (or
        # Redis is away: serve on with local fan-out rather than wait for it).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), timeout=5)

    async def _listen(self) -> None:
        delay = 0.1
        lost = False
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(*self.handlers)
                    self._subscribed = True
                    self._settled.set()
                    if lost:
                        log.info("redis pub/sub subscribed again")
                        self._health.recovered()
                        for hook in self.on_reconnect:
                            hook()
                    lost, delay = False, 0.1
                    while True:
                        msg = await pubsub.get_message(timeout=1.0)
                        if msg is not None and msg["type"] == "message":
                            channel, data = msg["channel"], msg["data"]
                            self.dispatch(
                                channel.decode() if isinstance(channel, bytes) else channel,
                                data.decode() if isinstance(data, bytes) else data,
                            )
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._subscribed = False
                self._settled.set()
                self._health.failed(exc)  # logs once per outage, not per attempt
                log.debug("redis pub/sub lost (%s); again in %.1fs", type(exc).__name__, delay)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                delay = min(delay * 2, self.RECONNECT_MAX)
                lost = True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
