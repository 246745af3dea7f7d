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
    """Redis pub/sub; reconnects with back-off and tells ``on_reconnect`` hooks to resync."""

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self._redis = redis
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(channel, message)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="maria-broker")
        # Subscribed before serving, so no message published after start is missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def _listen(self) -> None:
        delay = 0.1
        first = True
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(*self.handlers)
                    self._ready.set()
                    if not first:
                        for hook in self.on_reconnect:
                            hook()
                    first, delay = False, 0.1
                    async for msg in pubsub.listen():
                        if msg["type"] == "message":
                            channel, data = msg["channel"], msg["data"]
                            self.dispatch(
                                channel.decode() if isinstance(channel, bytes) else channel,
                                data.decode() if isinstance(data, bytes) else data,
                            )
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning(
                    "redis pub/sub lost (%s); reconnecting in %.1fs", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                first = False

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
