"""Everyone in step, over real sockets, on one ``maria serve`` (SQLite) and on two sharing
Postgres and Redis: the ready gate and its scheduled start, the server-measured clock,
drift, and the shared queue."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import register
from tests.support.lists import Lists
from tests.support.rooms import WAIT, Api, Peer, server_env
from tests.support.servers import Server, started
from tests.support.services import flushed_redis, fresh_postgres

LONG_TIMEOUT = "60"  # the ready gate's timeout: long, so that only the gate starts a play
ADDRESSES = itertools.count(1)  # each user registers from an address of their own


class Setup:
    """One server, or two sharing Postgres and Redis; members are spread over them."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers

    def url(self, i: int) -> str:
        return self.servers[i % len(self.servers)].url

    def restart(self, **env: str) -> None:
        """Stop every process, then start them again (on the same database), with ``env``."""
        for server in self.servers:
            server.stop()
        for server in self.servers:
            server.env.update(env)
            server.start()

    def logs(self) -> str:
        return "".join(server.log() for server in self.servers)


@pytest.fixture(scope="module", params=["one", "two"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    tmp: Path = tmp_path_factory.mktemp(f"sync-{request.param}")
    with ExitStack() as stack:
        if request.param == "one":
            env = server_env(tmp / "data", MARIA_ROOM_READY_TIMEOUT=LONG_TIMEOUT)
            yield Setup([started(stack, "sync-one", env, tmp)])
            return
        redis_url = flushed_redis()
        env = server_env(
            tmp / "data",
            MARIA_DATABASE_URL=stack.enter_context(fresh_postgres()),
            MARIA_REDIS_URL=redis_url,
            MARIA_ROOM_READY_TIMEOUT=LONG_TIMEOUT,
        )
        a = started(stack, "sync-A", env, tmp)  # migrates the database first
        b = started(stack, "sync-B", dict(env), tmp)
        yield Setup([a, b])


@asynccontextmanager
async def client(setup: Setup) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=setup.url(0), timeout=30) as http:
        yield Api(http)


@pytest.fixture
async def api(setup: Setup) -> AsyncIterator[Api]:
    async with client(setup) as found:
        yield found


async def users(api: Api, *names: str) -> list[dict[str, Any]]:
    found = []
    for name in names:
        n = next(ADDRESSES)
        address = f"198.18.{n // 250}.{n % 250 + 1}"
        found.append(
            await register(api.client, display_name=name, headers={"X-Forwarded-For": address})
        )
    return found


def uid(session: dict[str, Any]) -> str:
    return str(session["user"]["id"])


async def pump(peer: Peer, done: Callable[[], bool], within: float = WAIT) -> None:
    """Read (and set aside) frames until ``done``: the peer answers pings meanwhile."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {within}s; last seen: {peer.skipped[-5:]}")
        with suppress(TimeoutError):
            peer.skipped.append(await peer.recv(0.1))


async def settle(*peers: Peer) -> None:
    """Let each peer answer the server's first four pings, then make a round trip: every
    ``clock`` frame those answers caused has arrived (frames are answered in order)."""
    await asyncio.gather(*(pump(p, lambda p=p: len(p.pings) >= 4) for p in peers))  # type: ignore[misc]
    for peer in peers:
        await peer.ping()


def clocks(peer: Peer) -> list[dict[str, Any]]:
    return [f for f in peer.skipped if f["type"] == "clock"]


async def everyone(peers: list[Peer], kind: str, **fields: Any) -> list[dict[str, Any]]:
    return [await p.expect(kind, **fields) for p in peers]


async def report(peer: Peer, state: str, observers: list[Peer], user_id: str) -> None:
    await peer.send({"type": "ready", "state": state})
    await everyone(observers, "ready", user_id=user_id, state=state)


async def close_all(*peers: Peer) -> None:
    for peer in peers:
        await peer.close()


def now_ms() -> int:
    """Unix ms, as the server counts them (floored)."""
    return time.time_ns() // 1_000_000


# -- the ready gate ---------------------------------------------------------------------


async def test_a_play_waits_for_everyone_then_starts_at_one_moment(setup: Setup, api: Api) -> None:
    ann, bob, cat = await users(api, "Ann", "Bob", "Cat")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"], answer_pings=True)
    b = await Peer.open(setup.url(1), room, bob["access_token"], answer_pings=True)
    # Cat answers the server's pings 150 ms late: the highest round trip of the room.
    c = await Peer.open(setup.url(0), room, cat["access_token"], answer_pings=True, pong_delay=0.15)
    peers = [a, b, c]
    await settle(*peers)
    assert min(f["rtt"] for f in clocks(c)) >= 150 and all(clocks(p) for p in peers)

    await report(a, "ready", peers, uid(ann))
    await report(c, "ready", peers, uid(cat))
    await report(b, "buffering", peers, uid(bob))
    await a.send({"type": "playback", "action": "play", "position": 10})
    waiting = await everyone(peers, "playback")
    assert all(w == waiting[0] for w in waiting)
    assert waiting[0]["state"] == "waiting" and waiting[0]["position"] == 10
    assert waiting[0]["by"] == uid(ann)

    sent = now_ms()
    await b.send({"type": "ready", "state": "ready"})
    for peer in peers:  # Bob's report first, then the start that followed from it
        await peer.expect("ready", user_id=uid(bob), state="ready")
    starts = await everyone(peers, "playback")
    start = starts[0]
    assert all(s == start for s in starts)  # the same frame, so the same `at`, for everyone
    assert start["state"] == "playing" and start["position"] == 10
    assert start["seq"] == waiting[0]["seq"] + 1 and start["by"] == uid(ann)
    # Scheduled ahead: at least 200 ms and twice the highest round trip after the report.
    # (Cat's estimate when she reported was at least the lowest she was ever told.)
    await c.ping()
    cat_rtt = min(f["rtt"] for f in clocks(c))
    assert start["at"] >= sent + 200
    assert start["at"] >= sent + 2 * cat_rtt
    detail = (await api.get(ann, f"/api/v1/rooms/{room}")).json()
    assert detail["playback"] == {k: v for k, v in start.items() if k != "type"}
    late = await Peer.open(setup.url(1), room, ann["access_token"])
    assert late.welcome["playback"] == detail["playback"]
    assert late.welcome["ready"] == {uid(ann): "ready", uid(bob): "ready", uid(cat): "ready"}
    await close_all(late, *peers)


async def test_play_anyway_starts_at_once(setup: Setup, api: Api) -> None:
    ann, bob = await users(api, "Ann", "Bob")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    await report(b, "buffering", [a, b], uid(bob))
    sent = now_ms()
    await a.send({"type": "playback", "action": "play", "position": 3, "force": True})
    starts = await everyone([a, b], "playback")
    assert starts[0] == starts[1] and starts[0]["state"] == "playing"
    assert starts[0]["at"] >= sent + 200
    # Nobody buffering: a play starts ahead without waiting.
    await report(b, "ready", [a, b], uid(bob))
    await a.send({"type": "playback", "action": "pause"})
    await everyone([a, b], "playback", state="paused")
    await a.send({"type": "playback", "action": "play"})
    assert [f["state"] for f in await everyone([a, b], "playback")] == ["playing", "playing"]
    await close_all(a, b)


async def test_a_member_who_drops_while_waiting_does_not_block(setup: Setup, api: Api) -> None:
    ann, bob, cat = await users(api, "Ann", "Bob", "Cat")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    c = await Peer.open(setup.url(0), room, cat["access_token"])
    await report(b, "buffering", [a, b, c], uid(bob))
    await a.send({"type": "playback", "action": "play", "position": 0})
    await everyone([a, b, c], "playback", state="waiting")
    await b.close()  # gone while buffering
    for peer in (a, c):  # `unknown` at once, then the start
        await peer.expect("ready", user_id=uid(bob), state="unknown")
        assert (await peer.expect("playback"))["state"] == "playing"
        # ... long before the reconnect grace ends and the leave is announced.
        assert not [f for f in peer.skipped if f["type"] == "presence" and f["event"] == "leave"]
    late = await Peer.open(setup.url(0), room, cat["access_token"])
    assert late.welcome["ready"] == {}  # nobody else reported; Bob's state is gone
    await close_all(late, a, c)


async def test_a_member_who_joins_while_waiting_blocks_only_once_buffering(
    setup: Setup, api: Api
) -> None:
    ann, bob, dan = await users(api, "Ann", "Bob", "Dan")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    await report(b, "buffering", [a, b], uid(bob))
    await a.send({"type": "playback", "action": "play", "position": 0})
    await everyone([a, b], "playback", state="waiting")

    d = await Peer.open(setup.url(1), room, dan["access_token"])  # joins while waiting
    assert d.welcome["playback"]["state"] == "waiting"
    assert d.welcome["ready"] == {uid(bob): "buffering"}  # Dan has no state: he holds nothing
    await report(d, "buffering", [a, b, d], uid(dan))
    await report(b, "ready", [a, b, d], uid(bob))
    await asyncio.sleep(0.5)  # time enough for a start that must not come
    detail = (await api.get(ann, f"/api/v1/rooms/{room}")).json()
    assert detail["playback"]["state"] == "waiting"
    assert not [f for f in a.skipped if f["type"] == "playback" and f["state"] == "playing"]
    await d.send({"type": "ready", "state": "ready"})
    for peer in (a, b, d):
        await peer.expect("ready", user_id=uid(dan), state="ready")
        assert (await peer.expect("playback"))["state"] == "playing"
    await close_all(a, b, d)

    # Someone who joins and never reports holds nothing either.
    ann2, eve = await users(api, "Ann", "Eve")
    room = (await api.room(ann2))["id"]
    a = await Peer.open(setup.url(0), room, ann2["access_token"])
    e = await Peer.open(setup.url(1), room, eve["access_token"])
    await a.send({"type": "playback", "action": "play", "position": 0})
    assert [f["state"] for f in await everyone([a, e], "playback")] == ["playing", "playing"]
    await close_all(a, e)


async def test_an_instance_new_to_the_room_learns_who_is_buffering(setup: Setup, api: Api) -> None:
    """With two instances: Ann and Bob on the first; Cat is the first member the second
    one serves. It has heard none of the earlier reports, so it asks; Cat's `ready` then
    starts nothing while Bob is buffering."""
    ann, bob, cat = await users(api, "Ann", "Bob", "Cat")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(0), room, bob["access_token"])
    await report(a, "ready", [a, b], uid(ann))
    await report(b, "buffering", [a, b], uid(bob))
    await a.send({"type": "playback", "action": "play", "position": 0})
    await everyone([a, b], "playback", state="waiting")

    c = await Peer.open(setup.url(1), room, cat["access_token"])
    known = dict(c.welcome["ready"])
    while known != {uid(ann): "ready", uid(bob): "buffering"}:  # in the welcome, or after it
        frame = await c.expect("ready")
        known[frame["user_id"]] = frame["state"]
    await report(c, "ready", [a, b, c], uid(cat))
    await asyncio.sleep(0.5)  # time enough for a start that must not come
    detail = (await api.get(ann, f"/api/v1/rooms/{room}")).json()
    assert detail["playback"]["state"] == "waiting"
    await b.send({"type": "ready", "state": "ready"})
    starts = await everyone([a, b, c], "playback", state="playing")
    assert all(s == starts[0] for s in starts)
    await close_all(a, b, c)


async def test_the_ready_timeout_starts_a_waiting_play(setup: Setup) -> None:
    setup.restart(MARIA_ROOM_READY_TIMEOUT="1")
    try:
        async with client(setup) as api:
            ann, bob = await users(api, "Ann", "Bob")
            room = (await api.room(ann))["id"]
            a = await Peer.open(setup.url(0), room, ann["access_token"])
            b = await Peer.open(setup.url(1), room, bob["access_token"])
            await report(b, "buffering", [a, b], uid(bob))
            await a.send({"type": "playback", "action": "play", "position": 5})
            waiting = await a.expect("playback", state="waiting")
            starts = await everyone([a, b], "playback", state="playing")
            assert starts[0] == starts[1]
            assert starts[0]["at"] >= waiting["at"] + 1000 + 200  # the timeout, then the lead
            assert starts[0]["seq"] == waiting["seq"] + 1
            await close_all(a, b)
    finally:
        setup.restart(MARIA_ROOM_READY_TIMEOUT=LONG_TIMEOUT)


# -- the clock --------------------------------------------------------------------------


async def test_the_server_measures_each_members_clock(setup: Setup, api: Api) -> None:
    (ann,) = await users(api, "Ann")
    room = (await api.room(ann))["id"]
    # Ann's clock is 5 s ahead; she answers the first ping 300 ms late, the others at once.
    a = await Peer.open(
        setup.url(1), room, ann["access_token"], answer_pings=True, pong_delay=0.3, clock_skew=5000
    )
    await pump(a, lambda: len(a.pings) >= 1)
    assert a.pings[0]["t0"] >= a.welcome["server_time"]  # right after the welcome
    a.pong_delay = 0.0
    await settle(a)
    estimates = clocks(a)
    assert estimates[0]["rtt"] >= 300  # the first sample is the only one, so the estimate
    rtts = [e["rtt"] for e in estimates]
    assert rtts == sorted(rtts, reverse=True) and rtts[-1] < 300  # the lowest round trip wins
    best = estimates[-1]
    assert abs(best["offset"] - 5000) <= best["rtt"] / 2 + 5
    assert len(a.pings) == 4 and len(estimates) <= 4

    for bad in (
        {"type": "pong", "t1": now_ms()},  # no t0
        {"type": "pong", "t0": a.pings[0]["t0"] + 1, "t1": now_ms()},  # no such ping
        {"type": "pong", "t0": a.pings[0]["t0"]},  # no t1
        {"type": "pong", "t0": "now", "t1": 1},
    ):
        await a.send(bad)
        assert (await a.expect("error"))["code"] == "validation_error", bad
    await a.ping()  # the socket lives
    await a.close()


# -- drift ------------------------------------------------------------------------------


async def test_a_member_out_of_step_is_told_how_far(setup: Setup, api: Api) -> None:
    ann, bob = await users(api, "Ann", "Bob")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    await a.send({"type": "playback", "action": "play", "position": 100})
    state = await b.expect("playback", state="playing")
    await asyncio.sleep(max(0.0, (state["at"] - now_ms()) / 1000) + 0.05)  # it has started

    def live(at: float) -> float:
        return float(state["position"]) + (at - state["at"]) / 1000

    at = now_ms()
    await b.send({"type": "position", "position": live(at) + 1.0, "at": at})
    drift = await b.expect("drift")
    assert drift["delta"] == pytest.approx(1.0, abs=0.01) and drift["at"] == pytest.approx(at)
    assert drift["position"] == pytest.approx(live(at), abs=0.01)
    at = now_ms()
    await b.send({"type": "position", "position": live(at) - 0.3, "at": at})
    assert (await b.expect("drift"))["delta"] == pytest.approx(-0.3, abs=0.01)
    seen = len(b.skipped)
    at = now_ms()
    await b.send({"type": "position", "position": live(at) + 0.02, "at": at})  # in step
    await b.send({"type": "position", "position": 1.0, "at": at - 20_000})  # long ago
    await b.ping()  # answered in order: a drift frame would have come before the pong
    assert not [f for f in b.skipped[seen:] if f["type"] in ("drift", "error")]

    await a.send({"type": "playback", "action": "pause"})
    paused = await b.expect("playback", state="paused")
    at = now_ms()
    await b.send({"type": "position", "position": paused["position"] + 2, "at": at})
    drift = await b.expect("drift")
    assert drift["delta"] == pytest.approx(2.0)
    assert drift["position"] == pytest.approx(paused["position"], abs=0.001)
    seen = len(b.skipped)
    await b.send({"type": "position", "position": paused["position"] + 0.01, "at": now_ms()})
    await b.ping()
    assert not [f for f in b.skipped[seen:] if f["type"] == "drift"]
    assert not [f for f in a.skipped if f["type"] == "drift"]  # only the member hears of it
    for bad in (
        '{"type": "position", "position": NaN, "at": 1}',
        '{"type": "position", "position": -1, "at": 1}',
        '{"type": "position", "position": 604801, "at": 1}',
        '{"type": "position", "position": 1e400, "at": 1}',
        '{"type": "position", "position": 5}',
    ):
        await b.send(bad)
        assert (await b.expect("error"))["code"] in ("validation_error", "invalid_json"), bad
    await b.ping()
    await close_all(a, b)


# -- the queue --------------------------------------------------------------------------


async def queue_op(actor: Peer, peers: list[Peer], op: str, **fields: Any) -> dict[str, Any]:
    """Send a queue operation; the one queue frame every member receives for it."""
    await actor.send({"type": "queue", "op": op, **fields})
    frames = await everyone(peers, "queue")
    assert all(f == frames[0] for f in frames), frames
    return frames[0]


def films(queue: dict[str, Any]) -> list[int]:
    return [entry["movie_id"] for entry in queue["items"]]


async def test_the_queue_advances_identically_everywhere(setup: Setup, api: Api) -> None:
    ann, bob, cat = await users(api, "Ann", "Bob", "Cat")
    weekend = await Lists(api.client, ann).create("Weekend")
    await Lists(api.client, ann).add(weekend["slug"], 501, 502, 503)
    room = (await api.room(ann, movie_id=301))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    c = await Peer.open(setup.url(0), room, cat["access_token"])
    peers = [a, b, c]
    assert a.welcome["queue"] == {
        "items": [],
        "index": None,
        "movie_id": 301,
        "media_seq": 0,
        "seq": 0,
    }

    q = await queue_op(a, peers, "add", movie_id=326)
    assert films(q) == [326] and q["seq"] == 1 and q["items"][0]["added_by"] == uid(ann)
    q = await queue_op(a, peers, "add", movie_id=435)
    q = await queue_op(a, peers, "add_list", slug=weekend["slug"])  # oldest first
    assert films(q) == [326, 435, 501, 502, 503] and q["seq"] == 3
    assert len({e["id"] for e in q["items"]}) == 5
    q = await queue_op(a, peers, "move", index=4, to=0)
    assert films(q) == [503, 326, 435, 501, 502] and q["index"] is None
    q = await queue_op(a, peers, "remove", index=2)
    assert films(q) == [503, 326, 501, 502]
    assert (q["movie_id"], q["media_seq"]) == (301, 0)  # no media change so far

    # next: a media change; the room was paused, so it stays paused, at 0.
    q = await queue_op(a, peers, "next")
    assert (q["index"], q["movie_id"], q["media_seq"]) == (0, 503, 1)
    assert {p["state"] for p in await everyone(peers, "playback")} == {"paused"}
    # Everyone present is now buffering the new film; once all are ready it plays.
    await a.send({"type": "playback", "action": "play"})
    assert (await a.expect("playback"))["state"] == "waiting"
    for peer, session in zip(peers, (ann, bob, cat), strict=True):
        await peer.send({"type": "ready", "state": "ready", "movie_id": 503})
        await a.expect("ready", user_id=uid(session), state="ready")
    starts = await everyone(peers, "playback", state="playing")
    assert starts[0]["position"] == 0 and all(s == starts[0] for s in starts)

    # next while playing: the new film waits at 0 for everyone to load it.
    q = await queue_op(a, peers, "next")
    assert (q["index"], q["movie_id"], q["media_seq"]) == (1, 326, 2)
    changed = await everyone(peers, "playback")
    assert all(p == changed[0] for p in changed)
    assert changed[0]["state"] == "waiting" and changed[0]["position"] == 0
    # A late report about the previous film counts for nothing.
    await b.send({"type": "ready", "state": "ready", "movie_id": 503})
    await b.send({"type": "ready", "state": "buffering", "movie_id": 326})  # as it was: no frame
    await b.send({"type": "ready", "state": "ready", "movie_id": 326})
    await a.expect("ready", user_id=uid(bob), state="ready")
    assert not [f for f in a.skipped if f["type"] == "ready" and f["state"] == "buffering"]
    late = await Peer.open(setup.url(1), room, ann["access_token"])
    assert late.welcome["ready"] == {
        uid(ann): "buffering",
        uid(bob): "ready",
        uid(cat): "buffering",
    }
    await late.close()

    q = await queue_op(a, peers, "previous")
    assert (q["index"], q["movie_id"], q["media_seq"]) == (0, 503, 3)
    assert (await a.expect("playback"))["state"] == "waiting"
    q = await queue_op(a, peers, "play", index=3)
    assert (q["index"], q["movie_id"], q["media_seq"]) == (3, 502, 4)
    await everyone(peers, "playback", state="waiting")
    q = await queue_op(a, peers, "clear")
    assert q["items"] == [] and q["index"] is None and q["movie_id"] == 502 and q["seq"] == 10
    detail = (await api.get(bob, f"/api/v1/rooms/{room}")).json()
    assert detail["queue"] == {k: v for k, v in q.items() if k != "type"}
    assert detail["movie_id"] == 502
    assert not [f for p in peers for f in p.skipped if f["type"] == "error"]
    await close_all(*peers)


async def test_the_queue_survives_a_restart(setup: Setup, api: Api) -> None:
    (ann,) = await users(api, "Ann")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(1), room, ann["access_token"])
    for movie in (11, 12, 13):
        await queue_op(a, [a], "add", movie_id=movie)
    before = await queue_op(a, [a], "next")
    await a.close()
    setup.restart()
    async with client(setup) as fresh:
        detail = (await fresh.get(ann, f"/api/v1/rooms/{room}")).json()
    queue = {k: v for k, v in before.items() if k != "type"}
    assert detail["queue"] == queue and detail["movie_id"] == 11
    b = await Peer.open(setup.url(1), room, ann["access_token"])
    assert b.welcome["queue"] == queue
    after = await queue_op(b, [b], "next")
    assert (after["movie_id"], after["media_seq"], after["seq"]) == (12, 2, before["seq"] + 1)
    await b.close()


async def test_concurrent_queue_edits_are_never_lost(setup: Setup, api: Api) -> None:
    ann, bob = await users(api, "Ann", "Bob")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    await a.send({"type": "control", "mode": "everyone"})
    await everyone([a, b], "control", mode="everyone")

    async def adds(peer: Peer, base: int) -> None:
        for n in range(20):
            await peer.send({"type": "queue", "op": "add", "movie_id": base + n})

    await asyncio.gather(adds(a, 1000), adds(b, 2000))  # both instances, at once
    finals = []
    for peer in (a, b):
        frame = await peer.expect("queue")
        while len(frame["items"]) < 40:
            frame = await peer.expect("queue")
        finals.append(frame)
    assert finals[0] == finals[1] and finals[0]["seq"] == 40  # one change each, none lost
    queued = films(finals[0])
    assert [m for m in queued if m < 2000] == list(range(1000, 1020))  # each in its order
    assert [m for m in queued if m >= 2000] == list(range(2000, 2020))
    assert not [f for f in a.skipped + b.skipped if f["type"] == "error"]
    await close_all(a, b)


# -- bad input --------------------------------------------------------------------------


async def test_bad_input_is_an_error_frame_and_the_socket_lives(setup: Setup, api: Api) -> None:
    ann, bob = await users(api, "Ann", "Bob")
    room = (await api.room(ann))["id"]
    a = await Peer.open(setup.url(0), room, ann["access_token"])
    b = await Peer.open(setup.url(1), room, bob["access_token"])
    await queue_op(a, [a, b], "add", movie_id=301)
    await queue_op(a, [a, b], "add", movie_id=302)

    async def refused(peer: Peer, frame: dict[str, Any] | str, code: str, says: str = "") -> None:
        await peer.send(frame)
        error = await peer.expect("error")
        assert error["code"] == code, (frame, error)
        assert says in error["message"], (frame, error)
        await peer.ping()  # the socket lives

    await refused(a, {"type": "rewind"}, "unknown_type")
    await refused(a, {"type": "queue", "op": "remove", "index": 7}, "not_found", "index 7")
    await refused(a, {"type": "queue", "op": "play", "index": 2}, "not_found", "index 2")
    await refused(a, {"type": "queue", "op": "move", "index": 0, "to": 5}, "not_found", "index 5")
    await refused(a, {"type": "queue", "op": "move", "index": 9, "to": 0}, "not_found", "index 9")
    await refused(a, {"type": "queue", "op": "move", "index": 0, "to": -1}, "validation_error")
    await refused(a, {"type": "queue", "op": "previous"}, "not_found")
    await refused(a, {"type": "queue", "op": "add_list", "slug": "no-such-list"}, "not_found")
    await refused(a, {"type": "queue", "op": "add_list", "slug": "../\u0000"}, "not_found")
    await refused(a, {"type": "queue", "op": "add", "movie_id": "301"}, "validation_error")
    await refused(a, {"type": "ready", "state": "loading"}, "validation_error", "'state'")
    await refused(a, '{"type": "position", "position": NaN, "at": 1}', "invalid_json")
    await refused(a, {"type": "position", "position": -1, "at": 1}, "validation_error")
    await refused(a, {"type": "position", "position": 1e9, "at": 1}, "validation_error")
    await refused(a, {"type": "pong", "t1": 1}, "validation_error", "'t0'")
    await refused(b, {"type": "queue", "op": "add", "movie_id": 5}, "forbidden")
    await refused(b, {"type": "queue", "op": "next"}, "forbidden")
    await refused(b, {"type": "playback", "action": "play", "force": True}, "forbidden")

    # Over the cap: a list of 600 fills the queue to 500; then nothing more fits.
    imported = await Lists(api.client, ann).import_({"favorites": list(range(1, 601))})
    assert imported.status_code == 200, imported.text
    q = await queue_op(a, [a, b], "add_list", slug="favorites")
    assert len(q["items"]) == 500 and films(q)[2:5] == [1, 2, 3]
    await refused(a, {"type": "queue", "op": "add", "movie_id": 7}, "conflict", "full")
    await refused(a, {"type": "queue", "op": "add_list", "slug": "favorites"}, "conflict")
    # An empty list adds nothing: the caller still gets the queue as it is.
    empty = await Lists(api.client, ann).create("Empty")
    await a.send({"type": "queue", "op": "add_list", "slug": empty["slug"]})
    assert (await a.expect("queue")) == q
    assert not [f for f in b.skipped if f["type"] == "error"]  # Bob saw only his own

    detail = await api.get(ann, f"/api/v1/rooms/{room}")
    assert detail.status_code == 200 and len(detail.json()["queue"]["items"]) == 500
    assert "Traceback" not in setup.logs()
    await close_all(a, b)
