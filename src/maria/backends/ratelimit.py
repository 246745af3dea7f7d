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

    def clear(self) -> None:
        self._windows.clear()

    async def close(self) -> None:
        self.clear()


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


# Count and read in one command: the first ARGV[1] keys get INCRBY ARGV[2 + i] (and a window
# of ARGV[2] seconds if they had none); each answers its count and TTL. The other keys are
# read without counting: their count (false when absent) and TTL. One EVALSHA costs the client
# far less than a MULTI/EXEC pipeline of three commands per key.
_COUNT = """
local counted = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  if i <= counted then
    table.insert(out, redis.call('INCRBY', key, ARGV[2 + i]))
    redis.call('EXPIRE', key, ARGV[2], 'NX')
  else
    local value = redis.call('GET', key)
    table.insert(out, value and tonumber(value) or false)
  end
  table.insert(out, redis.call('TTL', key))
end
return out
"""


class RedisCounters:
    """Counting and reading in one round trip (a Lua script); every instance sees the same
    counts."""

    def __init__(self, redis: Redis, prefix: str = "maria:rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._count = redis.register_script(_COUNT)
        self._adjust = redis.register_script(_ADJUST)

    async def _run(
        self, counts: Sequence[tuple[str, int]], window: int, peek: Sequence[str]
    ) -> list[tuple[int, int]]:
        keys = [self._prefix + key for key, _ in counts] + [self._prefix + key for key in peek]
        args = [len(counts), window, *(n for _, n in counts)]
        raw = await self._count(keys=keys, args=args)
        return [
            (0, 0) if count is None else (int(count), max(1, int(ttl)))
            for count, ttl in zip(raw[::2], raw[1::2], strict=True)
        ]

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        return (await self.hit_many([key], window))[0]

    async def hit_many(
        self, keys: Sequence[str], window: int, *, peek: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        return await self._run([(key, 1) for key in keys], window, peek)

    async def add_many(self, counts: Mapping[str, int], window: int) -> dict[str, tuple[int, int]]:
        totals = await self._run(list(counts.items()), window, ())
        return dict(zip(counts, totals, strict=True))

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
