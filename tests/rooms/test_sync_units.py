"""The pure parts of keeping a room in step: the gate's lead and ready board, the clock
estimate, drift, the queue's operations, and their broker events."""

from __future__ import annotations

import itertools

import pytest

from maria.errors import Conflict, NotFound
from maria.rooms import events, queue
from maria.rooms.clock import SAMPLES, BadPong, Clock, Estimate
from maria.rooms.drift import drift
from maria.rooms.events import (
    PlaybackEvent,
    QueueEvent,
    ReadyEvent,
    ReadyFillEvent,
    ReadyQueryEvent,
)
from maria.rooms.gate import (
    MAX_RTT_MS,
    MIN_LEAD_MS,
    ReadyBoard,
    after_media_change,
    due,
    lead_ms,
    started,
)
from maria.rooms.playback import Playback, apply
from maria.rooms.queue import MAX_QUEUE, Entry, Queue

T0 = 1_700_000_000_000  # unix ms

# -- the gate -------------------------------------------------------------------------


def test_the_lead_is_twice_the_highest_round_trip_and_at_least_200_ms() -> None:
    assert lead_ms([]) == MIN_LEAD_MS == 200
    assert lead_ms([0.0, 40.0, 99.0]) == 200  # 2 × 99 < 200
    assert lead_ms([10.0, 180.0, 30.0]) == 360
    assert lead_ms([120.4]) == 241  # rounded up: never less than 2 × the round trip
    assert lead_ms([60_000.0]) == 2 * MAX_RTT_MS  # one bad line cannot hold the room long


def test_a_play_waits_or_starts_ahead() -> None:
    paused = Playback(state="paused", position=30.0, at=T0, seq=3)
    waiting = apply(paused, "play", None, "ann", T0 + 5, wait=True, lead_ms=400)
    assert waiting == Playback("waiting", 30.0, T0 + 5, "ann", 4)
    playing = apply(paused, "play", 12.0, "ann", T0 + 5, lead_ms=360)
    assert playing == Playback("playing", 12.0, T0 + 365, "ann", 4)  # scheduled ahead
    # A pause or seek while waiting: a pause stops waiting, a seek keeps waiting.
    assert apply(waiting, "seek", 50.0, "bob", T0 + 9).state == "waiting"
    assert apply(waiting, "pause", None, "bob", T0 + 9) == Playback(
        "paused", 30.0, T0 + 9, "bob", 5
    )
    # The waiting play starts where it waits, `lead` ahead, still "by" who asked.
    go = started(waiting, T0 + 2000, 250)
    assert go == Playback("playing", 30.0, T0 + 2250, "ann", 5)
    assert not due(waiting, T0 + 5 + 7999, 8000) and due(waiting, T0 + 5 + 8000, 8000)
    assert not due(go, T0 + 99_999, 8000)  # only a waiting play times out


def test_a_media_change_restarts_from_zero_through_the_gate() -> None:
    playing = Playback("playing", 1234.5, T0, "ann", 7)
    assert after_media_change(playing, "bob", T0 + 1) == Playback("waiting", 0.0, T0 + 1, "bob", 8)
    paused = Playback("paused", 99.0, T0, "ann", 2)
    assert after_media_change(paused, "bob", T0 + 1) == Playback("paused", 0.0, T0 + 1, "bob", 3)
    waiting = Playback("waiting", 5.0, T0, "ann", 4)
    assert after_media_change(waiting, "bob", T0 + 1).state == "waiting"


def test_the_ready_board() -> None:
    board = ReadyBoard()
    assert not board.blocking() and board.states() == {}
    assert board.report("ann", "ready", 0, 20.0)
    assert board.report("bob", "buffering", 0, 0.0)
    assert not board.report("bob", "buffering", 0, 90.0)  # no change of state (rtt taken)
    assert board.blocking() and board.states() == {"ann": "ready", "bob": "buffering"}
    assert board.lead_ms() == 200
    assert board.lead_ms({"cat": 150.0}) == 300  # a local socket's round trip counts too
    assert board.report("bob", "ready", 0, 0.0) and not board.blocking()
    # A new film: everyone present is buffering it; someone not present has no state.
    board.media_changed(1, ["ann", "bob", "dan"])
    assert board.states() == {"ann": "buffering", "bob": "buffering", "dan": "buffering"}
    assert not board.report("ann", "ready", 0, 0.0)  # late: about the previous film
    assert board.state("ann") == "buffering"
    assert board.report("ann", "ready", 1, 0.0)
    # A report for the next film that arrives before the change stands through it.
    assert board.report("bob", "ready", 2, 0.0)
    board.media_changed(2, ["ann", "bob"])
    assert board.states() == {"ann": "buffering", "bob": "ready"}
    # Gone: no state, no round trip.
    assert board.drop("ann") and not board.drop("ann")
    assert board.state("ann") is None and not board.blocking()
    assert board.lead_ms({"bob": 130.0}) == 260  # bob's 90 ms reported, 130 ms measured here


