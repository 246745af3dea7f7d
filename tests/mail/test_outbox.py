"""The outbox: mail goes out after the response, from the database, to a real SMTP
server; a server that is down slows and fails nothing, a restart loses nothing, and with
several instances each mail is sent once."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from maria.config import load_settings
from maria.mail.models import OutboxMail
from maria.mail.transports import Message, SmtpServer
from tests.support.api import register
from tests.support.app import client_of, make_settings, reading, running
from tests.support.mail import PUBLIC_URL, MailSink, html_of, link_query, text_of


async def queued(app: Any) -> int:
    async with reading(app) as db:
        return int(await db.scalar(select(func.count()).select_from(OutboxMail)) or 0)


async def drained(app: Any, within: float = 15.0) -> None:
    for _ in range(int(within / 0.05)):
        if await queued(app) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


async def test_registration_mails_a_verification_link(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="ann@example.com", display_name="Ann <b>")
    (mail,) = await sink.wait("ann@example.com")
    assert "Confirm your email" in mail["Subject"]
    assert mail["From"] and mail["Message-ID"]
    token = link_query(mail, "/verify-email")["token"]
    assert len(token) >= 40
    assert text_of(mail).count(f"{PUBLIC_URL}/verify-email?token=") == 1
    html = html_of(mail)
    assert "Ann &lt;b&gt;" in html and "<b>" not in html  # the name is escaped
    await drained(mail_app)  # sent mail leaves the database (it carried a token)
    assert session["user"]["email_verified"] is False


async def test_a_server_that_is_down_fails_nothing_and_gets_the_mail_later(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    sink.stop()
    response = await mail_client.post(
        "/api/v1/auth/register",
        json={
            "email": "bob@example.com",
            "password": "correct horse battery staple",
            "display_name": "Bob",
        },
    )
    assert response.status_code == 201, response.text
    await asyncio.sleep(0.5)  # the sender has tried and failed by now
    assert await queued(mail_app) == 1
    async with reading(mail_app) as db:
        mail = (await db.execute(select(OutboxMail))).scalar_one()
    assert mail.attempts >= 1 and mail.last_error
    restarted = MailSink(sink.port).start()
    try:
        await restarted.wait("bob@example.com", within=20)  # the first retry is due in 5 s
        await drained(mail_app)
        await asyncio.sleep(0.3)
        assert len(restarted.to("bob@example.com")) == 1
    finally:
        restarted.stop()


async def test_a_restart_loses_no_queued_mail(
    database_url: str, tmp_path: Path, sink: MailSink
) -> None:
    sink.stop()
    settings = make_settings(database_url, tmp_path, smtp_url=sink.url, public_url=PUBLIC_URL)
    async with running(settings) as app, client_of(app) as client:
        await register(client, email="cat@example.com")
        assert await queued(app) == 1
    restarted = MailSink(sink.port).start()
    try:
        async with running(settings) as app:
            await restarted.wait("cat@example.com")
            await drained(app)
        assert len(restarted.to("cat@example.com")) == 1
    finally:
        restarted.stop()


async def test_two_instances_send_each_mail_once(
    database_url: str, tmp_path: Path, sink: MailSink
) -> None:
    settings = make_settings(database_url, tmp_path, smtp_url=sink.url, public_url=PUBLIC_URL)
    async with running(settings) as one, running(settings) as two:
        # Queued on both, while both senders run.
        for i in range(60):
            app = one if i % 2 else two
            async with app.state.services.database.work() as work:
                await app.state.services.mailer.enqueue(
                    work,
                    Message(
                        to=f"n{i}@example.com", subject=f"mail {i}", text="hi", html="<p>hi</p>"
                    ),
                    user_id=None,
                )
        for i in range(60):
            await sink.wait(f"n{i}@example.com")
        await drained(one)
        await asyncio.sleep(0.5)
    subjects = [m["Subject"] for m in sink.messages]
    assert sorted(subjects) == sorted(f"mail {i}" for i in range(60))  # none twice


async def test_without_smtp_mail_goes_to_files(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url, tmp_path, public_url=PUBLIC_URL)
    with caplog.at_level(logging.INFO, logger="maria.mail"):
        async with running(settings) as app, client_of(app) as client:
            await register(client, email="dev@example.com")
            await drained(app)
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600  # it carries a token
    content = files[0].read_text()
    assert "To: dev@example.com" in content and "/verify-email?token=" in content
    assert [r for r in caplog.records if str(files[0]) in r.getMessage()]


def test_smtp_urls() -> None:
    assert SmtpServer.parse("smtp://mail.example:2525") == SmtpServer(
        "mail.example", 2525, None, None, use_tls=False, start_tls=None
    )
    assert SmtpServer.parse("smtps://u%40x:p%3Aw@mail.example") == SmtpServer(
        "mail.example", 465, "u@x", "p:w", use_tls=True, start_tls=None
    )
    assert SmtpServer.parse("smtp://mail.example?starttls=require").start_tls is True
    assert SmtpServer.parse("smtp://mail.example?starttls=off").start_tls is False
    for bad in ("http://mail.example", "smtp://", "smtp://h?starttls=maybe"):
        with pytest.raises(ValueError):
            SmtpServer.parse(bad)


def test_a_bad_smtp_url_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from maria.config import ConfigError

    with pytest.raises(ConfigError, match="MARIA_SMTP_URL"):
        load_settings(_env_file=None, smtp_url="mail.example:25")
    settings = load_settings(_env_file=None, smtp_url="smtp://user:hunter2@mail.example:25")
    assert "hunter2" not in repr(settings)
