"""The AsyncAPI document of the room socket, in-process: its structure, that every
reference resolves and every schema is one, that its examples are what the server
accepts and sends, and that its rules are the parser's.

That the frames a running server sends match it is checked wherever a room test receives
one (``tests/support/frames``); ``test_frames.py`` fetches it from a server.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maria.rooms import protocol
from maria.rooms.asyncapi import ADDRESS, document, rendered
from maria.rooms.frames import CHAT_PATTERN, CLIENT_FRAMES, SERVER_FRAMES, STRIPPED, chat_text
from maria.rooms.playback import Playback
from maria.rooms.protocol import CLOSE_CODES, ERROR_CODES, FrameError, parse
from maria.rooms.queue import Entry, Queue
from maria.rooms.reactions import public
from maria.rooms.roles import Roles
from tests.support.frames import (
    DRAFT_07,
    check_server_frame,
    payload_schemas,
    resolve,
    validator,
)
from tests.support.node import asyncapi_findings

REACTION = {"id": "r", "user_id": "u", "name": "Анна", "emoji": "❤️", "timestamp": 1}
KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")  # AsyncAPI 3: the keys of components' maps


def refs(node: Any, path: str = "#") -> list[tuple[str, str]]:
    """Every ``$ref`` in ``node`` with where it stands."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append((path, value))
            else:
                found += refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += refs(item, f"{path}/{i}")
    return found


def frame_types(models: tuple[type[Any], ...]) -> set[str]:
    return {model.model_fields["type"].annotation.__args__[0] for model in models}


# -- structure ------------------------------------------------------------------------


