"""Password policy (after NIST SP 800-63B, section 3.1.1.2) and argon2id hashing, kept off
the event loop.

The policy has no composition rules (no "one digit, one capital"): a new password is refused
only for what makes it guessable, and the message names the rule:

- **length**: 8-128 characters, counted as code points after NFC;
- **common**: one of the 10,000 most common passwords (compared case-insensitively);
- **repetitive**: one group of 1-4 characters repeated (``aaaaaaaa``, ``abababab``,
  ``abcabcab``, eight spaces), or at most two different characters in all;
- **sequential**: a run with a fixed step in Unicode order (``12345678``, ``abcdefgh``,
  ``87654321``, ``acegikmo``), a run along a keyboard row or the alphabet, forwards or
  backwards and wrapping round (``qwertyui``, ``asdfghjk``, ``78901234``, ``xyzabcde``), or
  two such runs (or repetitions) of at least 3 characters each (``1234abcd``, ``aaaa1234``);
- **context**: essentially a word of its context: the service's names ("kinoway",
  "maria"), the email address, its local part and that part's pieces, the display name and
  its words (words under 3 characters are ignored; each word also reversed). The password
  is refused when it contains one of them and what is left once they are all taken out is
  trivial: no letters and at most 8 characters (a year, a date, a PIN, ``!!``), or, without
  the spaces and punctuation at its ends, under 5 characters or itself repetitive,
  sequential or common (``maria2024``, ``John.Smith!!``, ``kinowaypassword``,
  ``kinoway-abcdef``, ``mariamaria``).

The pattern checks compare NFKC case-folded text. Hashing runs in a dedicated thread pool
sized to the CPU count: argon2-cffi releases the GIL, so logins use every core while the loop
keeps serving other requests. Unknown emails are verified against a dummy hash so that they
cost the same time as a wrong password.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 128
SERVICE_WORDS = ("kinoway", "maria")
MIN_WORD = 3  # shorter context words would match inside any passphrase
MIN_RUN_PIECE = 3

# Runs a password may not follow (both ways, wrapping round): the alphabet, the digits in
# order and as on the keyboard, and keyboard rows (QWERTY, QWERTZ, AZERTY, Russian).
_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "1234567890",
    "!@#$%^&*()",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "yxcvbnm",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
)
_WORD_SPLIT = re.compile(r"[\W_]+")
_ENDS = re.compile(r"^[\W_]+|[\W_]+$")

# No example in the messages: one of them could be the very password refused.
REPETITIVE = "Password must not be one character, or a short group of characters, repeated"
SEQUENTIAL = (
    "Password must not be a sequence (of letters, of digits, or along a keyboard row), "
    "nor two of them"
)
CONTEXT = "Password must not be essentially your email address, your name or the service's name"


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (zxcvbn's ranked list), lower-cased."""
    text = resources.files("maria.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _repetitive(text: str) -> bool:
    """One group of up to 4 characters repeated (the last copy may be cut short), or at
    most two different characters."""
    n = len(text)
    if len(set(text)) <= 2:
        return True
    return any(n >= 2 * k and text == (text[:k] * (n // k + 1))[:n] for k in range(3, 5))


def _fixed_step(text: str) -> bool:
    if len(text) < 2:
        return False
    step = ord(text[1]) - ord(text[0])
    return step != 0 and all(
        ord(b) - ord(a) == step for a, b in zip(text[1:], text[2:], strict=False)
    )


def _along_a_run(text: str) -> bool:
    for run in _RUNS:
        for way in (run, run[::-1]):
            if text in way * (len(text) // len(way) + 2):
                return True
    return False


def _one_run(text: str) -> bool:
    return _fixed_step(text) or _along_a_run(text)


def _sequential(text: str) -> bool:
    """A run, or two pieces of at least 3 characters that are each a run or a repetition."""
    if _one_run(text):
        return True

    def piece(part: str) -> bool:
        return _one_run(part) or len(set(part)) == 1

    for i in range(MIN_RUN_PIECE, len(text) - MIN_RUN_PIECE + 1):
        if not piece(text[:i]):
            break  # a longer prefix is no run either
        if piece(text[i:]):
            return True
    return False


def context_words(email: str | None = None, display_name: str | None = None) -> list[str]:
    """The words a password of this account may not essentially be: the service's names,
    the address, its local part and that part's pieces, the name and its words."""
    words = set(SERVICE_WORDS)
    if email:
        address = _fold(email.strip())
        local = address.partition("@")[0]
        words |= {address, local, *_WORD_SPLIT.split(local)}
    if display_name:
        name = _fold(display_name.strip())
        words |= {name, "".join(name.split()), *_WORD_SPLIT.split(name)}
    kept = {w for w in words if len(w) >= MIN_WORD}
    return sorted(kept | {w[::-1] for w in kept}, key=len, reverse=True)


def _trivial_rest(rest: str) -> bool:
    if len(rest) <= 8 and not any(ch.isalpha() for ch in rest):
        return True
    core = _ENDS.sub("", rest)
    if len(core) < 5:
        return True
    return core in common_passwords() or _repetitive(core) or _sequential(core)


def _is_context_word(text: str, words: Iterable[str]) -> bool:
    rest = text
    for word in words:  # longest first, so "maria ivanova" goes before "maria"
        rest = rest.replace(word, "")
    return rest != text and _trivial_rest(rest)


def password_problem(password: str, context: Iterable[str] | None = None) -> str | None:
    """Why a new password is refused, or None; ``context`` is ``context_words(...)`` of the
    account (by default the service's names alone: the account is not known yet)."""
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if length > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters"
    if password.lower() in common_passwords():
        return "This password is too common; choose another"
    text = _fold(password)
    if _repetitive(text):
        return REPETITIVE
    if _sequential(text):
        return SEQUENTIAL
    if _is_context_word(text, context_words() if context is None else context):
        return CONTEXT
    return None


class PasswordService:
    """argon2id at OWASP's parameters (19 MiB, t=2, p=1) by default."""

    def __init__(
        self,
        *,
        memory_kib: int = 19 * 1024,
        time_cost: int = 2,
        parallelism: int = 1,
        threads: int = 2,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self._dummy_hash = self._hasher.hash("maria-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    def _verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        try:
            ok = self._hasher.verify(stored or self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        if stored is None:
            return False, False
        return ok, self._hasher.check_needs_rehash(stored)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        """Return ``(matches, needs_rehash)``; ``stored=None`` burns the same time and fails."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._verify, stored, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
