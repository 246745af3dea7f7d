"""Who is in which room, across instances, and the join/leave events that follow from it.

A user is online in a room while any live instance holds an entry for them; the store
announces ``join`` when the first entry appears and ``leave`` when the last one goes, so
two tabs (or a reconnect landing on another instance while the old entry is still in its
grace period) cause no churn. With Redis the check, the change and the ``PUBLISH`` run in
one Lua script: the order of join/leave events on the channel is the order of the changes.
An instance that dies leaves entries behind; they stop counting once its liveness key
expires, and ``sweep`` removes them and announces the leaves (once, atomically; the script
writes ``events.LeaveEvent``'s wire form itself).

A room's capacity is counted in users present and enforced where presence is decided: the
Redis script counts the live users and adds the entry in one step, and the in-process
store checks and adds in one synchronous step, so joins racing on any number of instances
never take a room past it. A user present already (another tab, another instance, a
reconnect within the grace) is always let in.
"""

from __future__ import annotations

import json
from typing import Protocol

from redis.asyncio import Redis

from maria.backends import channels
from maria.backends.broker import Broker
from maria.backends.health import RedisHealth
from maria.rooms import events
from maria.rooms.events import JoinEvent, LeaveEvent
from maria.rooms.views import Member


class Presence(Protocol):
    async def add(self, room_id: str, member: Member, capacity: int | None = None) -> bool:
        """Hold an entry for ``member`` on this instance (idempotent); False, and no entry,
        if the room already has ``capacity`` users present and ``member`` is not one."""

    async def remove(self, room_id: str, user_id: str, name: str) -> None: ...

    async def members(self, room_id: str) -> list[Member]: ...

    async def sweep(self, room_id: str) -> None: ...

    async def forget(self, room_id: str) -> None: ...

    async def heartbeat(self) -> None: ...


class MemoryPresence:
    """One process: the entries are this process's, events go through the memory broker."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._rooms: dict[str, dict[str, Member]] = {}

    async def add(self, room_id: str, member: Member, capacity: int | None = None) -> bool:
        room = self._rooms.setdefault(room_id, {})
        if member.user_id in room:
            return True
        if capacity is not None and len(room) >= capacity:
            return False
        room[member.user_id] = member
        await self._broker.publish(channels.ROOMS, events.encode(room_id, JoinEvent(member)))
        return True

    async def remove(self, room_id: str, user_id: str, name: str) -> None:
        room = self._rooms.get(room_id, {})
        if room.pop(user_id, None) is not None:
            if not room:
                del self._rooms[room_id]
            await self._broker.publish(
                channels.ROOMS, events.encode(room_id, LeaveEvent(user_id, name))
            )

    async def members(self, room_id: str) -> list[Member]:
        return list(self._rooms.get(room_id, {}).values())

    async def sweep(self, room_id: str) -> None:
        return None

    async def forget(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

    async def heartbeat(self) -> None:
        return None

    def clear(self) -> None:
        self._rooms.clear()


# Fields are "<user id>|<instance id>", values {"name", "since"}; ARGV[1] is the prefix of
# the instances' liveness keys.
_LIVE = """
local function live(inst) return redis.call('EXISTS', ARGV[1] .. inst) == 1 end
local function split(field)
  local sep = string.find(field, '|', 1, true)
  if not sep then return field, '' end
  return string.sub(field, 1, sep - 1), string.sub(field, sep + 1)
end
local function online_elsewhere(key, user, me)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local u, inst = split(field)
    if u == user and inst ~= me and live(inst) then return true end
  end
  return false
end
"""
# ARGV: prefix, user, instance, value, channel, join message, ttl, capacity (0: none).
# Idempotent: an entry this instance holds already is kept as it is (with its ``since``).
# Returns 1 (joined: announced), 0 (present already: nothing to announce), -1 (full).
_ADD = (
    _LIVE
    + """
local field = ARGV[2] .. '|' .. ARGV[3]
if redis.call('HEXISTS', KEYS[1], field) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  return 0
end
local alive, users, count, elsewhere = {}, {}, 0, false
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local u, inst = split(f)
  if alive[inst] == nil then alive[inst] = live(inst) end
  if alive[inst] then
    if u == ARGV[2] then elsewhere = true end
    if not users[u] then users[u] = true; count = count + 1 end
  end
end
local capacity = tonumber(ARGV[8])
if not elsewhere and capacity > 0 and count >= capacity then return -1 end
redis.call('HSET', KEYS[1], field, ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[7])
if elsewhere then return 0 end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
"""
)
# ARGV: prefix, user, instance, channel, leave message
_REMOVE = (
    _LIVE
    + """