def test_the_document_has_the_structure_of_asyncapi_3() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert set(doc) <= {
        "asyncapi",
        "id",
        "info",
        "servers",
        "defaultContentType",
        "channels",
        "operations",
        "components",
    }
    (channel,) = doc["channels"].values()
    assert channel["address"] == ADDRESS == "/api/v1/rooms/{room_id}/ws"
    # Every {parameter} of the address is declared, and nothing else.
    assert set(re.findall(r"{(\w+)}", channel["address"])) == set(channel["parameters"])
    assert all(KEY.match(key) for key in doc["components"]["messages"])
    assert all(KEY.match(key) for key in doc["components"]["schemas"])
    for name, operation in doc["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        assert resolve(doc, operation["channel"]["$ref"]) is channel
        # An operation's messages are its channel's (AsyncAPI 3 requires it).
        for message in operation["messages"]:
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
    for message in doc["components"]["messages"].values():
        assert message["contentType"] == "application/json"
        assert set(message) <= {"name", "title", "summary", "contentType", "payload", "examples"}
    for extension in ("x-close-codes", "x-error-codes", "x-limits"):
        assert channel[extension], extension


def test_asyncapis_own_parser_finds_nothing_wrong() -> None:
    findings = asyncapi_findings(rendered())
    # Errors and warnings; the one note is that 3.1 exists (3.0 is what the tools support).
    assert [f for f in findings if f["severity"] < 2] == [], findings
    assert {f["code"] for f in findings} <= {"asyncapi-latest-version"}, findings


def test_asyncapis_own_parser_would_see_a_mistake() -> None:
    broken = json.loads(rendered())
    broken["operations"]["sendServerFrame"]["messages"].append(
        {"$ref": "#/components/messages/clientChat"}  # not a message of the channel
    )
    broken["components"]["schemas"]["ServerPong"]["properties"]["t0"]["type"] = "numeric"
    codes = {
        f["code"] for f in asyncapi_findings(json.dumps(broken).encode()) if f["severity"] == 0
    }
    assert "asyncapi3-operation-messages-from-referred-channel" in codes, codes
    assert len(codes) >= 2, codes


def test_every_reference_resolves() -> None:
    doc = document()
    found = refs(doc)
    assert len(found) > 30
    for where, ref in found:
        try:
            resolve(doc, ref)
        except KeyError:
            pytest.fail(f"{where}: $ref {ref} resolves to nothing")


def test_every_schema_is_a_json_schema() -> None:
    schemas = document()["components"]["schemas"]
    for name, schema in schemas.items():
        try:
            jsonschema_rs.meta.validate({**schema, "$schema": DRAFT_07})
        except jsonschema_rs.ValidationError as exc:
            pytest.fail(f"{name}: {exc}")
        validator(f"#/components/schemas/{name}")  # its references resolve too


def test_every_frame_type_is_there_once_in_the_right_direction() -> None:
    doc = document()
    received = payload_schemas("receiveClientFrame")
    sent = payload_schemas("sendServerFrame")
    assert (
        set(received)
        == frame_types(CLIENT_FRAMES)
        == {
            "auth",
            "chat",
            "playback",
            "control",
            "host",
            "ping",
            "ready",
            "position",
            "pong",
            "queue",
            "role",
            "kick",
            "mute",
            "lock",
            "clear",
            "react",
        }
    )
    assert (
        set(sent)
        == frame_types(SERVER_FRAMES)
        == {
            "welcome",
            "chat",
            "presence",
            "playback",
            "control",
            "pong",
            "authenticated",
            "error",
            "ready",
            "queue",
            "ping",
            "clock",
            "drift",
            "roles",
            "moderated",
            "reaction",
        }
    )
    assert doc["operations"]["receiveClientFrame"]["action"] == "receive"  # Maria's side
    assert doc["operations"]["sendServerFrame"]["action"] == "send"
    # The unions for generated types: one option per frame, told apart by "type".
    for union, models in (("ClientFrame", CLIENT_FRAMES), ("ServerFrame", SERVER_FRAMES)):
        schema = doc["components"]["schemas"][union]
        assert schema["discriminator"] == "type"
        assert [option["$ref"].rsplit("/", 1)[1] for option in schema["oneOf"]] == [
            model.__name__ for model in models
        ]


def test_the_close_and_error_codes_are_the_servers() -> None:
    channel = document()["channels"]["room"]
    assert set(channel["x-close-codes"]) == {
        "4401",
        "4403",
        "4404",
        "4409",
        "4410",
        "1008",
        "1012",
        "1013",
    }
    assert {int(code) for code in channel["x-close-codes"]} == set(CLOSE_CODES)
    error = document()["components"]["schemas"]["ServerError"]
    assert set(channel["x-error-codes"]) == set(error["properties"]["code"]["enum"])
    assert set(ERROR_CODES) == set(channel["x-error-codes"])
    for code in [*channel["x-close-codes"], *channel["x-error-codes"]]:
        assert f"`{code}`" in channel["description"], code
    assert channel["x-limits"]["maxFrameBytes"] == protocol.MAX_FRAME_BYTES


def test_the_document_is_json_and_the_same_every_time() -> None:
    assert json.loads(rendered()) == document()


# -- examples -------------------------------------------------------------------------


def messages(side: str) -> list[tuple[str, dict[str, Any]]]:
    doc = document()
    operation = "receiveClientFrame" if side == "client" else "sendServerFrame"
    out = []
    for reference in doc["operations"][operation]["messages"]:
        message = resolve(doc, resolve(doc, reference["$ref"])["$ref"])
        assert message["examples"], message["name"]
        out += [(message["payload"]["$ref"], example["payload"]) for example in message["examples"]]
    return out


@pytest.mark.parametrize(("ref", "example"), messages("client"))
def test_client_examples_are_valid_and_the_server_takes_them(
    ref: str, example: dict[str, Any]
) -> None:
    assert validator(ref).is_valid(example)
    command = parse(json.dumps(example))
    assert type(command).__name__ == ref.rsplit("/", 1)[1]
    assert command.model_dump(exclude_none=True) == example


@pytest.mark.parametrize(("ref", "example"), messages("server"))
def test_server_examples_are_valid(ref: str, example: dict[str, Any]) -> None:
    check_server_frame(example)
    assert validator(ref, closed=True).is_valid(example)


def test_what_the_frame_builders_make_is_documented() -> None:
    frames = [
        protocol.error("rate_limited", "Too many", retry_after=3),
        protocol.error("validation_error", "'text' is required"),
        protocol.playback(Playback()),
        protocol.playback(Playback("playing", 12.5, 1, "u", 3)),
        protocol.control("everyone", None),
        protocol.presence("leave", "u", "Анна"),
        protocol.pong(1.5, 2),
        protocol.pong(2**70, 2),
        protocol.authenticated("u", 1733141700),
        protocol.roles(Roles(frozenset({"a"}), frozenset({"b", "c"}), True, 4)),
        protocol.roles(Roles()),
        protocol.moderated("kick", "u", "h"),
        protocol.moderated("clear", None, "h"),
        protocol.reaction(public({**REACTION, "message_id": "m", "position": None})),
        protocol.reaction(public({**REACTION, "message_id": None, "position": 12.5})),
        protocol.chat(
            {"id": "m", "user_id": "u", "name": "n", "text": "t", "timestamp": 1, "seq": 1}
        ),
        protocol.playback(Playback("waiting", 0.0, 1, "u", 4)),
        protocol.ready("u", "buffering"),
        protocol.ready("u", "unknown"),
        protocol.queue(Queue()),
        protocol.queue(Queue((Entry("e", 301, "u"),), 0, 301, 1, 2)),
        protocol.ping(1733140800123),
        protocol.clock(12.0, -3.5),
        protocol.drift(-0.25, 12.5, 1733140800123.5),
    ]
    for frame in frames:
        check_server_frame(json.loads(frame))


def test_the_check_catches_drift() -> None:
    """The checker every room test runs fails on frames the document does not describe."""
    for frame in [
        {"type": "pong", "t0": 1},  # server_time missing
        {"type": "pong", "t0": "1", "server_time": 2},
        {"type": "error", "code": "teapot", "message": "x"},
        {"type": "error", "code": "conflict", "message": "x", "retry_after": None},
        {"type": "presence", "event": "join", "user_id": "u", "name": "n", "extra": 1},
        {"type": "dance"},
        {"type": "welcome"},
        {"type": "reaction", **REACTION, "emoji": "🤡"},
        {"type": "reaction", **REACTION, "message_id": None},
        {"type": "moderated", "action": "ban", "by": "h"},
        {"type": "moderated", "action": "clear", "user_id": None, "by": "h"},
        {"type": "roles", "cohosts": [], "muted": [], "chat_locked": False},
    ]:
        with pytest.raises(AssertionError):
            check_server_frame(frame)


# -- the rules: the document's and the parser's ---------------------------------------

BAD_FRAMES = [
    ("{", "invalid_json", None),
    ("[1]", "invalid_json", None),
    ('{"type": "ping", "t0": NaN}', "invalid_json", None),
    ('{"type": "dance"}', "unknown_type", "'dance'"),
    ('{"type": "welcome"}', "unknown_type", "'welcome'"),  # a server frame
    ('{"type": 7}', "unknown_type", "'type'"),
    ('{"type": "chat"}', "validation_error", "'text'"),
    ('{"type": "chat", "text": " \\t\\n "}', "validation_error", "'text'"),
    ('{"type": "chat", "text": "a\\u0000b"}', "validation_error", "'text'"),
    ('{"type": "chat", "text": "\\ud800"}', "validation_error", "'text'"),
    ('{"type": "ping", "t0": true}', "validation_error", "'t0'"),
    ('{"type": "ping", "t0": "1"}', "validation_error", "'t0'"),
    ('{"type": "ping", "t0": 1e400}', "validation_error", "'t0'"),
    ('{"type": "playback", "action": "seek"}', "validation_error", "'position'"),
    ('{"type": "playback", "action": "stop"}', "validation_error", "'action'"),
    ('{"type": "playback", "action": "play", "position": -1}', "validation_error", "'position'"),
    ('{"type": "playback", "action": "seek", "position": true}', "validation_error", "'position'"),
    (
        '{"type": "playback", "action": "seek", "position": 604800.01}',
        "validation_error",
        "'position'",
    ),
    ('{"type": "control", "mode": "anarchy"}', "validation_error", "'mode'"),
    ('{"type": "ready", "state": "loading"}', "validation_error", "'state'"),
    ('{"type": "ready", "state": "ready", "movie_id": 0}', "validation_error", "'movie_id'"),
    ('{"type": "position", "position": -1, "at": 1}', "validation_error", "'position'"),
    ('{"type": "position", "position": 604801, "at": 1}', "validation_error", "'position'"),
    ('{"type": "position", "position": 1, "at": 1e400}', "validation_error", "'at'"),
    ('{"type": "position", "position": 1}', "validation_error", "'at'"),
    ('{"type": "pong", "t1": 1}', "validation_error", "'t0'"),
    ('{"type": "pong", "t0": 1.5, "t1": 1}', "validation_error", "'t0'"),
    ('{"type": "queue", "op": "shuffle"}', "validation_error", "'op'"),
    ('{"type": "queue", "op": "add"}', "validation_error", "'movie_id'"),
    ('{"type": "queue", "op": "add_list", "slug": ""}', "validation_error", "'slug'"),
    ('{"type": "queue", "op": "move", "index": 1}', "validation_error", "'to'"),
    ('{"type": "queue", "op": "remove", "index": -1}', "validation_error", "'index'"),
    ('{"type": "queue", "op": "play", "index": 500}', "validation_error", "'index'"),
    ('{"type": "playback", "action": "play", "force": "yes"}', "validation_error", "'force'"),
    ('{"type": "kick"}', "validation_error", "'user_id'"),
    ('{"type": "kick", "user_id": ""}', "validation_error", "'user_id'"),
    ('{"type": "mute", "user_id": "u"}', "validation_error", "'muted'"),
    ('{"type": "mute", "user_id": "u", "muted": 1}', "validation_error", "'muted'"),
    ('{"type": "lock", "locked": "yes"}', "validation_error", "'locked'"),
    ('{"type": "role", "user_id": "u", "role": "host"}', "validation_error", "'role'"),
    ('{"type": "react", "emoji": "🤡", "position": 1}', "validation_error", "'emoji'"),
    ('{"type": "react", "emoji": "🔥"}', "validation_error", "exactly one"),
    (
        '{"type": "react", "emoji": "🔥", "position": 1, "message_id": "m"}',
        "validation_error",
        None,
    ),
    (
        '{"type": "react", "emoji": "🔥", "position": null, "message_id": null}',
        "validation_error",
        None,
    ),
    ('{"type": "react", "emoji": "🔥", "position": -1}', "validation_error", "'position'"),
    ('{"type": "react", "emoji": "🔥", "message_id": ""}', "validation_error", "'message_id'"),
    ('{"type": "host", "user_id": ""}', "validation_error", "'user_id'"),
    (json.dumps({"type": "host", "user_id": "u" * 65}), "validation_error", "'user_id'"),
    (json.dumps({"type": "auth", "token": "t" * 8193}), "validation_error", "'token'"),
    (b'{"type": "ping", "t0": 1}', "unsupported_frame", None),
    (json.dumps({"type": "chat", "text": "x" * 17_000}), "payload_too_large", None),
]


@pytest.mark.parametrize(("data", "code", "names"), BAD_FRAMES)
def test_bad_frames_get_documented_codes_that_name_the_field(
    data: str | bytes, code: str, names: str | None
) -> None:
    with pytest.raises(FrameError) as caught:
        parse(data)
    assert caught.value.code == code
    assert code in document()["channels"]["room"]["x-error-codes"]
    if names is not None:
        assert names in caught.value.message, caught.value.message


@pytest.mark.parametrize(("data", "code", "names"), BAD_FRAMES)
def test_the_schema_refuses_what_the_parser_refuses(
    data: str | bytes, code: str, names: str | None
) -> None:
    """Where a refused frame is JSON, the document's ClientFrame schema refuses it too
    (a lone surrogate aside: no JSON Schema pattern can tell one)."""
    if code not in ("unknown_type", "validation_error") or "ud800" in str(data):
        return
    assert not validator("#/components/schemas/ClientFrame").is_valid(json.loads(data))


def test_the_stripped_class_is_what_str_strip_removes() -> None:
    stripped = re.compile(f"[{STRIPPED}]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(stripped.fullmatch(char)) == (char.strip() == ""), hex(code)


def accepted(text: str) -> bool:
    try:
        chat_text(text)
    except ValueError:
        return False
    return True


TEXTS = (
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
    | st.text(alphabet=st.sampled_from(" \t\n\x00\x1c\x85\u3000a"), max_size=12)
    | st.integers(995, 1005).map(lambda n: " " + "x" * n + "\n")
)


@settings(max_examples=500, derandomize=True, database=None)
@given(text=TEXTS)
def test_the_chat_pattern_accepts_what_the_server_does(text: str) -> None:
    chat_schema = validator("#/components/schemas/ClientChat")
    assert bool(re.fullmatch(CHAT_PATTERN, text)) == accepted(text), repr(text)
    assert chat_schema.is_valid({"type": "chat", "text": text}) == accepted(text), repr(text)
