"""Brute-force and credential-stuffing limits that a stranger cannot turn into a lockout.

Failures are counted per (account, IP) pair, per account and per IP, in 15-minute windows:

- a pair with 5 failures is blocked: one attacker guessing one account;
- an IP with 50 failures over any accounts is blocked: credential stuffing from one place;
- an account with 20 failures from everywhere becomes *hot*: then any pair that has failed
  even once is blocked, so a distributed attack pays one IP per guess, while a clean pair
  (the owner at home) still signs in. Success clears its own pair.

Registration and refresh are limited per IP. The counts live in a ``Counters`` backend, so
with Redis every instance sees the same numbers.
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
        """Raise ``RateLimited`` if this pair may not try now."""
        lim = self.limits
        (pair, pair_ttl), (account, account_ttl), (by_ip, ip_ttl) = await self._counters.peek(
            *self._keys(email, ip)
        )
        if pair >= lim.pair_failures:
            raise RateLimited(pair_ttl)
        if by_ip >= lim.ip_failures:
            raise RateLimited(ip_ttl)
        if account >= lim.account_hot_failures and pair > 0:
            raise RateLimited(min(pair_ttl, account_ttl))

    async def login_failed(self, email: str, ip: str) -> None:
        for key in self._keys(email, ip):
            await self._counters.hit(key, self.limits.window)

    async def login_succeeded(self, email: str, ip: str) -> None:
        await self._counters.reset(self._keys(email, ip)[0])

    async def _per_ip(self, kind: str, ip: str, limit: int, window: int) -> None:
        count, ttl = await self._counters.hit(f"{kind}:{ip}", window)
        if count > limit:
            raise RateLimited(ttl)

    async def check_register(self, ip: str) -> None:
        await self._per_ip("reg", ip, self.limits.register_per_ip, self.limits.register_window)

    async def check_refresh(self, ip: str) -> None:
        await self._per_ip("ref", ip, self.limits.refresh_per_ip, self.limits.refresh_window)
