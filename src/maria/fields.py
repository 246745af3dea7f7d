"""Field types shared by request schemas.

Text that is stored or looked up must not carry control characters: PostgreSQL's text type
refuses NUL outright (a 500 if it got that far), and the others only make trouble in names
and logs. Identifiers in paths are Maria's own UUIDs, so anything else is refused early.
"""

from __future__ import annotations

import re
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
