"""The published patterns say what the validators do: for any text, the JSON Schema
``pattern`` (judged by the validator schemathesis uses) accepts exactly what the field's
validator accepts. The fuzzer relies on it; so do clients that validate with the schema."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Annotated, Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from maria import fields
from maria.auth import passwords
from maria.fields import DisplayName, PlainText, Trimmed

# Characters Python's Unicode tables know (the validators' view); newer ones may differ
# in category between Python's tables and the JSON Schema validator's.
CHARACTERS = st.characters(codec="utf-8").filter(lambda c: unicodedata.category(c) != "Cn")
EDGES = st.sampled_from([" ", "\t", "\n", "\x00", "\x85", "\u00a0", "\u3000", "\u200b", "\u202e"])
TEXT = st.text(CHARACTERS | EDGES, max_size=12) | st.text(
    st.sampled_from("a \t\u00a0"), max_size=70
)

FIELDS: dict[str, Any] = {
    "plain text": PlainText,
    "a title (1-5 characters, trimmed)": Annotated[str, Trimmed(5)],
    "a list title": Annotated[str, Trimmed(100)],
    "a display name": DisplayName,
}


@cache
def _judges(name: str) -> tuple[Any, Any]:
    adapter = TypeAdapter(FIELDS[name])
    return adapter, jsonschema_rs.validator_for(adapter.json_schema())


@pytest.mark.parametrize("name", FIELDS)
@settings(max_examples=250, derandomize=True, database=None, deadline=None)
@given(text=TEXT)
def test_the_pattern_accepts_what_the_validator_accepts(name: str, text: str) -> None:
    adapter, schema = _judges(name)
    if name == "a display name" and not unicodedata.is_normalized("NFC", text):
        return  # the documented exception: the validator counts after NFC
    try:
        adapter.validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert schema.is_valid(text) is accepted, (name, text)


@pytest.mark.parametrize(
    ("field", "text", "accepted"),
    [
        ("a list title", "  Watch later  ", True),
        ("a list title", "a" * 100, True),
        ("a list title", " " + "a" * 100 + " ", True),  # spaces around are not counted
        ("a list title", "a" * 101, False),
        ("a list title", "   ", False),
        ("a list title", "\tTabbed", False),  # control characters, also around the text
        ("a display name", "  Neo  ", True),
        ("a display name", "\u200b", False),  # only invisible characters
        ("a display name", "Ann\u202e", False),  # a text-direction override
        ("a display name", "x" * 64, True),
        ("a display name", "x" * 65, False),
        ("plain text", "a\x00b", False),
        ("plain text", "", True),
    ],
)
def test_examples(field: str, text: str, accepted: bool) -> None:
    adapter, schema = _judges(field)
    assert schema.is_valid(text) is accepted
    try:
        adapter.validate_python(text)
        assert accepted
    except ValidationError:
        assert not accepted


def test_the_new_password_length_is_the_policys() -> None:
    assert (fields.MIN_PASSWORD, fields.MAX_PASSWORD) == (
        passwords.MIN_LENGTH,
        passwords.MAX_LENGTH,
    )
