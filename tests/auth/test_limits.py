"""Brute-force limits for unknown clients: per (account, IP) pair, per IP; registration and
refresh; the counters, in memory and in Redis. (Known clients, devices and the account's lock:
``test_known_clients.py``.)

The in-process client connects from 203.0.113.7; other IPs get their own ASGI transport.
``sign_up`` registers and drops the device cookie registration sets, so that the client's
attempts are an unknown client's.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from maria.auth.limits import Attempt, Limits, LoginGuard
from maria.backends.ratelimit import Counters, MemoryCounters, RedisCounters
from maria.errors import RateLimited
from tests.support.api import PASSWORD, assert_error, register
from tests.support.app import client_of, make_settings, running

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
WRONG = "not the right password"
LIMITS = Limits()


def from_ip(app: Any, ip: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return client_of(app, (ip, 1234))


async def sign_up(client: httpx.AsyncClient, email: str | None = None) -> dict[str, Any]:
    session = await register(client, email=email)
    client.cookies.clear()  # no device cookie: the client is unknown to the account
    return session


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def fail(client: httpx.AsyncClient, email: str, times: int = 1) -> None:
    for _ in range(times):
        assert_error(await attempt(client, email, WRONG), 401, "invalid_credentials")


def assert_limited(response: httpx.Response, window: int = LIMITS.window) -> int:
    """A 429 in the contract's format whose Retry-After is whole seconds within the window."""
    assert_error(response, 429, "rate_limited")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    seconds = int(retry_after)
    assert 0 < seconds <= window
    return seconds


# -- per (account, IP) pair -------------------------------------------------------------


async def test_five_failures_block_the_pair(app: Any, client: httpx.AsyncClient) -> None:
    await sign_up(client, email="victim@example.com")
    await fail(client, "victim@example.com", LIMITS.pair_failures)
    assert_limited(await attempt(client, "victim@example.com", WRONG))
    # Now even the right password is refused from this pair (no more guesses verified).
    assert_limited(await attempt(client, "victim@example.com", PASSWORD))
    assert_limited(await attempt(client, "VICTIM@example.com ", PASSWORD))  # same account
    # The owner elsewhere is not locked out.
    async with from_ip(app, "198.51.100.9") as home:
        ok = await attempt(home, "victim@example.com", PASSWORD)
        assert ok.status_code == 200, ok.text
    # Other accounts from the blocked IP are not affected either.
    other = await sign_up(client)
    assert (await attempt(client, other["user"]["email"], PASSWORD)).status_code == 200


async def test_the_oauth2_token_endpoint_shares_the_login_limits(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, email="form@example.com")
    await fail(client, "form@example.com", LIMITS.pair_failures)
    response = await client.post(
        "/api/v1/auth/token", data={"username": "form@example.com", "password": PASSWORD}
    )
    assert_limited(response)


async def test_email_case_does_not_give_extra_guesses(client: httpx.AsyncClient) -> None:
    await sign_up(client, email="casey@example.com")
    for email in (
        "casey@example.com",
        "CASEY@example.com",
        "Casey@Example.com",
        " casey@EXAMPLE.com",
        "casey@example.COM",
    ):
        assert_error(await attempt(client, email, WRONG), 401, "invalid_credentials")
    assert_limited(await attempt(client, "casey@example.com", PASSWORD))


async def test_unknown_accounts_are_limited_the_same_way(client: httpx.AsyncClient) -> None:
    """No enumeration through the limiter: an unknown email is blocked just like a real one."""
    await fail(client, "ghost@example.com", LIMITS.pair_failures)
    assert_limited(await attempt(client, "ghost@example.com", WRONG))


async def test_success_clears_the_pair(client: httpx.AsyncClient) -> None:
    await sign_up(client, email="forgetful@example.com")
    for _ in range(3):
        await fail(client, "forgetful@example.com", LIMITS.pair_failures - 1)
        ok = await attempt(client, "forgetful@example.com", PASSWORD)
        assert ok.status_code == 200, ok.text
    # Without the reset this pair would be at 12 failures; it is at 0 again.
    await fail(client, "forgetful@example.com", LIMITS.pair_failures)
    assert_limited(await attempt(client, "forgetful@example.com", PASSWORD))