def test_another_instances_word_fills_only_what_a_board_lacks() -> None:
    board = ReadyBoard()
    board.report("ann", "ready", 3, 0.0)
    assert not board.fill("ann", "buffering", 3, 0.0)  # what it heard itself stands
    assert board.fill("bob", "buffering", 3, 400.0)
    assert board.states() == {"ann": "ready", "bob": "buffering"}
    assert board.lead_ms() == 800  # the answer brings the round trip too


# -- the clock ------------------------------------------------------------------------


def test_the_estimate_is_the_sample_with_the_lowest_round_trip() -> None:
    clock = Clock(next_ping=0.0)
    assert clock.rtt == 0.0 and clock.best is None
    sent = [clock.ping(T0), clock.ping(T0 + 100), clock.ping(T0 + 200)]
    # The client's clock is 5 s ahead; answers arrive after 80, 20 and 50 ms.
    first = clock.sample(sent[0], T0 + 5040, T0 + 80)
    assert first == Estimate(80.0, 5000.0)
    assert clock.sample(sent[1], T0 + 100 + 5010, T0 + 120) == Estimate(20.0, 5000.0)
    assert clock.sample(sent[2], T0 + 200 + 5025, T0 + 250) is None  # 50 ms: not better
    assert clock.best == Estimate(20.0, 5000.0) and clock.rtt == 20.0


def test_only_the_last_samples_count() -> None:
    clock = Clock(next_ping=0.0)
    t0 = clock.ping(T0)
    assert clock.sample(t0, T0, T0 + 1) == Estimate(1.0, -0.5)
    for n in range(1, SAMPLES):  # seven slower ones: the 1 ms sample stays the best
        sent = clock.ping(T0 + 1000 * n)
        assert clock.sample(sent, sent + 15, sent + 30) is None
    newest = clock.ping(T0 + 99_000)  # the eighth pushes the 1 ms sample out
    changed = clock.sample(newest, newest + 20, newest + 40)
    assert changed == Estimate(30.0, 0.0)  # the best of the last eight (the newest of equals)
    assert clock.rtt == 30.0


def test_a_pong_answers_only_a_recent_ping() -> None:
    clock = Clock(next_ping=0.0)
    with pytest.raises(BadPong):
        clock.sample(T0, T0, T0 + 5)  # never sent
    old = clock.ping(T0)
    for n in range(1, 5):
        clock.ping(T0 + n)
    with pytest.raises(BadPong):
        clock.sample(old, T0, T0 + 10)  # four newer pings since: forgotten


# -- drift ----------------------------------------------------------------------------


def test_drift_is_the_distance_from_the_live_position() -> None:
    playing = Playback("playing", 100.0, T0, "ann", 3)
    ahead = drift(playing, 111.0, T0 + 10_000, T0 + 10_050)
    assert ahead is not None and ahead.delta == pytest.approx(1.0)
    assert ahead.position == 110.0 and ahead.at == T0 + 10_000
    behind = drift(playing, 109.7, T0 + 10_000, T0 + 10_000)
    assert behind is not None and behind.delta == pytest.approx(-0.3)
    assert drift(playing, 110.05, T0 + 10_000, T0 + 10_000) is None  # within 0.05 s
    assert drift(playing, 109.96, T0 + 10_000, T0 + 10_000) is None


def test_drift_ignores_reports_about_other_moments() -> None:
    playing = Playback("playing", 100.0, T0, "ann", 3)
    assert drift(playing, 500.0, T0 + 20_000, T0 + 31_000) is None  # 11 s before now
    assert drift(playing, 500.0, T0 + 42_000, T0 + 31_000) is None  # 11 s after now
    assert drift(playing, 500.0, T0 - 1, T0 + 5) is None  # before the state held
    scheduled = Playback("playing", 100.0, T0 + 300, "ann", 4)  # a start 300 ms ahead
    assert drift(scheduled, 100.0, T0 + 100, T0 + 100) is None


def test_drift_on_a_paused_or_waiting_room() -> None:
    for still in (Playback("paused", 42.0, T0, "ann", 2), Playback("waiting", 42.0, T0, "ann", 2)):
        assert drift(still, 42.04, T0 + 5000, T0 + 5000) is None
        off = drift(still, 44.0, T0 + 5000, T0 + 5000)
        assert off is not None and off.delta == pytest.approx(2.0) and off.position == 42.0


# -- the queue ------------------------------------------------------------------------


def ids() -> itertools.count[int]:
    return itertools.count(1)


def fill(films: list[int]) -> Queue:
    counter = ids()
    return queue.add(Queue(movie_id=1), films, "ann", lambda: f"e{next(counter)}")


def movies(q: Queue) -> list[int]:
    return [entry.movie_id for entry in q.items]


def test_add_appends_and_fills_up_to_the_cap() -> None:
    q = fill([10, 20])
    assert q.items == (Entry("e1", 10, "ann"), Entry("e2", 20, "ann")) and q.seq == 1
    assert q.index is None and q.media_seq == 0 and q.movie_id == 1  # no media change
    assert queue.add(q, [], "ann", str) is q  # nothing to add: nothing changes
    big = fill(list(range(1, 700)))
    assert len(big.items) == MAX_QUEUE and movies(big) == list(range(1, MAX_QUEUE + 1))
    with pytest.raises(Conflict):
        queue.add(big, [5], "bob", str)
    nearly = fill(list(range(MAX_QUEUE - 1)))
    assert len(queue.add(nearly, [1, 2, 3], "bob", str).items) == MAX_QUEUE


