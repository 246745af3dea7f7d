"""Brute-force and credential-stuffing limits that a stranger cannot turn into a lockout.

Failures are counted per (account, IP) pair, per account and per IP, in 15-minute windows:

- a pair with 5 failures is blocked: one attacker guessing one account;
- an IP with 50 failures over any accounts is blocked: credential stuffing from one place;
- an account with 20 failures from everywhere becomes *hot*: then any pair that has failed
  even once is blocked, so a distributed attack pays one IP per guess, while a clean pair
  (the owner at home) still signs in. Success clears its own pair.

Registration and refresh are limited per IP, and so are the mails a client can make Maria
send (verification, reset, sign-in codes), which are also limited per recipient: one
address cannot be flooded from many places, and one place cannot flood many addresses. The
counts live in a ``Counters`` backend, so with Redis every instance sees the same numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from maria.backends.ratelimit import Counters
from maria.errors import RateLimited


@dataclass(frozen=True)
class Limits:
    window: int = 15 * 60
    pair_failures: int = 5
    ip_failures: int = 50
    account_hot_failures: int = 20
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


class LoginGuard:
    def __init__(self, counters: Counters, limits: Limits | None = None) -> None:
        self._counters = counters
        self.limits = limits or Limits()

    def _keys(self, email: str, ip: str) -> tuple[str, str, str]:
        account = _account_key(email)
        return f"lf:pair:{account}:{ip}", f"lf:acct:{account}", f"lf:ip:{ip}"

    async def check_login(self, email: str, ip: str) -> None:
        """Count this attempt, or raise ``RateLimited`` if this pair may not try now.

        The attempt is counted against its pair and its IP *before* the password is checked,
        as if it would fail, so that guesses sent in parallel cannot all pass a check made
        before any of them failed; ``login_succeeded`` takes a success back out.
        """
        lim = self.limits
        pair_key, account_key, ip_key = self._keys(email, ip)
        (pair, pair_ttl), (by_ip, ip_ttl), (account, account_ttl) = await self._counters.hit_many(
            [pair_key, ip_key], lim.window, peek=[account_key]
        )
        if by_ip > lim.ip_failures:
            # A blocked IP says nothing about this account: take the pair's count back.
            await self._counters.adjust(undo=[pair_key])
            raise RateLimited(ip_ttl)
        if pair > lim.pair_failures:
            raise RateLimited(pair_ttl)
        if account >= lim.account_hot_failures and pair > 1:  # failed (or is trying) before
            raise RateLimited(min(pair_ttl, account_ttl))

    async def login_failed(self, email: str, ip: str) -> None:
        """After ``check_login``: the pair and IP counts already hold this failure."""
        await self._counters.hit(self._keys(email, ip)[1], self.limits.window)

    async def login_succeeded(self, email: str, ip: str) -> None:
        pair_key, _, ip_key = self._keys(email, ip)
        await self._counters.adjust(reset=[pair_key], undo=[ip_key])

    async def _per_ip(self, kind: str, ip: str, limit: int, window: int) -> None:
        count, ttl = await self._counters.hit(f"{kind}:{ip}", window)
        if count > limit:
            raise RateLimited(ttl)

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
        return ttl if count > self.limits.mail_per_recipient else None
