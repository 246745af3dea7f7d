"""A real SMTP server for the mail tests (aiosmtpd, in a thread, on a free loopback port)
that keeps every message it receives, and readers for what Maria's mails carry."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from tests.support.servers import free_port

WAIT = 15.0  # the bound of a wait for mail: generous, never asserted on
PUBLIC_URL = "https://kinoway.test"  # where the tests' apps say their links point


class _Keep:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._sink.lock:
            self._sink.messages.append(message)
        return "250 OK"


class MailSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailSink:
        self._controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    async def wait(self, address: str, count: int = 1, within: float = WAIT) -> list[EmailMessage]:
        """The first ``count`` messages to ``address``, waiting for them (bounded)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"{count} mail(s) to {address} not received within {within}s")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    content: str = part.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    content: str = part.get_content()
    return content


def link_query(message: EmailMessage, path: str) -> dict[str, str]:
    """The query of the link to ``path`` in the mail's text."""
    for url in re.findall(r"https?://\S+", text_of(message)):
        parts = urlsplit(url)
        if parts.path == path:
            return {k: v[0] for k, v in parse_qs(parts.query).items()}
    raise AssertionError(f"no link to {path} in:\n{text_of(message)}")


def code_of(message: EmailMessage) -> str:
    found = re.search(r"code: (\d{6})", text_of(message))
    assert found, text_of(message)
    return found.group(1)
