"""The sign-in life cycle: register, log in, refresh with rotation, log out, sessions.

Refresh tokens are ``<session id>.<generation>.<HMAC(secret, salt, generation)>``: opaque and
unforgeable without the server's secret, stored only as SHA-256. Because the token *and* the
access token of a generation are derived (not random), a duplicate refresh that loses the
race inside the grace window is answered with exactly the pair the winner got.

Accounts are the users domain's: this service reads and creates them through
``UsersService``. Ending sessions commits ``revoked_at`` and, after the commit, tells
``RevokedSessions`` (this instance at once, the others through the broker).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from maria.audit import service as audit
from maria.audit.service import AuditLog
from maria.auth import store
from maria.auth.devices import DeviceTokens, well_formed
from maria.auth.known import KnownAddresses
from maria.auth.limits import LoginGuard
from maria.auth.models import AuthSession
from maria.auth.passwords import PasswordService, context_words, password_problem
from maria.auth.revocation import RevokedSessions
from maria.auth.tokens import TokenCodec, b64url_encode
from maria.auth.views import SessionView
from maria.db import AnyWork, Database, Work, new_id, utcnow
from maria.errors import (
    Forbidden,
    InvalidCredentials,
    InvalidToken,
    RateLimited,
    ValidationFailed,
)
from maria.identity import Client, Identity
from maria.metrics import REFRESHES, SIGN_INS
from maria.users.service import UsersService
from maria.users.views import Credentials, UserView, normalize_email

log = logging.getLogger("maria.auth")


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_at: int
    refresh_token: str
    session_id: str
    user: UserView
    device_token: str | None = None  # a sign-in's (not a refresh's): see ``auth.devices``


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_new_password(
    password: str,
    *,
    email: str | None = None,
    display_name: str | None = None,
    field: str = "password",
) -> None:
    """422 for a password outside the policy (the body's ``field``); the account's email
    and name, when known, are its context words."""
    problem = password_problem(password, context_words(email, display_name))
    if problem is not None:
        raise policy_refusal(problem, field)


def policy_refusal(problem: str, field: str) -> ValidationFailed:
    """The 422 of a password outside the policy, marked ``type: password_policy``."""
    return ValidationFailed(
        problem, details=[{"loc": ["body", field], "msg": problem, "type": "password_policy"}]
    )


class AuthService:
    def __init__(
        self,
        *,
        secret: bytes,
        codec: TokenCodec,
        passwords: PasswordService,
        revoked: RevokedSessions,
        guard: LoginGuard,
        devices: DeviceTokens,
        known: KnownAddresses,
        users: UsersService,
        database: Database,
        audit_log: AuditLog,
        access_ttl: int,
        refresh_ttl: int,
        reuse_grace: float,
    ) -> None:
        self._secret = secret
        self.codec = codec
        self.passwords = passwords
        self.revoked = revoked
        self.guard = guard
        self.devices = devices
        self.known = known
        self._users = users
        self._database = database
        self._audit = audit_log
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.reuse_grace = reuse_grace
        # Run in the registration's unit of work (the verification mail is queued there).
        self.on_registered: list[Callable[[Work, UserView], Awaitable[None]]] = []

    # -- token derivation -------------------------------------------------------------

    def _derive(self, purpose: str, session: AuthSession, generation: int) -> str:
        msg = f"{purpose}|{session.id}|{session.salt}|{generation}".encode()
        return b64url_encode(hmac.new(self._secret, msg, hashlib.sha256).digest())

    def _refresh_token(self, session: AuthSession, generation: int) -> str:
        return f"{session.id}.{generation}.{self._derive('refresh', session, generation)}"

    def _issue(self, session: AuthSession, user: UserView) -> IssuedTokens:
        """The pair of the session's current generation: the same inputs give the same pair."""
        access, exp = self.codec.issue(
            sub=user.id,
            sid=session.id,
            role=user.role,
            jti=self._derive("jti", session, session.generation)[:22],
            iat=int(session.rotated_at.timestamp()),
            ttl=self.access_ttl,
            email_verified=user.email_verified,
        )
        return IssuedTokens(
            access_token=access,
            expires_at=exp,
            refresh_token=self._refresh_token(session, session.generation),
            session_id=session.id,
            user=user,
        )

    def _new_session(self, user: UserView, client: Client) -> tuple[AuthSession, IssuedTokens]:
        now = utcnow()
        session = AuthSession(
            id=new_id(),
            user_id=user.id,
            salt=secrets.token_hex(16),
            generation=0,
            previous_hash=None,
            rotated_at=now.replace(microsecond=0),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=self.refresh_ttl),
            user_agent=(client.user_agent or "")[:512] or None,
            ip=client.ip[:64],
            revoked_at=None,
        )
        issued = self._issue(session, user)
        session.refresh_hash = _sha256(issued.refresh_token)
        return session, issued

    async def start_session(
        self, work: AnyWork, user: UserView, client: Client, event: str = audit.SIGNED_IN
    ) -> IssuedTokens:
        """A new signed-in session of ``user``, recorded as ``event``, in the caller's unit
        of work: the client's address is known to the account from now on, and the answer
        carries a new device token for it."""
        session, issued = self._new_session(user, client)
        await store.insert_session(work.db, session)
        await self.known.remember(work, user.id, client.ip)
        await self._audit.record(work, event, user_id=user.id, client=client)
        return replace(issued, device_token=self.devices.issue(user.id))

    # -- access tokens ----------------------------------------------------------------

    def authenticate(self, token: str) -> Identity:
        """Verify an access token without touching the database (the identity layer's
        ``verify``)."""
        claims = self.codec.decode(token)
        if self.revoked.is_revoked(claims.sid):
            raise InvalidToken("The session has ended")
        return Identity(claims.sub, claims.sid, claims.role, claims.exp)

    # -- flows ------------------------------------------------------------------------

    async def register(
        self, *, email: str, password: str, display_name: str, client: Client
    ) -> IssuedTokens:
        await self.guard.check_register(client.ip)
        check_new_password(password, email=email, display_name=display_name)
        password_hash = await self.passwords.hash(password)
        async with self._database.work() as work:
            user = await self._users.create(
                work, email=email, password_hash=password_hash, display_name=display_name
            )
            for hook in self.on_registered:
                await hook(work, user)
            return await self.start_session(work, user, client, audit.REGISTERED)

    async def verify_credentials(
        self, email: str, password: str, client: Client, device_tokens: Sequence[str | None] = ()
    ) -> UserView:
        """Check a password under the login limits; same answer and time for any failure.
        ``device_tokens`` are what the client presented (body field, cookie): one of this
        account's makes it a known device."""
        email = normalize_email(email)
        account = _Account(self._users, email)
        tokens = [t for t in device_tokens if well_formed(t)]
        # The account is looked up before the limits only for a client with a token (whose
        # device is the account's or not); a stranger's refusal costs no database read.
        found = await account.get() if tokens else None
        device = self.devices.device_of(found.user.id, *tokens) if found else None

        async def known_address() -> bool:
            found = await account.get()
            return found is not None and await self.known.is_known(found.user.id, client.ip)

        try:
            attempt = await self.guard.check_login(
                email, client.ip, device=device, known_address=known_address
            )
        except RateLimited:
            SIGN_INS.labels("password", "rate_limited").inc()
            raise
        found = await account.get()
        # No password (an account made by a sign-in code): the dummy hash, same time.
        ok, needs_rehash = await self.passwords.verify(
            found.password_hash or None if found else None, password
        )
        if not ok or found is None:
            await self.guard.login_failed(attempt)
            await self._audit.record_now(
                audit.SIGN_IN_FAILED,
                user_id=found.user.id if found else None,
                client=client,
                detail={"reason": "wrong_password" if found else "unknown_account"},
            )
            SIGN_INS.labels("password", "invalid_credentials").inc()
            raise InvalidCredentials()
        await self.guard.login_succeeded(attempt)
        if found.user.disabled:
            SIGN_INS.labels("password", "disabled").inc()
            await self._audit.record_now(
                audit.SIGN_IN_FAILED,
                user_id=found.user.id,
                client=client,
                detail={"reason": "disabled"},
            )
            raise Forbidden("This account is disabled")
        if needs_rehash:
            new_hash = await self.passwords.hash(password)
            async with self._database.work() as work:
                await self._users.set_password_hash(work, found.user.id, new_hash)
        SIGN_INS.labels("password", "success").inc()
        return found.user

    async def login(
        self,
        *,
        email: str,
        password: str,
        client: Client,
        device_tokens: Sequence[str | None] = (),
    ) -> IssuedTokens:
        user = await self.verify_credentials(email, password, client, device_tokens)
        async with self._database.core_work() as work:  # the session and its audit event
            return await self.start_session(work, user, client)

    async def refresh(self, refresh_token: str, client: Client) -> IssuedTokens:
        try:
            await self.guard.check_refresh(client.ip)
        except RateLimited:
            REFRESHES.labels("rate_limited").inc()
            raise
        try:
            sid, generation = _parse_refresh(refresh_token)
            presented_hash = _sha256(refresh_token)
            async with self._database.work() as work:
                issued = await self._rotate(work, sid, generation, refresh_token, presented_hash)
                if isinstance(issued, IssuedTokens):
                    return issued
                # An already-rotated token outside the grace window: assume it was stolen.
                await self._revoke(work, [sid])
                await self._audit.record(work, audit.REFRESH_REUSED, user_id=issued, client=client)
        except InvalidToken:
            REFRESHES.labels("refused").inc()
            raise
        REFRESHES.labels("reused").inc()
        log.warning("refresh token reuse detected: a session of user %s was ended", issued)
        raise InvalidToken("Refresh token reuse detected; the session has been ended")

    async def _rotate(
        self, work: Work, sid: str, generation: int, token: str, presented_hash: str
    ) -> IssuedTokens | str:
        """The next pair, the pair a racing duplicate got, or (a reused token) the id of
        the user whose session it was."""
        session = await store.get_session(work.db, sid)
        if session is None or not hmac.compare_digest(
            self._refresh_token(session, generation), token
        ):
            raise InvalidToken("Unknown refresh token")
        now = utcnow()
        if session.revoked_at is not None or session.expires_at <= now:
            raise InvalidToken("The session has ended")
        user = await self._users.find(work, session.user_id)
        if user is None or user.disabled:
            raise InvalidToken("The session has ended")
        if generation == session.generation:
            next_hash = _sha256(self._refresh_token(session, generation + 1))
            if await store.rotate(
                work.db,
                session,
                presented_hash=presented_hash,
                next_hash=next_hash,
                now=now,
                lifetime=self.refresh_ttl,
            ):
                REFRESHES.labels("rotated").inc()
                return self._issue(session, user)
            await work.db.refresh(session)  # lost a race: fall through to the grace check
        if (
            generation == session.generation - 1
            and session.previous_hash == presented_hash
            and (now - session.rotated_at).total_seconds() <= self.reuse_grace
        ):
            REFRESHES.labels("replayed").inc()
            return self._issue(session, user)  # a racing tab: same pair as the winner
        return user.id

    # -- ending sessions --------------------------------------------------------------

    def _revoked_after_commit(self, work: AnyWork, sids: list[str], now: datetime) -> None:
        if sids:
            work.after_commit("revocation broadcast", lambda: self.revoked.revoke(sids, now))

    async def _revoke(self, work: AnyWork, sids: list[str]) -> None:
        """End these sessions in the caller's unit of work (every instance is told of all of
        them after the commit, live or not: it costs nothing to refuse twice)."""
        now = utcnow()
        await store.revoke(work.db, now, sids=sids)
        self._revoked_after_commit(work, sids, now)

    async def end_sessions(
        self, work: AnyWork, user_id: str, *, keep: str | None = None
    ) -> list[str]:
        """End every live session of a user (but ``keep``), in the caller's unit of work:
        logout global/others, disabling, a role change, deletion."""
        now = utcnow()
        sids = await store.revoke(work.db, now, user_id=user_id, keep=keep)
        self._revoked_after_commit(work, sids, now)
        return sids

    async def revoke_user_sessions(self, user_id: str, *, keep: str | None = None) -> None:
        async with self._database.work() as work:
            await self.end_sessions(work, user_id, keep=keep)

    async def logout(self, identity: Identity, scope: str, client: Client) -> None:
        async with self._database.work() as work:
            if scope == "local":
                await self._revoke(work, [identity.session_id])
            elif scope == "others":
                await self.end_sessions(work, identity.user_id, keep=identity.session_id)
            else:
                await self.end_sessions(work, identity.user_id)
            await self._audit.record(
                work,
                audit.SIGNED_OUT,
                user_id=identity.user_id,
                client=client,
                detail={"scope": scope},
            )

    async def list_sessions(self, user_id: str) -> list[SessionView]:
        async with self._database.autocommit() as db:
            rows = await store.live_sessions(db, user_id)
        return [SessionView(s.id, s.created_at, s.last_used_at, s.user_agent, s.ip) for s in rows]

    async def end_session(
        self, user_id: str, sid: str, *, actor_id: str | None = None, client: Client | None = None
    ) -> bool:
        """Revoke one of the user's sessions (by the user, or by an admin: ``actor_id``);
        False if it is not theirs or not live."""
        if _SESSION_ID.fullmatch(sid) is None:  # never issued; keeps NUL & co. off the database
            return False
        async with self._database.work() as work:
            session = await store.get_session(work.db, sid)
            if session is None or session.user_id != user_id or session.revoked_at is not None:
                work.discard()
                return False
            await self._revoke(work, [sid])
            event = audit.SESSIONS_REVOKED if actor_id else audit.SIGNED_OUT
            await self._audit.record(
                work,
                event,
                user_id=user_id,
                actor_id=actor_id,
                client=client,
                detail={"session_id": sid},
            )
        return True

    async def set_password(
        self,
        work: AnyWork,
        user_id: str,
        password_hash: str,
        *,
        keep: str | None,
        event: str,
        client: Client | None,
    ) -> None:
        """A new password (its hash made before the unit of work: argon2 takes tens of
        milliseconds) in the caller's unit of work: every session but ``keep`` ends."""
        await self._users.set_password_hash(work, user_id, password_hash)
        await self.end_sessions(work, user_id, keep=keep)
        await self._audit.record(work, event, user_id=user_id, client=client)


class _Account:
    """The credentials of one email, read from the database once, when first needed."""

    __slots__ = ("_email", "_found", "_read", "_users")

    def __init__(self, users: UsersService, email: str) -> None:
        self._users = users
        self._email = email
        self._found: Credentials | None = None
        self._read = False

    async def get(self) -> Credentials | None:
        if not self._read:
            self._found = await self._users.credentials(self._email)
            self._read = True
        return self._found


# Exactly what ``_refresh_token`` makes: a UUID session id, a generation, a 43-character
# base64url HMAC-SHA256. Anything else is refused before it reaches the database (a NUL byte
# is an error in Postgres) or ``hmac.compare_digest`` (a TypeError on non-ASCII text).
_SESSION_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_REFRESH_SHAPE = re.compile(rf"{_SESSION_ID.pattern}\.(0|[1-9][0-9]{{0,8}})\.[A-Za-z0-9_-]{{43}}")


def _parse_refresh(token: str) -> tuple[str, int]:
    match = _REFRESH_SHAPE.fullmatch(token)
    if match is None:
        raise InvalidToken("Unknown refresh token")
    return token[:36], int(match.group(1))
