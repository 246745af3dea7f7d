"""Fixed-window counters for rate limits: in-process or shared through Redis."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from redis.asyncio import Redis


class Counters(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one event; return ``(count in window, seconds until the window resets)``."""

    async def hit_many(
        self, keys: Sequence[str], window: int, *, peek: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        """Count one event on each of ``keys`` and read ``peek`` without counting, in one
        round trip; results in that order."""

    async def add_many(self, counts: Mapping[str, int], window: int) -> dict[str, tuple[int, int]]:
        """Count ``counts[key]`` events on each key in one round trip (a batch of one
        sender's messages costs one command, not one per message); each key's new
        ``(count, seconds left)``."""

    async def peek(self, *keys: str) -> list[tuple[int, int]]:
        """``(count, seconds left)`` of each key without counting (0, 0 when absent)."""

    async def adjust(self, *, reset: Sequence[str] = (), undo: Sequence[str] = ()) -> None:
        """``reset`` and ``undo`` several keys in one round trip."""

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
        return self._add(key, 1, window)

    async def add_many(self, counts: Mapping[str, int], window: int) -> dict[str, tuple[int, int]]:
        return {key: self._add(key, n, window) for key, n in counts.items()}

    def _add(self, key: str, n: int, window: int) -> tuple[int, int]:
        now = time.monotonic()
        entry = self._live(key, now)
        if entry is None:
            if len(self._windows) >= self._max_keys:
                self._sweep(now)
            entry = (0, now + window)
        count, resets = entry[0] + n, entry[1]
        self._windows[key] = (count, resets)
        return count, max(1, int(resets - now + 0.999))

    async def hit_many(
        self, keys: Sequence[str], window: int, *, peek: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        hits = [await self.hit(key, window) for key in keys]
        return hits + await self.peek(*peek)

    async def adjust(self, *, reset: Sequence[str] = (), undo: Sequence[str] = ()) -> None:
        for key in reset:
            await self.reset(key)
        for key in undo:
            await self.undo(key)

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
# ``adjust``: KEYS[1..ARGV[1]] are reset, the rest undone.
_ADJUST = """
local resets = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if i <= resets then
    redis.call('DEL', key)
  else
    local count = tonumber(redis.call('GET', key))
    if count ~= nil then
      if count <= 1 then redis.call('DEL', key) else redis.call('DECR', key) end
    end
  end
end
return 0
"""


class RedisCounters:
    """INCR + EXPIRE NX in one round trip; every instance sees the same counts."""

    def __init__(self, redis: Redis, prefix: str = "maria:rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._adjust = redis.register_script(_ADJUST)

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        return (await self.hit_many([key], window))[0]

    async def hit_many(
        self, keys: Sequence[str], window: int, *, peek: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.incr(self._prefix + key)
                pipe.expire(self._prefix + key, window, nx=True)
                pipe.ttl(self._prefix + key)
            for key in peek:
                pipe.get(self._prefix + key)
                pipe.ttl(self._prefix + key)
            raw = await pipe.execute()
        hit_part, peek_part = raw[: 3 * len(keys)], raw[3 * len(keys) :]
        out = [(int(c), max(1, int(t))) for c, t in zip(hit_part[::3], hit_part[2::3], strict=True)]
        for value, ttl in zip(peek_part[::2], peek_part[1::2], strict=True):
            out.append((0, 0) if value is None else (int(value), max(1, int(ttl))))
        return out

    async def add_many(self, counts: Mapping[str, int], window: int) -> dict[str, tuple[int, int]]:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, n in counts.items():
                pipe.incrby(self._prefix + key, n)
                pipe.expire(self._prefix + key, window, nx=True)
                pipe.ttl(self._prefix + key)
            raw = await pipe.execute()
        return {
            key: (int(count), max(1, int(ttl)))
            for key, count, ttl in zip(counts, raw[::3], raw[2::3], strict=True)
        }

    async def peek(self, *keys: str) -> list[tuple[int, int]]:
        return await self.hit_many([], 0, peek=keys)

    async def reset(self, key: str) -> None:
        await self.adjust(reset=[key])

    async def undo(self, key: str) -> None:
        await self.adjust(undo=[key])

    async def adjust(self, *, reset: Sequence[str] = (), undo: Sequence[str] = ()) -> None:
        keys = [self._prefix + k for k in (*reset, *undo)]
        if keys:
            await self._adjust(keys=keys, args=[len(reset)])

    async def close(self) -> None:
        return None
