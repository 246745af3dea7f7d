"""Driving the console in Debian's Chromium with Playwright, against a real ``maria serve``
with a real SMTP sink.

Without ``/usr/bin/chromium`` the browser tests skip with the reason (fail under
``MARIA_TEST_REQUIRE_SERVICES=1``); ``.ci/run`` installs it with apt. Playwright never
downloads a browser here: it launches this one by ``executable_path``.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.api import PASSWORD
from tests.support.mail import MailSink, link_query
from tests.support.servers import MARIA, Server
from tests.support.services import REQUIRE_SERVICES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots of every page, kept after the run (git-ignored); the README shows copies of
# the key ones from docs/screenshots/.
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_MS = 10_000  # the bound of a wait for the page: generous, never asserted on


def need_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing (apt-get install chromium): the console tests drive it"
    if REQUIRE_SERVICES:
        pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@dataclass
class Site:
    """One ``maria serve`` for the module, the mail it sent, and its environment (for
    ``maria create-admin`` against the same database)."""

    server: Server
    sink: MailSink
    env: dict[str, str]
    cwd: Path

    @property
    def url(self) -> str:
        return self.server.url

    def create_admin(self, email: str) -> None:
        done = subprocess.run(
            [str(MARIA), "create-admin", "--email", email, "--password-stdin"],
            env=self.env,
            cwd=self.cwd,
            input=f"{PASSWORD}\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def mail_to(self, address: str, count: int = 1) -> list[Any]:
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            found = self.sink.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) to {address} not received")

    def verification_token(self, address: str, count: int) -> str:
        return link_query(self.mail_to(address, count)[-1], "/verify-email")["token"]


def email() -> str:
    return f"c-{secrets.token_hex(5)}@example.com"


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def heading(page: Page, text: str) -> None:
    """The page shows ``text`` as its one h1."""
    expect(page.locator("main h1")).to_have_text(text, timeout=WAIT_MS)


def focused_heading(page: Page, text: str) -> None:
    """Navigation moved focus to the new page's heading."""
    heading(page, text)
    page.wait_for_function(
        "t => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === t",
        arg=text,
        timeout=WAIT_MS,
    )


def form(page: Page, label: str) -> Any:
    """The form named ``label`` (a form, or a search landmark)."""
    return page.locator(f'form[aria-label="{label}"]')


def signed_up(
    browser: Browser, site: Site, name: str = "Tester", *, phone: bool = False
) -> tuple[BrowserContext, Page, dict[str, Any]]:
    """A context signed in as a new user (registered through the context's own cookie
    jar, as the console's form does), on the profile page."""
    viewport = {"width": 375, "height": 812} if phone else {"width": 1200, "height": 900}
    context = browser.new_context(base_url=site.url, viewport=viewport)  # type: ignore[arg-type]
    body = {"email": email(), "password": PASSWORD, "display_name": name}
    answer = context.request.post("/api/v1/auth/register", data=body)
    assert answer.status == 201, answer.text()
    page = context.new_page()
    page.goto("/console/profile")
    heading(page, "Profile")
    user: dict[str, Any] = answer.json()["user"]
    return context, page, user


def storage_of(page: Page) -> str:
    """Everything in the page's localStorage and sessionStorage, as text."""
    dump: str = page.evaluate(
        "() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})"
    )
    return dump


def cookie(context: BrowserContext, name: str) -> str:
    values = [c["value"] for c in context.cookies() if c["name"] == name]
    assert values, f"no {name} cookie"
    return values[0]


def dialogs_of(page: Page) -> list[str]:
    """A list that collects every dialog (alert, confirm) the page opens, dismissing it."""
    seen: list[str] = []

    def record(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen


def api_message(site: Site, method: str, path: str, body: dict[str, Any]) -> str:
    """The ``message`` Maria answers a request with (what the console must show)."""
    response = httpx.request(method, site.url + path, json=body, timeout=30)
    assert response.status_code >= 400, response.text
    message: str = response.json()["error"]["message"]
    return message


def until(what: str, probe: Callable[[], bool], within: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + within
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {within}s")
        time.sleep(0.05)


def range_value(page: Page) -> float:
    value: str = page.locator("input[name=position]").input_value()
    return float(value)


def set_range(page: Page, seconds: int) -> None:
    """Drag the timeline to ``seconds``: the events a pointer or the keyboard would fire."""
    page.locator("input[name=position]").evaluate(
        """(el, v) => {
            el.value = String(v);
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        seconds,
    )


def unlabelled_controls(page: Page) -> list[str]:
    """Controls without an accessible name (a label, aria-label or button text)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML)"""
    )
    return found


def json_text(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def tokens_pattern() -> re.Pattern[str]:
    """A JWT or a refresh token in any storage."""
    return re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.|[A-Za-z0-9_-]{20,}\.\d+\.[A-Za-z0-9_-]{40,}")
