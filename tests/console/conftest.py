"""Fixtures of the browser tests: one ``maria serve`` with an SMTP sink and one Chromium for
the module (helpers in ``tests/console/browser.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.console.browser import CHROMIUM_ARGS, Site, need_chromium
from tests.support.api import TEST_SECRET
from tests.support.mail import PUBLIC_URL, MailSink
from tests.support.servers import CHEAP_HASHING, maria_env, started


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    cwd = tmp_path_factory.mktemp("console")
    with ExitStack() as stack:
        sink = MailSink().start()
        stack.callback(sink.stop)
        env = maria_env(
            MARIA_SECRET_KEY=TEST_SECRET,
            MARIA_DATA_DIR=str(cwd / "data"),
            MARIA_SMTP_URL=sink.url,
            MARIA_PUBLIC_URL=PUBLIC_URL,
            **CHEAP_HASHING,
        )
        yield Site(started(stack, "console", env, cwd), sink, env, cwd)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = need_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
