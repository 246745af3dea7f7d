"""The password policy after NIST SP 800-63B: length and the common list, and no
repetitive, sequential or context-word passwords; applied wherever a password is set
(registration, change, reset, ``maria create-admin``) with a 422 that names the rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from maria.auth.passwords import (
    CONTEXT,
    REPETITIVE,
    SEQUENTIAL,
    context_words,
    password_problem,
)
from tests.support.api import ME, PASSWORD, assert_error, bearer, register
from tests.support.mail import MailSink, link_query

COMMON = "This password is too common; choose another"
AUTH = "/api/v1/auth"
REGISTER = f"{AUTH}/register"
LOGIN = f"{AUTH}/login"

ACCEPTED = [
    "correct horse battery staple",
    "kq8#zLw2",
    "Tr0ub4dor&3x",
    "my maria is 42 and lovely",  # a context word inside a real passphrase
    "kinoway movie night with popcorn",
    "abc-Zq7!-xyz",  # short runs inside are fine
    "пароль для кино 42",
]


@pytest.mark.parametrize(
    "password",
    [
        "        ",  # eight spaces
        "aaaaaaaa",
        "AAAAAAAAAAAA",
        "abababab",
        "ababababa",  # the last copy cut short
        "abcabcabc",
        "abcdabcdab",
        "1212121212",
        "aaaaaaab",  # at most two different characters
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
    ],
)
def test_repetitive_passwords_are_refused(password: str) -> None:
    assert password_problem(password) == REPETITIVE


@pytest.mark.parametrize(
    "password",
    [
        "abcdefgh",
        "ABCDEFGHIJ",
        "87654321",
        "hgfedcba",
        "78901234",  # the digits as on the keyboard, round the end
        "xyzabcde",  # the alphabet, round the end
        "acegikmo",  # a fixed step of 2
        "poiuytre",  # a keyboard row backwards
        "zxcvbnmzx",
        "asdfghjkl",
        "azertyuiop",
        "йцукенгшщ",  # the Russian keyboard's top row
        "1234abcd",  # two runs
        "abcd9876",
        "aaaa1234",  # a repetition and a run
        "qwer7890",
    ],
)
def test_sequential_passwords_are_refused(password: str) -> None:
    assert password_problem(password) in (SEQUENTIAL, COMMON)


def test_sequential_passwords_not_in_the_common_list_are_refused_as_sequences() -> None:
    for password in ("87654321", "78901234", "xyzabcde", "acegikmo", "abcd9876", "aaaa1234"):
        assert password_problem(password) == SEQUENTIAL, password


@pytest.mark.parametrize(
    "password",
    [
        "kinoway1",
        "Kinoway2024!",
        "MARIA2024",
        "mariamaria",
        "kinowaypassword",  # the rest is a common password
        "yawonik!!",  # reversed
        "maria 12/05",
        "kinoway-abcdef",  # the rest is a run
    ],
)
def test_the_service_names_are_context_words_for_everyone(password: str) -> None:
    assert password_problem(password) == CONTEXT


@pytest.mark.parametrize(
    "password",
    [
        "john.smith!!",
        "JohnSmith1990",
        "smithjohn",
        "John Smith 7",
        "john.smith@example.com",
        "htims.nhoj",
        "jsmith-2024",  # the local part's whole
        "1990jsmith",
    ],
)
def test_the_email_and_name_are_context_words(password: str) -> None:
    words = context_words("jsmith@example.com", "John Smith")
    words_too = context_words("john.smith@example.com", "Johnny")
    assert CONTEXT in (password_problem(password, words), password_problem(password, words_too))


def test_context_words_are_refused_only_when_the_rest_is_trivial() -> None:
    words = context_words("john.smith@example.com", "John Smith")
    for password in (
        "johnny be good 1990",
        "john smith likes long walks",
        "smith: correct horse battery",
        "john!x7#qZ",  # five characters of its own, with letters
    ):
        assert password_problem(password, words) is None, password
    # Without the account's context the same words are no problem.
    assert password_problem("john.smith!!") is None


def test_context_words() -> None:
    words = context_words("  Jo.Smith+Films@Example.com ", "Anna  Maria Li")
    for word in ("jo.smith+films@example.com", "jo.smith+films", "smith", "films"):
        assert word in words
    for word in ("anna  maria li", "annamariali", "anna", "maria", "kinoway"):
        assert word in words
    assert "htims" in words and "yawonik" in words  # reversed too
    assert "jo" not in words and "li" not in words  # under 3 characters
    lengths = [len(word) for word in words]
    assert lengths == sorted(lengths, reverse=True)  # longest first
    assert set(context_words()) == {"kinoway", "maria", "yawonik", "airam"}


@pytest.mark.parametrize("password", ACCEPTED)
def test_good_passwords_pass_every_rule(password: str) -> None:
    assert password_problem(password, context_words("john.smith@example.com", "John")) is None


def test_a_run_is_judged_as_a_whole() -> None:
    """128 characters that are one run but for the end are not a run (nor two)."""
    assert password_problem(("abcdefghijklmnopqrstuvwxyz" * 5)[:126] + "Zq") is None
    assert password_problem(("abcdefghijklmnopqrstuvwxyz" * 5)[:128]) == SEQUENTIAL


# -- where passwords are set --------------------------------------------------------------


def assert_policy_error(response: httpx.Response, message: str, field: str) -> None:
    body = assert_error(response, 422, "validation_error")
    assert body["error"]["message"] == message
    [detail] = body["error"]["details"]
    assert detail == {"loc": ["body", field], "msg": message, "type": "password_policy"}


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("mina.murray@example.com", "Mina", "Mina.Murray1", CONTEXT),
        ("mm@example.com", "Mina Murray", "minamurray2024", CONTEXT),
        ("mm@example.com", "Mina", "Kinoway2024!", CONTEXT),
        ("mm@example.com", "Mina", "aaaaaaaa", REPETITIVE),
        ("mm@example.com", "Mina", "        ", REPETITIVE),
        ("mm@example.com", "Mina", "87654321", SEQUENTIAL),
    ],
)
async def test_registration_refuses_with_the_rule(
    client: httpx.AsyncClient, email: str, name: str, password: str, message: str
) -> None:
    body = {"email": email, "password": password, "display_name": name}
    response = await client.post(REGISTER, json=body)
    assert_policy_error(response, message, "password")
    assert password not in response.text
    await register(client, email=email, display_name=name)  # nothing was created


async def test_a_password_change_applies_the_policy_with_the_accounts_words(
    client: httpx.AsyncClient,
) -> None:
    session = await register(client, email="lucy.westenra@example.com", display_name="Lucy")
    for new, message in (
        ("Lucy.Westenra!", CONTEXT),
        ("lucy2024", CONTEXT),
        ("abcabcabc", REPETITIVE),
        ("zyxwvuts", SEQUENTIAL),
    ):
        response = await client.post(
            f"{ME}/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=bearer(session),
        )
        assert_policy_error(response, message, "new_password")
    # Nothing changed: the old password still signs in, the session is alive.
    login = await client.post(
        LOGIN, json={"email": "lucy.westenra@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert (await client.get(ME, headers=bearer(session))).status_code == 200
    ok = await client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": "westenra garden at dusk"},
        headers=bearer(session),
    )
    assert ok.status_code == 204, ok.text


async def test_a_reset_applies_the_policy_with_the_accounts_words(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    await register(mail_client, email="arthur.holmwood@example.com", display_name="Art Holmwood")
    await mail_client.post(f"{AUTH}/password/forgot", json={"email": "arthur.holmwood@example.com"})
    mail = (await sink.wait("arthur.holmwood@example.com", 2))[1]
    token = link_query(mail, "/reset-password")["token"]
    for new, message in (
        ("aaaaaaaaaa", REPETITIVE),  # refused before the link is even looked at
        ("Holmwood1", CONTEXT),  # refused once the link's account is known
        ("arthur.holmwood@example.com", CONTEXT),
        ("maria2024", CONTEXT),
    ):
        response = await mail_client.post(
            f"{AUTH}/password/reset", json={"token": token, "new_password": new}
        )
        assert_policy_error(response, message, "new_password")
    # Each refusal left the link usable.
    ok = await mail_client.post(
        f"{AUTH}/password/reset", json={"token": token, "new_password": "a brand new passphrase 42"}
    )
    assert ok.status_code == 204, ok.text
    login = await mail_client.post(
        LOGIN,
        json={"email": "arthur.holmwood@example.com", "password": "a brand new passphrase 42"},
    )
    assert login.status_code == 200, login.text


@pytest.mark.parametrize(
    "body",
    [
        {"new_password": None},
        {"new_password": 12345678},
        {"new_password": ["aaaaaaaa"]},
        {"new_password": "x" * 10_000},
        {"current_password": PASSWORD},
        {"current_password": PASSWORD, "new_password": "a fine passphrase", "extra": 1},
    ],
)
async def test_password_change_bad_input(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    session = await register(client)
    response = await client.post(f"{ME}/password", json=body, headers=bearer(session))
    assert_error(response, 422, "validation_error")
    assert (await client.get(ME, headers=bearer(session))).status_code == 200
