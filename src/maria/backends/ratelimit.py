"""Fixed-window counters for rate limits: in-process or shared through Redis."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class Counters(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one event; return ``(count in window, seconds until the window resets)``."""

    async def peek(self, *keys: str) -> list[tuple[int, int]]:
        """``(count, seconds left)`` of each key without counting (0, 0 when absent)."""

    async def reset(self, key: str) -> None: ...

    async def undo(self, key: str) -> None:
        """Take one count back out of a live window (never below zero, never creating one)."""

    async def close(self) -> None: ...


class MemoryCounters:
    """Counters in a dict; expired windows are swept as new ones are made."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[int, float]] = {}
        self._max_keys = max_keys

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._windows.get(key)
        if entry is not None and entry[1] <= now:
            del self._windows[key]
            return None
        return entry

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        entry = self._live(key, now)
        if entry is None:
            if len(self._windows) >= self._max_keys:
                self._sweep(now)
            entry = (0, now + window)
        count, resets = entry[0] + 1, entry[1]
        self._windows[key] = (count, resets)
        return count, max(1, int(resets - now + 0.999))

    async def peek(self, *keys: str) -> list[tuple[int, int]]:
        now = time.monotonic()
        out = []
        for key in keys:
            entry = self._live(key, now)
            out.append((0, 0) if entry is None else (entry[0], max(1, int(entry[1] - now + 0.999))))
        return out

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def undo(self, key: str) -> None:
        entry = self._live(key, time.monotonic())
        if entry is None:
            return
        if entry[0] <= 1:
            del self._windows[key]
        else:
            self._windows[key] = (entry[0] - 1, entry[1])

    def _sweep(self, now: float) -> None:
        for key in [k for k, (_, resets) in self._windows.items() if resets <= now]:
            del self._windows[key]
        while len(self._windows) >= self._max_keys:  # still full: drop the oldest windows
            del self._windows[next(iter(self._windows))]

    async def close(self) -> None:
        self._windows.clear()


# Decrement a live counter atomically; an expired key stays absent (a plain DECR would create
# it at -1 with no expiry), and a count reaching zero is removed.
_UNDO = """
local count = tonumber(redis.call('GET', KEYS[1]))
if count == nil then return 0 end
if count <= 1 then redis.call('DEL', KEYS[1]) return 0 end
return redis.call('DECR', KEYS[1])
"""


class RedisCounters:
    """INCR + EXPIRE NX in one round trip; every instance sees the same counts."""

    def __init__(self, redis: Redis, prefix: str = "maria:rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._undo = redis.register_script(_UNDO)

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def peek(self, *keys: str) -> list[tuple[int, int]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(self._prefix + key)
                pipe.ttl(self._prefix + key)
            raw = await pipe.execute()
        out = []
        for value, ttl in zip(raw[::2], raw[1::2], strict=True):
            out.append((0, 0) if value is None else (int(value), max(1, int(ttl))))
        return out

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def undo(self, key: str) -> None:
        await self._undo(keys=[self._prefix + key])

    async def close(self) -> None:
        return None
