"""argon2id hashing: OWASP parameters, verification, rehash on login, the dummy hash, and
hashing off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from maria.auth.passwords import PasswordService
from maria.config import Settings
from maria.users.models import User
from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import app_and_client, make_settings, reading

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def cheap() -> Iterator[PasswordService]:
    service = PasswordService(memory_kib=1024, time_cost=1, threads=2)
    yield service
    service.close()


@pytest.fixture
def default_service() -> Iterator[PasswordService]:
    service = PasswordService()
    yield service
    service.close()


@asynccontextmanager
async def running(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Any]:
    async with app_and_client(make_settings(database_url, tmp_path, **overrides)) as (app, c):
        c.app = app  # type: ignore[attr-defined]
        yield c


async def stored_hash(app: Any, email: str) -> str:
    async with reading(app) as db:
        value: str = (
            await db.execute(select(User.password_hash).where(User.email == email))
        ).scalar_one()
    return value


class VerifySpy:
    """Records the hashes argon2 verifies against, calling the real verification."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, bool]] = []
        real = PasswordHasher.verify

        def verify(hasher: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
            encoded = hash.decode() if isinstance(hash, bytes) else hash
            try:
                result = real(hasher, hash, password)
            except argon2.exceptions.VerificationError:
                self.calls.append((encoded, False))
                raise
            self.calls.append((encoded, result))
            return result

        monkeypatch.setattr(PasswordHasher, "verify", verify)


# -- parameters -------------------------------------------------------------------------


async def test_default_hash_is_argon2id_at_owasp_parameters(
    default_service: PasswordService,
) -> None:
    encoded = await default_service.hash(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    params = argon2.extract_parameters(encoded)
    assert params.type is Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)
    assert params.salt_len >= 16 and params.hash_len >= 32
    assert PASSWORD not in encoded


def test_settings_default_to_the_owasp_parameters() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.argon2_memory_kib == 19 * 1024
    assert settings.argon2_time_cost == 2
    assert settings.argon2_parallelism == 1


async def test_the_app_hashes_with_the_default_parameters(
    database_url: str, tmp_path: Path
) -> None:
    """Without argon2 overrides, what lands in the database is m=19456, t=2, p=1."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        secret_key="test-secret-" + "k" * 40,
        database_url=database_url,
        data_dir=tmp_path,
        password_hash_threads=2,
    )
    async with app_and_client(settings) as (app, c):
        await register(c, email="owasp@example.com")
        params = argon2.extract_parameters(await stored_hash(app, "owasp@example.com"))
    assert params.type is Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)


async def test_each_hash_has_its_own_salt(cheap: PasswordService) -> None:
    first, second = await cheap.hash(PASSWORD), await cheap.hash(PASSWORD)
    assert first != second
    assert (await cheap.verify(first, PASSWORD))[0] and (await cheap.verify(second, PASSWORD))[0]


# -- verify -----------------------------------------------------------------------------


async def test_verify_ok_and_mismatch(cheap: PasswordService) -> None:
    encoded = await cheap.hash(PASSWORD)
    assert await cheap.verify(encoded, PASSWORD) == (True, False)
    assert await cheap.verify(encoded, PASSWORD + " ") == (False, False)
    assert await cheap.verify(encoded, PASSWORD.upper()) == (False, False)
    assert await cheap.verify(encoded, "") == (False, False)


async def test_verify_handles_unicode_exactly(cheap: PasswordService) -> None:
    password = "пароль-\U0001f600-密码"
    encoded = await cheap.hash(password)
    assert await cheap.verify(encoded, password) == (True, False)
    assert await cheap.verify(encoded, password[:-1]) == (False, False)


@pytest.mark.parametrize(
    "stored",
    ["", "not a hash", "$argon2id$v=19$m=1024,t=1,p=1$broken", "$2b$12$" + "a" * 53],
)
async def test_verify_of_a_broken_stored_hash_fails_cleanly(
    cheap: PasswordService, stored: str
) -> None:
    assert await cheap.verify(stored, PASSWORD) == (False, False)


async def test_needs_rehash_when_parameters_change(cheap: PasswordService) -> None:
    old = await cheap.hash(PASSWORD)
    stronger = PasswordService(memory_kib=2048, time_cost=2, threads=1)
    try:
        assert await stronger.verify(old, PASSWORD) == (True, True)
        assert await stronger.verify(old, "wrong password 1") == (False, False)
        new = await stronger.hash(PASSWORD)
        assert await stronger.verify(new, PASSWORD) == (True, False)
        # And back: a service with the old parameters wants the new hash rehashed too.
        assert await cheap.verify(new, PASSWORD) == (True, True)
    finally:
        stronger.close()


async def test_login_rehashes_when_parameters_change(database_url: str, tmp_path: Path) -> None:
    email = "rehash@example.com"
    async with running(database_url, tmp_path) as client:  # m=1024, t=1
        await register(client, email=email)
        old = await stored_hash(client.app, email)  # type: ignore[attr-defined]
    assert argon2.extract_parameters(old).memory_cost == 1024

    async with running(
        database_url, tmp_path, argon2_memory_kib=2048, argon2_time_cost=2
    ) as client:
        app = client.app  # type: ignore[attr-defined]
        # A wrong password changes nothing.
        assert_error(
            await client.post(LOGIN, json={"email": email, "password": "wrong password 1"}),
            401,
            "invalid_credentials",
        )
        assert await stored_hash(app, email) == old

        response = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        new = await stored_hash(app, email)
        params = argon2.extract_parameters(new)
        assert (params.type, params.memory_cost, params.time_cost) == (Type.ID, 2048, 2)
        # The new hash is of the same password, and a second login leaves it alone.
        again = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
        assert again.status_code == 200
        assert await stored_hash(app, email) == new
        assert (
            await client.get("/api/v1/users/me", headers=bearer(again.json()))
        ).status_code == 200


# -- the dummy hash ---------------------------------------------------------------------


async def test_verify_without_a_stored_hash_runs_a_real_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = PasswordService(memory_kib=2048, time_cost=3, threads=1)
    try:
        spy = VerifySpy(monkeypatch)
        assert await service.verify(None, PASSWORD) == (False, False)
        # Even the dummy's own password is refused when there is no account.
        assert await service.verify(None, "maria-dummy-password-for-timing") == (False, False)
    finally:
        service.close()
    assert len(spy.calls) == 2
    for encoded, _ in spy.calls:
        params = argon2.extract_parameters(encoded)
        assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (
            Type.ID,
            2048,
            3,
            1,
        )


async def test_unknown_email_costs_a_verification_at_the_configured_parameters(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What makes unknown email and wrong password take the same time."""
    await register(client, email="known@example.com")
    spy = VerifySpy(monkeypatch)
    assert_error(
        await client.post(LOGIN, json={"email": "known@example.com", "password": "wrong one 1"}),
        401,
        "invalid_credentials",
    )
    assert_error(
        await client.post(LOGIN, json={"email": "unknown@example.com", "password": "wrong one 1"}),
        401,
        "invalid_credentials",
    )
    assert len(spy.calls) == 2
    known, unknown = (argon2.extract_parameters(encoded) for encoded, _ in spy.calls)
    assert known == unknown  # same type, version, memory, time, parallelism, lengths
    assert (unknown.memory_cost, unknown.time_cost) == (1024, 1)  # the app's settings
    assert spy.calls[1][0] != await stored_hash(app, "known@example.com")


# -- off the event loop -----------------------------------------------------------------


async def _ticks_while(awaitable: Any) -> tuple[Any, int]:
    ticks = 0
    stop = False

    async def ticker() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # let the ticker start
    started = ticks
    try:
        result = await awaitable
    finally:
        stop = True
        await task
    return result, ticks - started


async def test_hashing_does_not_block_the_event_loop(default_service: PasswordService) -> None:
    encoded, ticks = await _ticks_while(default_service.hash(PASSWORD))
    assert encoded.startswith("$argon2id$")
    # A hash computed on the loop's thread would let the ticker run at most once.
    assert ticks >= 2, ticks
    result, ticks = await _ticks_while(default_service.verify(encoded, PASSWORD))
    assert result == (True, False)
    assert ticks >= 2, ticks
    result, ticks = await _ticks_while(default_service.verify(None, PASSWORD))
    assert result == (False, False)
    assert ticks >= 2, ticks


async def test_hashing_runs_on_worker_threads(
    cheap: PasswordService, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = PasswordHasher.hash

    def hash_(hasher: PasswordHasher, password: str | bytes, *, salt: bytes | None = None) -> str:
        threads.append(threading.current_thread().name)
        return real(hasher, password, salt=salt)

    monkeypatch.setattr(PasswordHasher, "hash", hash_)
    await asyncio.gather(*(cheap.hash(f"{PASSWORD} {i}") for i in range(4)))
    assert len(threads) == 4
    assert threading.main_thread().name not in threads
    assert all(name.startswith("argon2") for name in threads), threads
