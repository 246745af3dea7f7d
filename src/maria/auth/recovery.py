"""Proving an email and getting back in: verification links, password resets, password
changes, and sign-in codes by mail.

Mails are queued in the unit of work of the secret they carry (``Mailer.enqueue``), so a
link exists exactly when its mail does. The requests that take an email from a stranger
(``forgot_password``, ``send_code``) do their work after the response has gone out
(``maria.http`` runs them as background tasks): the answer, 202, is the same and takes the
same time whether or not the account exists, and a limit that would reveal the account
drops the mail silently.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from maria.audit import service as audit
from maria.audit.service import AuditLog
from maria.auth import mailed
from maria.auth.limits import LoginGuard
from maria.auth.passwords import PasswordService
from maria.auth.service import AuthService, IssuedTokens, check_new_password
from maria.db import Database, Work, utcnow
from maria.errors import AccountGone, InvalidCredentials, InvalidToken, RateLimited
from maria.identity import Client, Identity
from maria.mail.service import Mailer
from maria.mail.templates import Templates
from maria.metrics import SIGN_INS
from maria.users.service import UsersService
from maria.users.views import UserView, normalize_email

log = logging.getLogger("maria.auth")

VERIFY_TTL = timedelta(hours=24)
RESET_TTL = timedelta(minutes=30)
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 5


class Recovery:
    def __init__(
        self,
        *,
        database: Database,
        auth: AuthService,
        users: UsersService,
        passwords: PasswordService,
        guard: LoginGuard,
        mailer: Mailer,
        templates: Templates,
        audit_log: AuditLog,
        secret: bytes,
    ) -> None:
        self._database = database
        self._auth = auth
        self._users = users
        self._passwords = passwords
        self._guard = guard
        self._mailer = mailer
        self._templates = templates
        self._audit = audit_log
        self._secret = secret

    # -- email verification ---------------------------------------------------------------

    async def _queue_verification(self, work: Work, user: UserView) -> None:
        token, digest = mailed.new_link_token()
        await mailed.issue(
            work.db,
            mailed.VERIFY_EMAIL,
            user_id=user.id,
            email=user.email,
            digest=digest,
            ttl=VERIFY_TTL,
        )
        message = self._templates.verify_email(
            user.email, user.display_name, token, int(VERIFY_TTL.total_seconds() // 3600)
        )
        await self._mailer.enqueue(work, message, user_id=user.id)

    async def at_registration(self, work: Work, user: UserView) -> None:
        """The verification mail of a new account, queued in its registration (counted
        against the address, never refusing the registration)."""
        if await self._guard.mail_to(user.email) is None:
            await self._queue_verification(work, user)

    async def send_verification(self, identity: Identity, client: Client) -> None:
        """Another verification mail for the caller (429 past the limits); nothing to send
        once the address is verified."""
        user = await self._users.active(identity.user_id)
        if user.email_verified:
            return
        await self._guard.check_mail_ip(client.ip)
        retry = await self._guard.mail_to(user.email)
        if retry is not None:
            raise RateLimited(retry, "Too many mails to this address; try again later")
        async with self._database.work() as work:
            await self._queue_verification(work, user)

    async def verify_email(self, token: str, client: Client) -> None:
        async with self._database.work() as work:
            found = await mailed.consume(
                work.db, mailed.VERIFY_EMAIL, mailed.link_digest(token), utcnow()
            )
            if found is None or found.user_id is None:
                raise InvalidToken("This link is invalid, used or expired")
            user = await self._users.find(work, found.user_id)
            if user is None or user.email != found.email:  # the address changed since
                raise InvalidToken("This link is invalid, used or expired")
            await self._users.mark_verified(work, user.id)
            await self._audit.record(work, audit.EMAIL_VERIFIED, user_id=user.id, client=client)

    # -- passwords --------------------------------------------------------------------------

    async def forgot_password(self, email: str) -> None:
        """After the response: a reset link to the account of ``email``, if there is one,
        and the address is under its mail limit."""
        email = normalize_email(email)
        found = await self._users.credentials(email)
        if found is None or found.user.disabled:
            return
        if await self._guard.mail_to(email) is not None:
            log.info("password reset mail dropped: too many to one address")
            return
        token, digest = mailed.new_link_token()
        user = found.user
        async with self._database.work() as work:
            await mailed.issue(
                work.db,
                mailed.RESET_PASSWORD,
                user_id=user.id,
                email=email,
                digest=digest,
                ttl=RESET_TTL,
            )
            message = self._templates.reset_password(
                email, user.display_name, token, int(RESET_TTL.total_seconds() // 60)
            )
            await self._mailer.enqueue(work, message, user_id=user.id)

    async def reset_password(self, token: str, new_password: str, client: Client) -> None:
        """A new password from a reset link: every session ends (every instance refuses
        their tokens at once) and a notice goes to the address."""
        # Before the hash; with the account's words once the link has named it.
        check_new_password(new_password, field="new_password")
        password_hash = await self._passwords.hash(new_password)
        async with self._database.work() as work:
            found = await mailed.consume(
                work.db, mailed.RESET_PASSWORD, mailed.link_digest(token), utcnow()
            )
            user = (
                None
                if found is None or found.user_id is None
                else await self._users.find(work, found.user_id)
            )
            if found is None or user is None or user.disabled or user.email != found.email:
                raise InvalidToken("This link is invalid, used or expired")
            # Refused: the unit of work rolls back, so the link still works for another try.
            check_new_password(
                new_password, email=user.email, display_name=user.display_name, field="new_password"
            )
            await self._auth.set_password(
                work, user.id, password_hash, keep=None, event=audit.PASSWORD_RESET, client=client
            )
            notice = self._templates.password_changed(user.email, user.display_name)
            await self._mailer.enqueue(work, notice, user_id=user.id)

    async def change_password(
        self, identity: Identity, current: str | None, new_password: str, client: Client
    ) -> None:
        """The signed-in user's new password; the other sessions end, this one stays. An
        account without a password (made by a sign-in code) sets one without ``current``."""
        user = await self._users.active(identity.user_id)
        found = await self._users.credentials(user.email)
        if found is None:
            raise AccountGone()
        if found.password_hash:
            ok, _ = await self._passwords.verify(found.password_hash, current or "")
            if not ok:
                raise InvalidCredentials("The current password is wrong")
        check_new_password(
            new_password, email=user.email, display_name=user.display_name, field="new_password"
        )
        password_hash = await self._passwords.hash(new_password)
        async with self._database.work() as work:
            await self._auth.set_password(
                work,
                user.id,
                password_hash,
                keep=identity.session_id,
                event=audit.PASSWORD_CHANGED,
                client=client,
            )
            notice = self._templates.password_changed(user.email, user.display_name)
            await self._mailer.enqueue(work, notice, user_id=user.id)

    # -- sign-in codes ----------------------------------------------------------------------

    async def send_code(self, email: str) -> None:
        """After the response: a six-digit code (and a link) to ``email``, account or not
        (a code can create the account), unless the account is disabled or the address is
        over its mail limit."""
        email = normalize_email(email)
        found = await self._users.credentials(email)
        if found is not None and found.user.disabled:
            return
        if await self._guard.mail_to(email) is not None:
            log.info("sign-in code mail dropped: too many to one address")
            return
        code = mailed.new_code()
        user_id = found.user.id if found is not None else None
        async with self._database.work() as work:
            await mailed.issue(
                work.db,
                mailed.EMAIL_CODE,
                user_id=user_id,
                email=email,
                digest=mailed.code_digest(self._secret, email, code),
                ttl=CODE_TTL,
            )
            message = self._templates.sign_in_code(email, code, int(CODE_TTL.total_seconds() // 60))
            await self._mailer.enqueue(work, message, user_id=user_id)

    async def use_code(self, work: Work, email: str, code: str) -> bool:
        """Spend the address's live code if ``code`` is it (in the caller's unit of work); a
        wrong one counts against the code (void after five). Whether it matched."""
        now = utcnow()
        row = await mailed.live_code(work.db, email, now)
        if row is None:
            return False
        presented = mailed.code_digest(self._secret, email, code)
        if not hmac.compare_digest(presented, row.digest):
            await mailed.wrong_code(work.db, row.id, now, CODE_TRIES)
            return False
        return await mailed.use_code(work.db, row.id, now)

    async def sign_in_with_code(self, email: str, code: str, client: Client) -> IssuedTokens:
        """A session for the owner of ``email`` (created, without a password, if there is no
        account yet); the address counts as verified from now on."""
        email = normalize_email(email)
        try:
            attempt = await self._guard.check_code(email, client.ip)
        except RateLimited:
            SIGN_INS.labels("code", "rate_limited").inc()
            raise
        async with self._database.work() as work:
            matched = await self.use_code(work, email, code)
            if not matched:
                failed = True
            else:
                failed = False
                found = await self._users.find_credentials(work, email)
                if found is None:
                    user = await self._users.create(
                        work,
                        email=email,
                        password_hash="",
                        display_name=email.partition("@")[0][:64] or "Kinoway",
                        email_verified=True,
                    )
                elif found.user.disabled:
                    SIGN_INS.labels("code", "disabled").inc()
                    raise InvalidCredentials("Invalid or expired code")
                else:
                    verified = await self._users.mark_verified(work, found.user.id)
                    user = verified or found.user
                issued = await self._auth.start_session(work, user, client, audit.CODE_SIGNED_IN)
        if failed:
            await self._guard.login_failed(attempt)
            SIGN_INS.labels("code", "invalid_credentials").inc()
            raise InvalidCredentials("Invalid or expired code")
        await self._guard.login_succeeded(attempt)
        SIGN_INS.labels("code", "success").inc()
        return issued