if redis.call('HDEL', KEYS[1], ARGV[2] .. '|' .. ARGV[3]) == 0 then return 0 end
if online_elsewhere(KEYS[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
"""
)
# ARGV: prefix -> flat list of live (field, value) pairs
_MEMBERS = (
    _LIVE
    + """
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local _, inst = split(all[i])
  if live(inst) then table.insert(out, all[i]); table.insert(out, all[i + 1]) end
end
return out
"""
)
# ARGV: prefix, channel, room id -> number of leaves announced
_SWEEP = (
    _LIVE
    + """
local all = redis.call('HGETALL', KEYS[1])
local alive, dead = {}, {}
for i = 1, #all, 2 do
  local user, inst = split(all[i])
  if live(inst) then alive[user] = true else table.insert(dead, {all[i], user, all[i + 1]}) end
end
local told = {}
for _, entry in ipairs(dead) do
  redis.call('HDEL', KEYS[1], entry[1])
end
local count = 0
for _, entry in ipairs(dead) do
  local user = entry[2]
  if not alive[user] and not told[user] then
    told[user] = true
    local name = ''
    local ok, value = pcall(cjson.decode, entry[3])
    if ok and type(value) == 'table' and type(value.name) == 'string' then name = value.name end
    local event = cjson.encode({k = 'leave', u = user, n = name})
    redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. event)
    count = count + 1
  end
end
return count
"""
)


class RedisPresence:
    """Entries in one hash per room; instance liveness as keys with a TTL."""

    ALIVE_TTL_MS = 15_000
    ROOM_TTL_S = 86_400

    def __init__(self, redis: Redis, instance: str, prefix: str = "maria:rooms:") -> None:
        self._redis = redis
        self._instance = instance
        self._prefix = prefix
        self._alive_prefix = prefix + "alive:"
        self._add = redis.register_script(_ADD)
        self._remove = redis.register_script(_REMOVE)
        self._members = redis.register_script(_MEMBERS)
        self._sweep = redis.register_script(_SWEEP)

    def _key(self, room_id: str) -> str:
        return f"{self._prefix}online:{room_id}"

    async def heartbeat(self) -> None:
        await self._redis.set(self._alive_prefix + self._instance, b"1", px=self.ALIVE_TTL_MS)

    async def add(self, room_id: str, member: Member, capacity: int | None = None) -> bool:
        value = json.dumps({"name": member.name, "since": member.since}, ensure_ascii=False)
        result = await self._add(
            keys=[self._key(room_id)],
            args=[
                self._alive_prefix,
                member.user_id,
                self._instance,
                value,
                channels.ROOMS,
                events.encode(room_id, JoinEvent(member)),
                self.ROOM_TTL_S,
                capacity or 0,
            ],
        )
        return int(result) != -1

    async def remove(self, room_id: str, user_id: str, name: str) -> None:
        await self._remove(
            keys=[self._key(room_id)],
            args=[
                self._alive_prefix,
                user_id,
                self._instance,
                channels.ROOMS,
                events.encode(room_id, LeaveEvent(user_id, name)),
            ],
        )

    async def members(self, room_id: str) -> list[Member]:
        flat = await self._members(keys=[self._key(room_id)], args=[self._alive_prefix])
        found: dict[str, Member] = {}
        for raw_field, raw_value in zip(flat[::2], flat[1::2], strict=True):
            user_id = _text(raw_field).partition("|")[0]
            try:
                value = json.loads(_text(raw_value))
                member = Member(user_id, str(value["name"]), int(value["since"]))
            except (ValueError, KeyError, TypeError):
                continue
            held = found.get(user_id)
            if held is None or member.since < held.since:
                found[user_id] = member
        return list(found.values())

    async def sweep(self, room_id: str) -> None:
        await self._sweep(
            keys=[self._key(room_id)], args=[self._alive_prefix, channels.ROOMS, room_id]
        )

    async def forget(self, room_id: str) -> None:
        await self._redis.delete(self._key(room_id))


class FallbackPresence:
    """Redis presence while Redis answers; this instance's own members while it does not
    (their join/leave events go out through the broker's local fan-out). When Redis is
    back the local entries are dropped: the broker's reconnect makes every room add its
    members back to Redis and resync."""

    def __init__(self, shared: RedisPresence, broker: Broker, health: RedisHealth) -> None:
        self._shared = shared
        self._local = MemoryPresence(broker)
        self._broker = broker
        self._health = health
        health.on_back.append(self._local.clear)

    async def add(self, room_id: str, member: Member, capacity: int | None = None) -> bool:
        """While Redis is away, capacity is counted among this instance's members only."""
        return await self._health.attempt(
            lambda: self._shared.add(room_id, member, capacity),
            lambda: self._local.add(room_id, member, capacity),
        )

    async def remove(self, room_id: str, user_id: str, name: str) -> None:
        await self._health.attempt(
            lambda: self._shared.remove(room_id, user_id, name),
            lambda: self._remove_locally(room_id, user_id, name),
        )

    async def _remove_locally(self, room_id: str, user_id: str, name: str) -> None:
        """Their last socket here is gone: announce the leave, whether they joined before
        the outage (an entry only Redis held) or during it."""
        if any(m.user_id == user_id for m in await self._local.members(room_id)):
            await self._local.remove(room_id, user_id, name)
        else:
            await self._broker.publish(
                channels.ROOMS, events.encode(room_id, LeaveEvent(user_id, name))
            )

    async def members(self, room_id: str) -> list[Member]:
        return await self._health.attempt(
            lambda: self._shared.members(room_id), lambda: self._local.members(room_id)
        )

    async def sweep(self, room_id: str) -> None:
        await self._health.attempt(
            lambda: self._shared.sweep(room_id), lambda: self._local.sweep(room_id)
        )

    async def forget(self, room_id: str) -> None:
        await self._health.attempt(
            lambda: self._shared.forget(room_id), lambda: self._local.forget(room_id)
        )

    async def heartbeat(self) -> None:
        await self._health.attempt(self._shared.heartbeat, self._local.heartbeat)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
