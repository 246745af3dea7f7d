"""Rate-limit counters that outlive Redis: shared while it answers, in-process while not.

A Redis outage must not turn sign-ins into 500s; for its length each instance counts on
its own (a limit per instance instead of per fleet: looser, still a limit). When Redis is
back, the in-process counts are dropped and the shared ones count again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from maria.backends.health import RedisHealth
from maria.backends.ratelimit import MemoryCounters, RedisCounters


class FallbackCounters:
    def __init__(self, shared: RedisCounters, health: RedisHealth) -> None:
        self._shared = shared
        self._local = MemoryCounters()
        self._health = health
        health.on_back.append(self._local.clear)

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        return await self._health.attempt(
            lambda: self._shared.hit(key, window), lambda: self._local.hit(key, window)
        )

    async def hit_many(
        self, keys: Sequence[str], window: int, *, peek: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        return await self._health.attempt(
            lambda: self._shared.hit_many(keys, window, peek=peek),
            lambda: self._local.hit_many(keys, window, peek=peek),
        )

    async def add_many(self, counts: Mapping[str, int], window: int) -> dict[str, tuple[int, int]]:
        return await self._health.attempt(
            lambda: self._shared.add_many(counts, window),
            lambda: self._local.add_many(counts, window),
        )

    async def peek(self, *keys: str) -> list[tuple[int, int]]:
        return await self._health.attempt(
            lambda: self._shared.peek(*keys), lambda: self._local.peek(*keys)
        )

    async def adjust(self, *, reset: Sequence[str] = (), undo: Sequence[str] = ()) -> None:
        await self._health.attempt(
            lambda: self._shared.adjust(reset=reset, undo=undo),
            lambda: self._local.adjust(reset=reset, undo=undo),
        )

    async def reset(self, key: str) -> None:
        await self.adjust(reset=[key])

    async def undo(self, key: str) -> None:
        await self.adjust(undo=[key])

    async def close(self) -> None:
        await self._shared.close()
        await self._local.close()