async def test_parallel_guesses_cannot_exceed_the_pair_limit(client: httpx.AsyncClient) -> None:
    """Guesses sent at once must not all pass a check made before any of them failed."""
    await sign_up(client, email="parallel@example.com")
    responses = await asyncio.gather(
        *(attempt(client, "parallel@example.com", f"{WRONG} {i}") for i in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    verified = statuses.count(401)
    assert verified <= LIMITS.pair_failures, statuses
    assert statuses.count(429) == 20 - verified, statuses
    assert_limited(await attempt(client, "parallel@example.com", PASSWORD))


async def test_parallel_guesses_cannot_exceed_the_ip_limit(app: Any) -> None:
    """Credential stuffing in one burst: at most the IP limit's worth of passwords checked."""
    burst = LIMITS.ip_failures + 15
    async with from_ip(app, "198.51.100.66") as stuffer:
        responses = await asyncio.gather(
            *(attempt(stuffer, f"leaked-{i}@example.com", WRONG) for i in range(burst))
        )
        statuses = [r.status_code for r in responses]
        assert set(statuses) == {401, 429}, statuses
        assert statuses.count(401) <= LIMITS.ip_failures, statuses
        assert_limited(await attempt(stuffer, "leaked-x@example.com", WRONG))


async def test_successful_logins_do_not_count_against_the_ip(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Many users behind one NAT signing in successfully never trip the per-IP limit."""
    users = [await register(client) for _ in range(6)]
    async with from_ip(app, "198.51.100.77") as office:
        for _ in range(LIMITS.ip_failures // len(users) + 2):
            responses = await asyncio.gather(
                *(attempt(office, u["user"]["email"], PASSWORD) for u in users)
            )
            assert [r.status_code for r in responses] == [200] * len(users)
        # And the failures that do happen there are still counted from zero (by an unknown
        # client: the sign-ins left a device cookie of one of the users).
        office.cookies.clear()
        for i in range(LIMITS.ip_failures):
            await fail(office, f"typo-{i}@example.com")
        assert_limited(await attempt(office, users[0]["user"]["email"], PASSWORD))


# -- per IP -----------------------------------------------------------------------------


async def test_many_accounts_from_one_ip_block_that_ip(app: Any, client: httpx.AsyncClient) -> None:
    await register(client, email="bystander@example.com")
    async with from_ip(app, "198.51.100.66") as stuffer:
        for i in range(LIMITS.ip_failures):
            await fail(stuffer, f"leaked-{i}@example.com")  # one guess per account
        seconds = assert_limited(await attempt(stuffer, "leaked-new@example.com", WRONG))
        assert seconds > 0
        # The IP is blocked for every account, also a real one with the right password.
        assert_limited(await attempt(stuffer, "bystander@example.com", PASSWORD))
    # Other IPs are unaffected, also for the accounts that were stuffed.
    ok = await attempt(client, "bystander@example.com", PASSWORD)
    assert ok.status_code == 200, ok.text
    await fail(client, "leaked-0@example.com")


# -- registration and refresh -----------------------------------------------------------


async def test_registration_is_limited_per_ip(app: Any, client: httpx.AsyncClient) -> None:
    for i in range(LIMITS.register_per_ip):
        await register(client, email=f"bulk-{i}@example.com")
    response = await client.post(
        REGISTER, json={"email": "bulk-x@example.com", "password": PASSWORD, "display_name": "B"}
    )
    assert_limited(response, LIMITS.register_window)
    async with from_ip(app, "198.51.100.9") as elsewhere:
        await register(elsewhere, email="bulk-x@example.com")


async def test_refresh_is_limited_per_ip(app: Any, client: httpx.AsyncClient) -> None:
    for _ in range(LIMITS.refresh_per_ip):
        assert_error(await client.post(REFRESH, json={"refresh_token": "x"}), 401, "invalid_token")
    response = await client.post(REFRESH, json={"refresh_token": "x"})
    assert_limited(response, LIMITS.refresh_window)
    async with from_ip(app, "198.51.100.9") as elsewhere:
        session = await register(elsewhere)
        ok = await elsewhere.post(REFRESH, json={"refresh_token": session["refresh_token"]})
        assert ok.status_code == 200, ok.text


# -- shared through Redis ---------------------------------------------------------------


def instance(settings_kwargs: dict[str, Any]) -> AbstractAsyncContextManager[Any]:
    return running(make_settings(**settings_kwargs))


async def test_two_instances_share_login_counts_through_redis(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    config = {"database_url": database_url, "data_dir": tmp_path, "redis_url": redis_url}
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(instance(config))
        two = await stack.enter_async_context(instance(config))
        assert one.state.services is not two.state.services
        c1 = await stack.enter_async_context(from_ip(one, "203.0.113.7"))
        c2 = await stack.enter_async_context(from_ip(two, "203.0.113.7"))
        await sign_up(c1, email="shared@example.com")

        # Failures split over both instances add up to the pair limit.
        await fail(c1, "shared@example.com", 3)
        await fail(c2, "shared@example.com", LIMITS.pair_failures - 3)
        assert_limited(await attempt(c1, "shared@example.com", PASSWORD))
        assert_limited(await attempt(c2, "shared@example.com", PASSWORD))

        # The owner from another IP, on either instance, is not blocked.
        async with from_ip(two, "198.51.100.9") as home:
            assert (await attempt(home, "shared@example.com", PASSWORD)).status_code == 200

        # A success on one instance clears the pair for the other.
        async with from_ip(one, "198.51.100.10") as a, from_ip(two, "198.51.100.10") as b:
            await fail(a, "shared@example.com", LIMITS.pair_failures - 1)
            assert (await attempt(b, "shared@example.com", PASSWORD)).status_code == 200
            await fail(a, "shared@example.com", LIMITS.pair_failures - 1)
            assert (await attempt(b, "shared@example.com", PASSWORD)).status_code == 200


async def test_redis_counters_hold_no_plain_email(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    config = {"database_url": database_url, "data_dir": tmp_path, "redis_url": redis_url}
    async with instance(config) as app, from_ip(app, "203.0.113.7") as c:
        await fail(c, "private.person@example.com")
    redis = Redis.from_url(redis_url)
    try:
        keys = [k.decode() if isinstance(k, bytes) else k for k in await redis.keys("*")]
    finally:
        await redis.aclose()
    assert any(k.startswith("maria:rl:") for k in keys), keys
    assert not any("private" in k or "example.com" in k for k in keys), keys


# -- the counters themselves ------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        memory = MemoryCounters()
        yield memory
        await memory.close()
        return
    url = request.getfixturevalue("redis_url")
    redis = Redis.from_url(url)
    shared = RedisCounters(redis, prefix=f"test:{secrets.token_hex(4)}:")
    try:
        yield shared
    finally:
        await shared.close()
        await redis.aclose()


async def test_counters_count_within_a_window(counters: Counters) -> None:
    assert await counters.peek("a") == [(0, 0)]
    counts = []
    for _ in range(3):
        count, ttl = await counters.hit("a", 60)
        assert 0 < ttl <= 60
        counts.append(count)
    assert counts == [1, 2, 3]
    # peek reports without counting, in the order asked, absent keys as (0, 0).
    (a_count, a_ttl), (b_count, b_ttl) = await counters.peek("a", "b")
    assert a_count == 3 and 0 < a_ttl <= 60
    assert (b_count, b_ttl) == (0, 0)
    assert (await counters.peek("a"))[0][0] == 3
    # Keys are independent.
    assert (await counters.hit("b", 60))[0] == 1
    assert (await counters.peek("a"))[0][0] == 3


async def test_counters_window_is_fixed_from_the_first_hit(counters: Counters) -> None:
    _, first_ttl = await counters.hit("w", 100)
    _, later_ttl = await counters.hit("w", 5000)  # a later hit does not extend the window
    assert later_ttl <= first_ttl <= 100


async def test_counters_reset(counters: Counters) -> None:
    await counters.hit("r", 60)
    await counters.hit("r", 60)
    await counters.hit("other", 60)
    await counters.reset("r")
    assert await counters.peek("r") == [(0, 0)]
    assert (await counters.hit("r", 60))[0] == 1
    assert (await counters.peek("other"))[0][0] == 1
    await counters.reset("never-set")  # no error


async def test_counters_window_expires(counters: Counters) -> None:
    await counters.hit("e", 1)
    await counters.hit("e", 1)
    # Poll (bounded) until the one-second window has passed; never assert on timing.
    for _ in range(60):
        await asyncio.sleep(0.1)
        if (await counters.peek("e")) == [(0, 0)]:
            break
    assert await counters.peek("e") == [(0, 0)]
    count, ttl = await counters.hit("e", 1)
    assert count == 1 and ttl >= 1


async def test_counters_undo(counters: Counters) -> None:
    await counters.hit("u", 60)
    await counters.hit("u", 60)
    await counters.undo("u")
    assert (await counters.peek("u"))[0][0] == 1
    await counters.undo("u")
    assert await counters.peek("u") == [(0, 0)]
    await counters.undo("u")  # never below zero, never creates a window
    assert await counters.peek("u") == [(0, 0)]
    assert (await counters.hit("u", 60))[0] == 1


async def test_counters_hit_many_and_adjust_in_one_call(counters: Counters) -> None:
    await counters.hit("seen", 60)
    results = await counters.hit_many(["a", "b", "a"], 60, peek=["seen", "never"])
    assert [count for count, _ in results] == [1, 1, 2, 1, 0]
    assert all(0 < ttl <= 60 for _, ttl in results[:4]) and results[4] == (0, 0)
    await counters.adjust(reset=["a"], undo=["b", "seen", "never"])
    assert [count for count, _ in await counters.peek("a", "b", "seen", "never")] == [0, 0, 0, 0]
    await counters.hit_many(["a", "a"], 60)
    await counters.adjust(undo=["a"])
    assert (await counters.peek("a"))[0][0] == 1


async def test_counters_add_many_counts_several_events_per_key(counters: Counters) -> None:
    await counters.hit("x", 60)
    totals = await counters.add_many({"x": 3, "y": 2}, 60)
    assert {key: count for key, (count, _) in totals.items()} == {"x": 4, "y": 2}
    assert all(0 < ttl <= 60 for _, ttl in totals.values())
    assert [count for count, _ in await counters.peek("x", "y")] == [4, 2]
    assert (await counters.hit("y", 60))[0] == 3


async def test_redis_counters_are_shared_between_clients(redis_url: str) -> None:
    one, two = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a, b = RedisCounters(one), RedisCounters(two)
        await a.hit("k", 60)
        await b.hit("k", 60)
        assert (await a.peek("k"))[0][0] == 2
        await b.reset("k")
        assert await a.peek("k") == [(0, 0)]
    finally:
        await one.aclose()
        await two.aclose()


async def test_memory_counters_stay_bounded() -> None:
    counters = MemoryCounters(max_keys=10)
    for i in range(100):
        await counters.hit(f"k{i}", 60)
    live = [key for key in (f"k{i}" for i in range(100)) if (await counters.peek(key))[0][0]]
    assert 0 < len(live) <= 10
    assert "k99" in live  # the newest windows are kept, the oldest dropped


# -- the guard on its own (real in-process counters, small limits) ----------------------


async def test_guard_counts_attempts_before_verification_and_takes_successes_back() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters, Limits(pair_failures=2, ip_failures=3, unknown_failures=2))
    pair, account, ip = guard._keys("a@example.com", "192.0.2.1")

    attempt = await guard.check_login("a@example.com", "192.0.2.1")
    assert [c for c, _ in await counters.peek(pair, account, ip)] == [1, 1, 1]
    await guard.login_succeeded(attempt)
    assert [c for c, _ in await counters.peek(pair, account, ip)] == [0, 0, 0]

    for _ in range(2):
        attempt = await guard.check_login("a@example.com", "192.0.2.1")
        await guard.login_failed(attempt)
    assert [c for c, _ in await counters.peek(pair, account, ip)] == [2, 2, 2]
    with pytest.raises(RateLimited):
        await guard.check_login("a@example.com", "192.0.2.1")


async def test_guard_an_ip_block_does_not_also_charge_the_pair_or_the_account() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters, Limits(pair_failures=5, ip_failures=2))
    for i in range(2):
        await guard.login_failed(await guard.check_login(f"x{i}@example.com", "192.0.2.9"))
    for _ in range(10):
        with pytest.raises(RateLimited):
            await guard.check_login("owner@example.com", "192.0.2.9")
    pair, account, _ = guard._keys("owner@example.com", "192.0.2.9")
    assert await counters.peek(pair, account) == [(0, 0), (0, 0)]


async def test_guard_a_pair_block_does_not_bring_the_accounts_lock_nearer() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters, Limits(pair_failures=2))
    for _ in range(2):
        await guard.login_failed(await guard.check_login("a@example.com", "192.0.2.1"))
    for _ in range(5):
        with pytest.raises(RateLimited):
            await guard.check_login("a@example.com", "192.0.2.1")
    account = guard._keys("a@example.com", "192.0.2.1")[1]
    assert (await counters.peek(account))[0][0] == 2


async def test_guard_a_locked_account_refuses_unknown_clients_but_not_known_ones() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters, Limits(unknown_failures=3))
    asked: list[str] = []

    def known(answer: bool, who: str) -> Any:
        async def ask() -> bool:
            asked.append(who)
            return answer

        return ask

    for i in range(3):
        attempt = await guard.check_login(
            "a@example.com", f"10.0.0.{i}", known_address=known(False, "bot")
        )
        await guard.login_failed(attempt)
    assert asked == ["bot"] * 3  # asked on each failure (a known one would take it back)
    asked.clear()
    # Locked: an unknown client is refused, asked once.
    with pytest.raises(RateLimited) as refused:
        await guard.check_login("a@example.com", "10.0.0.9", known_address=known(False, "new"))
    assert 0 < refused.value.retry_after <= Limits().window
    assert asked == ["new"]
    # A client known by address passes, and its failure is not counted on the account.
    account = guard._keys("a@example.com", "192.0.2.1")[1]
    before = (await counters.peek(account))[0][0]
    attempt = await guard.check_login(
        "a@example.com", "192.0.2.1", known_address=known(True, "home")
    )
    assert not attempt.account_key and (await counters.peek(account))[0][0] == before
    await guard.login_failed(attempt)
    assert asked == ["new", "home"]  # not asked again
    assert (await counters.peek(account))[0][0] == before
    # A device of the account: only its own counter, never asked about its address.
    attempt = await guard.check_login(
        "a@example.com", "10.0.0.9", device="nonce", known_address=known(False, "device")
    )
    assert attempt == Attempt(device_key="lf:dev:nonce", known_address=attempt.known_address)
    await guard.login_succeeded(attempt)
    assert asked == ["new", "home"]


async def test_guard_a_known_address_takes_its_failure_off_the_account() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters)

    async def home() -> bool:
        return True

    attempt = await guard.check_login("a@example.com", "192.0.2.1", known_address=home)
    account = guard._keys("a@example.com", "192.0.2.1")[1]
    assert (await counters.peek(account))[0][0] == 1  # in flight: counted, as if it failed
    await guard.login_failed(attempt)
    assert await counters.peek(account) == [(0, 0)]
    pair = guard._keys("a@example.com", "192.0.2.1")[0]
    assert (await counters.peek(pair))[0][0] == 1  # the pair's limit still holds


async def test_guard_devices_have_their_own_limit() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters, Limits(device_failures=2))
    for _ in range(2):
        await guard.login_failed(await guard.check_login("a@example.com", "192.0.2.1", device="n1"))
    with pytest.raises(RateLimited):
        await guard.check_login("a@example.com", "192.0.2.1", device="n1")
    # Another device, and unknown clients, are unaffected; nothing else was counted.
    await guard.login_succeeded(await guard.check_login("a@example.com", "192.0.2.1", device="n2"))
    pair, account, ip = guard._keys("a@example.com", "192.0.2.1")
    assert await counters.peek(pair, account, ip) == [(0, 0)] * 3
    await guard.check_login("a@example.com", "192.0.2.1")


async def test_guard_sign_in_codes_are_limited_per_pair_and_ip_only() -> None:
    counters = MemoryCounters()
    guard = LoginGuard(counters, Limits(unknown_failures=1, pair_failures=2))
    await guard.login_failed(await guard.check_login("a@example.com", "10.0.0.1"))
    with pytest.raises(RateLimited):  # the account is locked for unknown password attempts
        await guard.check_login("a@example.com", "192.0.2.1")
    attempt = await guard.check_code("a@example.com", "192.0.2.1")
    await guard.login_failed(attempt)
    await guard.login_succeeded(await guard.check_code("a@example.com", "192.0.2.1"))
    for _ in range(2):
        await guard.login_failed(await guard.check_code("a@example.com", "192.0.2.1"))
    with pytest.raises(RateLimited):
        await guard.check_code("a@example.com", "192.0.2.1")
