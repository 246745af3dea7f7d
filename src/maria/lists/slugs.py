"""Slugs: the URL name of a list, derived once from its title and never changed after.

Kinoway's users title lists in Russian as often as in English, so a slug keeps every
Unicode letter, mark and digit (NFKC-normalised, case-folded) rather than transliterating;
everything else collapses to single hyphens. A title with nothing usable ("!!!", emoji)
falls back to ``list``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from maria.lists.models import MAX_SLUG, RESERVED_SLUGS

BASE_LENGTH = 60  # leaves room for a "-NNN" suffix within MAX_SLUG
FALLBACK = "list"


def _is_word(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def base_slug(title: str) -> str:
    """The slug a title asks for, before making it unique."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", title).casefold():
        if _is_word(ch):
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out)[:BASE_LENGTH].strip("-")
    return slug or FALLBACK


def unique_slug(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-2``, ``base-3``…: the first that is neither taken nor reserved."""
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def looks_like_slug(value: str) -> bool:
    """Whether a path segment could name a list at all. Anything else is simply not found,
    without a query (a NUL byte or a lone surrogate would be an error on Postgres)."""
    if not value or len(value) > MAX_SLUG or value[0] == "-" or value[-1] == "-":
        return False
    return "--" not in value and all(ch == "-" or _is_word(ch) for ch in value)
