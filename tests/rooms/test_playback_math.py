"""The playback state machine's arithmetic, without a server."""

from __future__ import annotations

import math

import pytest

from maria.rooms.playback import (
    MAX_POSITION,
    BadPosition,
    Playback,
    apply,
    live_position,
    newer,
    valid_position,
)

T0 = 1_700_000_000_000  # unix ms


def test_paused_position_stands_still() -> None:
    state = Playback(state="paused", position=42.0, at=T0)
    assert live_position(state, T0) == 42.0
    assert live_position(state, T0 + 3_600_000) == 42.0


def test_playing_position_advances_with_server_time() -> None:
    state = Playback(state="playing", position=10.0, at=T0)
    assert live_position(state, T0) == 10.0
    assert live_position(state, T0 + 1500) == 11.5
    assert live_position(state, T0 + 90 * 60_000) == 10.0 + 5400
    assert live_position(state, T0 - 5000) == 10.0  # a clock behind `at` never rewinds


def test_play_pause_seek_transitions() -> None:
    start = Playback(at=T0)
    played = apply(start, "play", 5.0, "ann", T0 + 100)
    assert played == Playback(state="playing", position=5.0, at=T0 + 100, by="ann", seq=1)

    paused = apply(played, "pause", None, "bob", T0 + 2100)  # pause where it is now
    assert paused == Playback(state="paused", position=7.0, at=T0 + 2100, by="bob", seq=2)

    sought = apply(paused, "seek", 120.0, "ann", T0 + 3000)  # seek keeps paused
    assert (sought.state, sought.position, sought.seq) == ("paused", 120.0, 3)
    playing = apply(sought, "play", None, "ann", T0 + 4000)  # play from where it stands
    assert (playing.state, playing.position) == ("playing", 120.0)
    sought = apply(playing, "seek", 30.0, "ann", T0 + 5000)  # seek keeps playing
    assert (sought.state, live_position(sought, T0 + 6000)) == ("playing", 31.0)
    assert sought.seq == 5


def test_seq_grows_by_one_and_stale_states_lose() -> None:
    state = Playback(at=T0)
    seen = [state]
    for n in range(1, 6):
        state = apply(state, "seek", float(n), "ann", T0 + n)
        seen.append(state)
    assert [s.seq for s in seen] == list(range(6))
    assert newer(seen[3], seen[2]) and not newer(seen[2], seen[3]) and not newer(seen[3], seen[3])


@pytest.mark.parametrize(
    "bad",
    [
        -1,
        -0.001,
        math.inf,
        -math.inf,
        math.nan,
        True,
        False,
        "5",
        None,
        [1],
        10**400,
        1e308,
        604_800.001,
        604_801,
        1e12,
    ],
)
def test_position_must_be_seconds_from_0_to_7_days(bad: object) -> None:
    with pytest.raises(BadPosition):
        valid_position(bad)
    if bad is not None:
        with pytest.raises(BadPosition):
            apply(Playback(at=T0), "seek", bad, "ann", T0)  # type: ignore[arg-type]


def test_valid_positions() -> None:
    assert valid_position(0) == 0.0 and isinstance(valid_position(3), float)
    assert valid_position(-0.0) == 0.0
    assert valid_position(604_800) == MAX_POSITION == 7 * 86_400


def test_a_film_playing_on_stops_at_the_bound() -> None:
    state = Playback(state="playing", position=MAX_POSITION - 1, at=T0)
    assert live_position(state, T0 + 500) == MAX_POSITION - 0.5
    assert live_position(state, T0 + 3_600_000) == MAX_POSITION
    assert apply(state, "pause", None, "ann", T0 + 3_600_000).position == MAX_POSITION


def test_seek_needs_a_position() -> None:
    with pytest.raises(BadPosition):
        apply(Playback(at=T0), "seek", None, "ann", T0)


def test_state_serializes_as_the_contract_says() -> None:
    state = apply(Playback(at=T0), "play", 1.0, "ann", T0 + 1)
    assert state.as_dict() == {
        "state": "playing",
        "position": 1.0,
        "at": T0 + 1,
        "by": "ann",
        "seq": 1,
    }
