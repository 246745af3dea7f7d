"""schemathesis hooks for ``test_openapi.py`` (loaded through ``schemathesis.toml``): how
the fuzzer signs in, and the rules no schema can state.

The account comes from the environment the test sets: ``FUZZ_BASE_URL``, ``FUZZ_EMAIL``,
``FUZZ_PASSWORD``, ``FUZZ_AUTH`` (``bearer``, or ``cookie`` for a browser's session
cookies with the CSRF header), and ``FUZZ_PROTECTED``: the ids of the test's own accounts,
which admin operations leave alone (schemathesis reuses ids it has seen in answers, and a
demoted or deleted account would end the run, not find a bug).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, HookContext, Response
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz.account import Account

ACCOUNT = Account(
    os.environ.get("FUZZ_BASE_URL", ""),
    os.environ.get("FUZZ_EMAIL", ""),
    os.environ.get("FUZZ_PASSWORD", ""),
)
COOKIES = os.environ.get("FUZZ_AUTH") == "cookie"
PROTECTED = frozenset(filter(None, os.environ.get("FUZZ_PROTECTED", "").split(",")))


# A user id no account has: an admin change aimed at a protected account goes there (404).
NOBODY = "00000000-0000-4000-8000-000000000000"


@schemathesis.hook
def map_case(context: HookContext, case: Case) -> Case:
    """No admin change to the test's own accounts: such a case is sent to ``NOBODY``
    instead. Not filtered out: schemathesis feeds ids it has seen in answers (the
    accounts' own) into ``user_id`` so often that rejecting them can fail Hypothesis's
    ``filter_too_much`` health check."""
    parameters = case.path_parameters or {}
    if (
        case.method.upper() not in ("GET", "HEAD")
        and case.path.startswith("/api/v1/admin/")
        and parameters.get("user_id") in PROTECTED
    ):
        case.path_parameters = {**parameters, "user_id": NOBODY}
    return case


@schemathesis.auth(refresh_interval=600)
class SignedIn:
    """A fresh sign-in whenever the last one is refused (schemathesis retries a 401 once
    with new credentials)."""

    def get(self, case: Case, context: Any) -> tuple[str, dict[str, str]]:
        session, cookies = ACCOUNT.sign_in()
        return str(session["access_token"]), cookies

    def set(self, case: Case, data: tuple[str, dict[str, str]], context: Any) -> None:
        token, cookies = data
        if COOKIES:
            case.cookies = {**(case.cookies or {}), **cookies}
            case.headers = {**(case.headers or {}), "X-CSRF-Token": cookies["maria_csrf"]}
        else:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


# The 422s for what a request says rather than how it is shaped (docs/api.md lists them):
# a password the policy refuses (the 10,000 most common, ...), a file that is no image, a
# well-formed cursor that points nowhere (garbled, another list's, an unknown message).
SEMANTIC = frozenset({"password_policy", "image", "cursor"})


def _semantic_refusal(response: Response) -> bool:
    """A 422 whose every problem is one of the ``SEMANTIC`` ones."""
    if response.status_code != 422:
        return False
    try:
        details = response.json()["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(details) and all(d.get("type") in SEMANTIC for d in details)


@schemathesis.check
def valid_data_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis's ``positive_data_acceptance`` (a request the schema allows is not
    refused as invalid), less the ``SEMANTIC`` refusals: no JSON Schema can state them."""
    if _semantic_refusal(response):
        return None
    return positive_data_acceptance(ctx, response, case)
