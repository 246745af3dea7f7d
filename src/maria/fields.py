"""Field types shared by request schemas.

Text that is stored or looked up must not carry control characters: PostgreSQL's text type
refuses NUL outright (a 500 if it got that far), and the others only make trouble in names
and logs. Identifiers in paths are Maria's own UUIDs, so anything else is refused early.

The published schema states each rule as a JSON Schema ``pattern`` (``JsonPattern``): the
validators here stay the rule (with messages a person can read), and each pattern accepts
exactly what its validator does, character class for character class (``tests/fuzz``
checks both against each other and the server against the schema).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

# Character classes, spelled so that Python, ECMA-262 (JSON Schema) and Rust read them alike.
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"  # C0, DEL and C1: Unicode's Cc
# What ``str.strip`` removes, less the control characters (refused before trimming).
SPACE = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CONTROL = re.compile(f"[{CONTROL}]")
ID_PATTERN = r"^[0-9A-Za-z-]{1,64}$"
NO_CONTROL_PATTERN = f"^[^{CONTROL}]*$"
CURSOR_PATTERN = r"^[0-9A-Za-z_-]+$"  # base64url without padding: every cursor Maria hands out


@dataclass(frozen=True, slots=True)
class JsonPattern:
    """The published schema's statement of a rule a validator enforces: ``pattern`` is
    set, and ``minLength``/``maxLength`` are dropped when the pattern counts length itself
    (they would count the untrimmed text)."""

    pattern: str
    counts_length: bool = False

    def __call__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core)
        schema["pattern"] = self.pattern
        if self.counts_length:
            schema.pop("minLength", None)
            schema.pop("maxLength", None)
        return schema

    __get_pydantic_json_schema__ = __call__


def trimmed_pattern(max_length: int, refused: str = CONTROL) -> str:
    """Text without ``refused`` characters that is 1-``max_length`` characters once
    ``str.strip`` has trimmed it (spaces around it are allowed, and not counted)."""
    edge = f"[^{refused}{SPACE}]"
    inner = f"(?:[^{refused}]{{0,{max_length - 2}}}{edge})?" if max_length > 1 else ""
    return f"^[{SPACE}]*{edge}{inner}[{SPACE}]*$"


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\\ud800" escape: not storable
        raise ValueError("must be valid Unicode text") from None
    return value


NoControl = AfterValidator(_no_control_characters)
PlainText = Annotated[str, NoControl, JsonPattern(NO_CONTROL_PATTERN)]


@dataclass(frozen=True, slots=True)
class Trimmed:
    """A one-line text field (``Annotated[str, Trimmed(200)]``): no control characters
    (also not around it), then trimmed to 1-``max_length`` characters."""

    max_length: int

    def check(self, value: str) -> str:
        text = _no_control_characters(value).strip()
        if not 1 <= len(text) <= self.max_length:
            raise ValueError(f"must be 1-{self.max_length} characters, not counting spaces around")
        return text

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return JsonPattern(trimmed_pattern(self.max_length), counts_length=True)(schema, handler)


MAX_DISPLAY_NAME = 64
# Bidirectional embeddings, overrides and isolates reorder the text around them (a name
# could make the chat line after it read backwards): never part of a name.
BIDI = "\\u202a-\\u202e\\u2066-\\u2069"
_BIDI = re.compile(f"[{BIDI}]")
VISIBLE = "\\p{L}\\p{N}\\p{P}\\p{S}"  # the categories `display_name` counts as visible
DISPLAY_NAME_PATTERN = (
    f"^(?=[^{VISIBLE}]*[{VISIBLE}])" + trimmed_pattern(MAX_DISPLAY_NAME, CONTROL + BIDI)[1:]
)


def display_name(value: str) -> str:
    """A name as others see it: no control or bidi control characters (also not around
    it), NFC, trimmed, 1-64 characters, and at least one visible one (letters, digits,
    punctuation, symbols): only spaces or zero-width characters would render blank in a
    chat line. (The published pattern counts characters as sent; the rare ones that NFC
    spells longer, such as U+0958, count after it.)"""
    if _BIDI.search(value):
        raise ValueError("must not contain text-direction characters")
    name = unicodedata.normalize("NFC", _no_control_characters(value)).strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise ValueError(f"must be 1-{MAX_DISPLAY_NAME} characters")
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in name):
        raise ValueError("must contain a visible character")
    return name


DisplayName = Annotated[
    str, AfterValidator(display_name), JsonPattern(DISPLAY_NAME_PATTERN, counts_length=True)
]

# What ``email_validator`` (behind pydantic's ``EmailStr``) refuses beyond JSON Schema's
# ``email`` format: a local part over 64 characters and the special-use domains (RFC 6761:
# mail to them can never be delivered). JSON Schema patterns have no flags, hence the cases.
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")
EMAIL_PATTERN = (
    r"^(?!.*\.(?:"
    + "|".join("".join(f"[{c}{c.upper()}]" for c in name) for name in _SPECIAL_USE)
    + r")\.?$)[^@]{1,64}@[^@]+$"
)
MAX_EMAIL = 254  # RFC 5321's path limit, and email_validator's
Email = Annotated[EmailStr, Field(max_length=MAX_EMAIL), JsonPattern(EMAIL_PATTERN)]


def _json_integer(value: object) -> object:
    """JSON has one number type: ``7295.0`` is the integer 7295 (as JSON Schema's
    ``integer`` says), so an integral float passes as an int; strings and booleans
    still don't."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInteger = BeforeValidator(_json_integer)

# A new password's length as sent, as ``maria.auth.passwords`` has it (a test keeps the two
# equal); the policy then counts code points after NFC and refuses common passwords, with
# ``type: password_policy``, a rule no schema can state.
MIN_PASSWORD = 8
MAX_PASSWORD = 128
NewPassword = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