def test_next_previous_and_play_change_the_media() -> None:
    q = fill([10, 20, 30])
    first = queue.next_entry(q)  # nothing current: the first entry
    assert (first.index, first.movie_id, first.media_seq, first.seq) == (0, 10, 1, 2)
    second = queue.next_entry(first)
    assert (second.index, second.movie_id, second.media_seq) == (1, 20, 2)
    assert queue.media_changed(first, second)
    back = queue.previous_entry(second)
    assert (back.index, back.movie_id, back.media_seq) == (0, 10, 3)
    with pytest.raises(NotFound):
        queue.previous_entry(back)
    third = queue.play(back, 2)
    assert (third.index, third.movie_id) == (2, 30)
    with pytest.raises(NotFound):
        queue.next_entry(third)
    with pytest.raises(NotFound, match="No queue entry at index 3"):
        queue.play(third, 3)
    again = queue.play(third, 2)  # the current one again: restarts (a media change)
    assert again.media_seq == third.media_seq + 1


def test_remove_and_move_keep_the_current_entry() -> None:
    q = queue.play(fill([10, 20, 30, 40]), 2)  # 30 is playing
    assert queue.remove(q, 0).index == 1  # an entry before it: it moves up
    assert queue.remove(q, 3).index == 2  # after it: nothing moves
    gone = queue.remove(q, 2)  # the current one: it plays on, but is no entry any more
    assert gone.index is None and gone.movie_id == 30 and movies(gone) == [10, 20, 40]
    assert not queue.media_changed(q, gone)
    with pytest.raises(NotFound, match="index 4"):
        queue.remove(q, 4)
    moved = queue.move(q, 2, 0)  # the current one moves: it stays current
    assert movies(moved) == [30, 10, 20, 40] and moved.index == 0
    assert queue.move(q, 0, 3).index == 1  # one from before it to after it
    assert movies(queue.move(q, 0, 3)) == [20, 30, 40, 10]
    assert queue.move(q, 3, 0).index == 3  # one from after it to before it
    in_place = queue.move(q, 1, 1)  # a change all the same
    assert in_place.items == q.items and in_place.seq == q.seq + 1
    with pytest.raises(NotFound):
        queue.move(q, 0, 4)  # no index 4 to move to
    with pytest.raises(NotFound):
        queue.move(q, 9, 0)


def test_clear_empties_the_queue_and_the_film_plays_on() -> None:
    q = queue.play(fill([10, 20]), 1)
    cleared = queue.clear(q)
    assert cleared.items == () and cleared.index is None
    assert cleared.movie_id == 20 and cleared.media_seq == q.media_seq and cleared.seq == q.seq + 1


def test_the_queue_is_stored_and_read_back() -> None:
    q = fill([10, 20])
    assert queue.entries_of(q.items_json()) == q.items
    assert queue.entries_of("[]") == ()


# -- events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        ReadyEvent("u1", "buffering", 38.5, 2, "inst"),
        ReadyEvent("u1", "unknown", 0.0, 0, "inst"),
        QueueEvent(Queue((Entry("e1", 10, "u1"),), 0, 10, 1, 5), None, "inst"),
        QueueEvent(Queue(), Playback("waiting", 0.0, T0, "u1", 9), None),
        PlaybackEvent(Playback("waiting", 3.0, T0, "u1", 2), "inst"),
        PlaybackEvent(Playback("playing", 3.0, T0 + 200, "u1", 3)),
        ReadyQueryEvent("inst"),
        ReadyFillEvent({"u1": ("ready", 2, 31.5), "u2": ("buffering", 2, 0.0)}, "inst"),
    ],
)
def test_events_travel_unchanged(event: events.RoomEvent) -> None:
    room_id, body = events.room_of(events.encode("room", event))
    assert room_id == "room" and events.decode(body) == event


@pytest.mark.parametrize(
    "body",
    [
        '{"k":"ready","u":"u","s":"asleep","r":0,"m":0,"o":"i"}',
        '{"k":"ready","u":"u","s":"ready","r":"fast","m":0,"o":"i"}',
        '{"k":"ready","u":"u","s":"ready","r":0,"m":0}',
        '{"k":"queue","q":{"items":{},"index":null,"movie_id":1,"media_seq":0,"seq":0}}',
        '{"k":"queue","q":{"items":[{"id":1}],"index":null,"movie_id":1,"media_seq":0,"seq":0}}',
        '{"k":"playback","p":{"state":"stopped","position":0,"at":0,"by":null,"seq":1}}',
        '{"k":"ready_fill","s":{"u":["ready",1]},"o":"i"}',
        '{"k":"ready_fill","s":{"u":["unknown",1,0]},"o":"i"}',
        '{"k":"ready_query"}',
    ],
)
def test_malformed_events_are_refused(body: str) -> None:
    with pytest.raises(events.BadEvent):
        events.decode(body)
