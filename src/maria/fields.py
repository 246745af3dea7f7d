"""Field types shared by request schemas.

Text that is stored or looked up must not carry control characters: PostgreSQL's text type
refuses NUL outright (a 500 if it got that far), and the others only make trouble in names
and logs. Identifiers in paths are Maria's own UUIDs, so anything else is refused early.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ID_PATTERN = r"^[0-9A-Za-z-]{1,64}$"


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


NoControl = AfterValidator(_no_control_characters)
PlainText = Annotated[str, NoControl]

MAX_DISPLAY_NAME = 64
# Bidirectional embeddings, overrides and isolates reorder the text around them (a name
# could make the chat line after it read backwards): never part of a name.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def display_name(value: str) -> str:
    """A name as others see it: NFC, trimmed, 1-64 characters, no control or bidi control
    characters, and at least one visible one (letters, digits, punctuation, symbols): only
    spaces or zero-width characters would render blank in a chat line."""
    name = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise ValueError(f"must be 1-{MAX_DISPLAY_NAME} characters")
    if _CONTROL.search(name) or any(ch in _BIDI_CONTROLS for ch in name):
        raise ValueError("must not contain control or text-direction characters")
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in name):
        raise ValueError("must contain a visible character")
    return name


DisplayName = Annotated[str, AfterValidator(display_name)]
