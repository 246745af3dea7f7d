"""Where mail goes: a real SMTP server (``MARIA_SMTP_URL``), or, unset, ``.eml`` files in
``MARIA_DATA_DIR/outbox`` for development (each logged with its path)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from maria.db import utcnow

log = logging.getLogger("maria.mail")

SEND_TIMEOUT = 20.0  # seconds for one SMTP exchange: a hung server fails the attempt


@dataclass(frozen=True, slots=True)
class Message:
    to: str
    subject: str
    text: str
    html: str


def build(message: Message, sender: str) -> EmailMessage:
    """The MIME message: plain text, with an HTML alternative."""
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(utcnow())
    mime["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


class Transport(Protocol):
    async def send_many(self, messages: list[Message]) -> list[Exception | None]:
        """Deliver each message; for each, None or why it failed (retried later)."""


class DirectoryTransport:
    """Development: each message becomes a file a person can open in a mail program."""

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    async def send_many(self, messages: list[Message]) -> list[Exception | None]:
        outcomes: list[Exception | None] = []
        for message in messages:
            try:
                self._write(message)
                outcomes.append(None)
            except OSError as exc:
                outcomes.append(exc)
        return outcomes

    def _write(self, message: Message) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        path = self._folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it holds tokens
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(build(message, self._sender)))
        log.info("mail written to %s", path)


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """What ``MARIA_SMTP_URL`` says: ``smtp://[user:password@]host[:port][?starttls=...]``
    (STARTTLS when offered; ``require`` or ``off``) or ``smtps://`` (TLS from the start)."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: when the server offers it

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must look like smtp://user:password@host:port or smtps://...")
        starttls = parse_qs(parts.query).get("starttls", [""])[0].lower()
        if starttls not in ("", "require", "off"):
            raise ValueError("starttls must be require or off")
        use_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if use_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=None if use_tls or not starttls else starttls == "require",
        )


class SmtpTransport:
    """One SMTP connection per batch (a thousand queued mails are not a thousand TLS
    handshakes); a message the server refuses fails alone, a lost connection fails the
    rest of the batch."""

    def __init__(self, server: SmtpServer, sender: str) -> None:
        self._server = server
        self._sender = sender

    async def send_many(self, messages: list[Message]) -> list[Exception | None]:
        import aiosmtplib

        server = self._server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            start_tls=False if server.use_tls else server.start_tls,
            timeout=SEND_TIMEOUT,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            return [exc] * len(messages)
        outcomes: list[Exception | None] = []
        try:
            for message in messages:
                try:
                    await client.send_message(build(message, self._sender))
                    outcomes.append(None)
                except aiosmtplib.SMTPServerDisconnected as exc:
                    outcomes += [exc] * (len(messages) - len(outcomes))
                    break
                except (aiosmtplib.SMTPException, OSError) as exc:
                    outcomes.append(exc)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        return outcomes
