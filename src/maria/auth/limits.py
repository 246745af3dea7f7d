"""Brute-force and credential-stuffing limits that never lock the owner out (OWASP's
"device cookie" scheme), in 15-minute windows.

A login attempt comes from a *known* client of the account, or from an unknown one:

- **a device of the account**: it presents the device token (cookie ``maria_device`` or the
  ``device_token`` field) of an earlier successful sign-in to this account. It has its own
  limit, 5 failures, and nothing else applies to it: not the account's lock, not the
  address's limit;
- **an unknown client**: any other. Its failures count per (account, address) pair (5 block
  the pair), per address (50 over any accounts block the address) and per account: once
  unknown clients have failed 20 times on the account, the account is *locked* for unknown
  clients until the window ends. A client from an address that signed in to the account in
  the last 30 days is *known by address*: it passes the lock, and its failures do not count
  towards it (the pair and address limits still hold).

So a botnet spending one or two guesses per address locks the account for strangers after
20 guesses, while the owner's browsers and apps (device tokens) and the owner at home (known
address) still sign in. Attempts are counted before the password is checked, as if they
would fail, so that guesses sent in parallel cannot all pass a check made before any of them
failed; a success takes its counts back out. Whether an address is known costs a database
read only when the account is locked or an attempt has failed.

Registration and refresh are limited per IP, and so are the mails a client can make Maria
send (verification, reset, sign-in codes), which are also limited per recipient: one
address cannot be flooded from many places, and one place cannot flood many addresses. A
sign-in code is limited per pair and per address only: it is how the owner of a locked
account gets in on a new device. The counts live in a ``Counters`` backend, so with Redis
every instance sees the same numbers; each check is one round trip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from maria.backends.ratelimit import Counters
from maria.errors import RateLimited
from maria.metrics import refused

KnownAddress = Callable[[], Awaitable[bool]]


async def _unknown() -> bool:
    return False


def _limited(limit: str, retry_after: int) -> RateLimited:
    """The refusal by ``limit``, counted in ``maria_rate_limited_total``."""
    refused(limit)
    return RateLimited(retry_after)


@dataclass(frozen=True)
class Limits:
    window: int = 15 * 60
    pair_failures: int = 5
    ip_failures: int = 50
    device_failures: int = 5
    unknown_failures: int = 20  # per account, from unknown clients: then the account locks
    known_address_days: int = 30
    register_per_ip: int = 20
    register_window: int = 60 * 60
    refresh_per_ip: int = 120
    refresh_window: int = 60
    mail_per_recipient: int = 5
    mail_per_ip: int = 30
    mail_window: int = 60 * 60


def _account_key(email: str) -> str:
    # Counter keys may sit in Redis: don't store plain email addresses there.
    return hashlib.sha256(email.encode()).hexdigest()[:32]


@dataclass
class Attempt:
    """One login attempt between ``check_login`` and its outcome: what it was counted on."""

    pair_key: str = ""
    ip_key: str = ""
    account_key: str = ""  # set while the attempt counts towards the account's lock
    device_key: str = ""  # set for a device of the account (nothing else is counted)
    known_address: KnownAddress = field(default=_unknown, repr=False)


class LoginGuard:
    def __init__(self, counters: Counters, limits: Limits | None = None) -> None:
        self._counters = counters
        self.limits = limits or Limits()

    def _keys(self, email: str, ip: str) -> tuple[str, str, str]:
        account = _account_key(email)
        return f"lf:pair:{account}:{ip}", f"lf:acct:{account}", f"lf:ip:{ip}"

    async def check_login(
        self,
        email: str,
        ip: str,
        *,
        device: str | None = None,
        known_address: KnownAddress = _unknown,
    ) -> Attempt:
        """Count this attempt, or raise ``RateLimited`` if this client may not try now.

        ``device`` is the nonce of the client's device token if it is one of the account's;
        ``known_address`` says (from the database) whether the client's address signed in
        to the account lately, and is asked only when it matters.
        """
        lim = self.limits
        if device is not None:
            device_key = f"lf:dev:{device}"
            count, ttl = await self._counters.hit(device_key, lim.window)
            if count > lim.device_failures:
                raise _limited("login_device", ttl)
            return Attempt(device_key=device_key)
        pair_key, account_key, ip_key = self._keys(email, ip)
        (pair, pair_ttl), (by_ip, ip_ttl), (account, account_ttl) = await self._counters.hit_many(
            [pair_key, ip_key, account_key], lim.window
        )
        if by_ip > lim.ip_failures:
            # A blocked IP says nothing about this account: take its counts back.
            await self._counters.adjust(undo=[pair_key, account_key])
            raise _limited("login_ip", ip_ttl)
        if pair > lim.pair_failures:
            await self._counters.adjust(undo=[account_key])  # no guess made: no lock nearer
            raise _limited("login_pair", pair_ttl)
        attempt = Attempt(pair_key, ip_key, account_key, known_address=known_address)
        if account > lim.unknown_failures:
            if not await known_address():
                # Refused unchecked: no guess against the pair (the owner on a new device
                # may still use a sign-in code from there). The account and the address
                # keep the count.
                await self._counters.undo(pair_key)
                raise _limited("login_account", account_ttl)
            await self._known(attempt)
        return attempt

    async def _known(self, attempt: Attempt) -> None:
        """A client known by address: it does not count towards the account's lock."""
        await self._counters.undo(attempt.account_key)
        attempt.account_key = ""
        attempt.known_address = _known

    async def login_failed(self, attempt: Attempt) -> None:
        """After ``check_login``: the counts already hold this failure, but a client known
        by address takes its count on the account back out."""
        if attempt.account_key and await attempt.known_address():
            await self._known(attempt)

    async def login_succeeded(self, attempt: Attempt) -> None:
        if attempt.device_key:
            await self._counters.reset(attempt.device_key)
            return
        undo = [attempt.ip_key] + ([attempt.account_key] if attempt.account_key else [])
        await self._counters.adjust(reset=[attempt.pair_key], undo=undo)

    async def check_code(self, email: str, ip: str) -> Attempt:
        """A sign-in code: limited per pair and per address, never by the account's lock
        (the code itself dies after five wrong tries)."""
        lim = self.limits
        pair_key, _, ip_key = self._keys(email, ip)
        (pair, pair_ttl), (by_ip, ip_ttl) = await self._counters.hit_many(
            [pair_key, ip_key], lim.window
        )
        if by_ip > lim.ip_failures:
            await self._counters.adjust(undo=[pair_key])
            raise _limited("code_ip", ip_ttl)
        if pair > lim.pair_failures:
            raise _limited("code_pair", pair_ttl)
        return Attempt(pair_key, ip_key)

    async def _per_ip(self, kind: str, ip: str, limit: int, window: int) -> None:
        count, ttl = await self._counters.hit(f"{kind}:{ip}", window)
        if count > limit:
            raise _limited(_PER_IP[kind], ttl)

    async def check_register(self, ip: str) -> None:
        await self._per_ip("reg", ip, self.limits.register_per_ip, self.limits.register_window)

    async def check_refresh(self, ip: str) -> None:
        await self._per_ip("ref", ip, self.limits.refresh_per_ip, self.limits.refresh_window)

    async def check_mail_ip(self, ip: str) -> None:
        """A client asking for mail: 429 past the per-IP budget (this says nothing about
        any account, so it may be answered)."""
        await self._per_ip("mail-ip", ip, self.limits.mail_per_ip, self.limits.mail_window)

    async def mail_to(self, recipient: str) -> int | None:
        """Count a mail to ``recipient``; None if it may go, else seconds until it may.
        Callers that would reveal an account by answering 429 drop the mail silently."""
        count, ttl = await self._counters.hit(
            f"mail-to:{_account_key(recipient)}", self.limits.mail_window
        )
        if count > self.limits.mail_per_recipient:
            refused("mail_recipient")
            return ttl
        return None


async def _known() -> bool:
    return True


# The per-address limits' names in ``maria_rate_limited_total``.
_PER_IP = {"reg": "register_ip", "ref": "refresh_ip", "mail-ip": "mail_ip"}
