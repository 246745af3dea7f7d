"""The sign-in life cycle: register, log in, refresh with rotation, log out, sessions.

Refresh tokens are ``<session id>.<generation>.<HMAC(secret, salt, generation)>``: opaque and
unforgeable without the server's secret, stored only as SHA-256. Because the token *and* the
access token of a generation are derived (not random), a duplicate refresh that loses the
race inside the grace window is answered with exactly the pair the winner got.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from maria.auth.limits import LoginGuard
from maria.auth.models import AuthSession
from maria.auth.passwords import PasswordService, password_problem
from maria.auth.revocation import RevokedSessions
from maria.auth.tokens import AccessClaims, TokenCodec, b64url_encode
from maria.db import new_id, utcnow
from maria.errors import Forbidden, InvalidCredentials, InvalidToken, ValidationFailed
from maria.users import service as users
from maria.users.models import User
from maria.users.service import UserView

LOGOUT_SCOPES = ("local", "others", "global")


@dataclass(frozen=True)
class Client:
    """Who is calling, as far as sessions and rate limits care."""

    ip: str
    user_agent: str | None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_at: int
    refresh_token: str
    session_id: str
    user: UserView


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_new_password(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise ValidationFailed(
            problem,
            details=[{"loc": ["body", "password"], "msg": problem, "type": "password_policy"}],
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
        user_cache: users.UserCache,
        sessionmaker: async_sessionmaker[AsyncSession],
        access_ttl: int,
        refresh_ttl: int,
        reuse_grace: float,
    ) -> None:
        self._secret = secret
        self.codec = codec
        self.passwords = passwords
        self.revoked = revoked
        self.guard = guard
        self.user_cache = user_cache
        self._sessionmaker = sessionmaker
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.reuse_grace = reuse_grace

    # -- token derivation -------------------------------------------------------------

    def _derive(self, purpose: str, session: AuthSession, generation: int) -> str:
        msg = f"{purpose}|{session.id}|{session.salt}|{generation}".encode()
        return b64url_encode(hmac.new(self._secret, msg, hashlib.sha256).digest())

    def _refresh_token(self, session: AuthSession, generation: int) -> str:
        return f"{session.id}.{generation}.{self._derive('refresh', session, generation)}"

    def _issue(self, session: AuthSession, user: User | UserView) -> IssuedTokens:
        """The pair of the session's current generation: the same inputs give the same pair."""
        access, exp = self.codec.issue(
            sub=user.id,
            sid=session.id,
            role=user.role,
            jti=self._derive("jti", session, session.generation)[:22],
            iat=int(session.rotated_at.timestamp()),
            ttl=self.access_ttl,
        )
        return IssuedTokens(
            access_token=access,
            expires_at=exp,
            refresh_token=self._refresh_token(session, session.generation),
            session_id=session.id,
            user=user if isinstance(user, UserView) else UserView.of(user),
        )

    async def _start_session(self, db: AsyncSession, user: User, client: Client) -> IssuedTokens:
        now = utcnow()
        session = AuthSession(
            id=new_id(),
            user_id=user.id,
            salt=secrets.token_hex(16),
            generation=0,
            rotated_at=now.replace(microsecond=0),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=self.refresh_ttl),
            user_agent=(client.user_agent or "")[:512] or None,
            ip=client.ip[:64],
        )
        issued = self._issue(session, user)
        session.refresh_hash = _sha256(issued.refresh_token)
        db.add(session)
        await db.flush()
        return issued

    # -- access tokens ----------------------------------------------------------------

    def authenticate(self, token: str) -> AccessClaims:
        """Verify an access token without touching the database."""
        claims = self.codec.decode(token)
        if self.revoked.is_revoked(claims.sid):
            raise InvalidToken("The session has ended")
        return claims

    # -- flows ------------------------------------------------------------------------

    async def register(
        self, *, email: str, password: str, display_name: str, client: Client
    ) -> IssuedTokens:
        await self.guard.check_register(client.ip)
        check_new_password(password)
        password_hash = await self.passwords.hash(password)
        async with self._sessionmaker() as db, db.begin():
            user = await users.create_user(
                db, email=email, password_hash=password_hash, display_name=display_name
            )
            return await self._start_session(db, user, client)

    async def verify_credentials(self, email: str, password: str, client: Client) -> User:
        """Check a password under the login limits; same answer and time for any failure."""
        email = users.normalize_email(email)
        await self.guard.check_login(email, client.ip)
        async with self._sessionmaker() as db:
            user = await users.get_by_email(db, email)
        ok, needs_rehash = await self.passwords.verify(
            user.password_hash if user else None, password
        )
        if not ok or user is None:
            await self.guard.login_failed(email, client.ip)
            raise InvalidCredentials()
        await self.guard.login_succeeded(email, client.ip)
        if user.disabled:
            raise Forbidden("This account is disabled")
        if needs_rehash:
            new_hash = await self.passwords.hash(password)
            async with self._sessionmaker() as db, db.begin():
                await db.execute(
                    update(User).where(User.id == user.id).values(password_hash=new_hash)
                )
        return user

    async def login(self, *, email: str, password: str, client: Client) -> IssuedTokens:
        user = await self.verify_credentials(email, password, client)
        async with self._sessionmaker() as db, db.begin():
            return await self._start_session(db, user, client)

    async def refresh(self, refresh_token: str, client: Client) -> IssuedTokens:
        await self.guard.check_refresh(client.ip)
        sid, generation = _parse_refresh(refresh_token)
        presented_hash = _sha256(refresh_token)
        async with self._sessionmaker() as db, db.begin():
            session = await db.get(AuthSession, sid)
            if session is None or not hmac.compare_digest(
                self._refresh_token(session, generation), refresh_token
            ):
                raise InvalidToken("Unknown refresh token")
            now = utcnow()
            if session.revoked_at is not None or session.expires_at <= now:
                raise InvalidToken("The session has ended")
            user = await db.get(User, session.user_id)
            if user is None or user.disabled:
                raise InvalidToken("The session has ended")
            if generation == session.generation:
                rotated = await self._rotate(db, session, presented_hash, now)
                if rotated:
                    return self._issue(session, user)
                await db.refresh(session)  # lost a race: fall through to the grace check
            if (
                generation == session.generation - 1
                and session.previous_hash == presented_hash
                and (now - session.rotated_at).total_seconds() <= self.reuse_grace
            ):
                return self._issue(session, user)  # a racing tab: same pair as the winner
        # An already-rotated token outside the grace window: assume it was stolen.
        await self.revoke_sessions([sid])
        raise InvalidToken("Refresh token reuse detected; the session has been ended")

    async def _rotate(
        self, db: AsyncSession, session: AuthSession, presented_hash: str, now: datetime
    ) -> bool:
        """Compare-and-set to the next generation; False if another request rotated first."""
        new_generation = session.generation + 1
        rotated_at = now.replace(microsecond=0)
        next_token = self._refresh_token(session, new_generation)
        result = await db.execute(
            update(AuthSession)
            .where(
                AuthSession.id == session.id,
                AuthSession.generation == session.generation,
                AuthSession.refresh_hash == presented_hash,
            )
            .values(
                generation=new_generation,
                refresh_hash=_sha256(next_token),
                previous_hash=presented_hash,
                rotated_at=rotated_at,
                last_used_at=now,
                expires_at=now + timedelta(seconds=self.refresh_ttl),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        session.generation = new_generation
        session.rotated_at = rotated_at
        return True

    async def revoke_sessions(self, sids: list[str]) -> None:
        if not sids:
            return
        now = utcnow()
        async with self._sessionmaker() as db, db.begin():
            await db.execute(
                update(AuthSession)
                .where(AuthSession.id.in_(sids), AuthSession.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        await self.revoked.revoke(sids, now)

    async def revoke_user_sessions(self, user_id: str, *, keep: str | None = None) -> None:
        """End every live session of a user (but ``keep``): logout global/others, disable."""
        async with self._sessionmaker() as db:
            query = select(AuthSession.id).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
            if keep is not None:
                query = query.where(AuthSession.id != keep)
            sids = list((await db.execute(query)).scalars())
        await self.revoke_sessions(sids)

    async def logout(self, claims: AccessClaims, scope: str) -> None:
        if scope == "local":
            await self.revoke_sessions([claims.sid])
        elif scope == "others":
            await self.revoke_user_sessions(claims.sub, keep=claims.sid)
        else:
            await self.revoke_user_sessions(claims.sub)

    async def list_sessions(self, user_id: str) -> list[AuthSession]:
        async with self._sessionmaker() as db:
            rows = await db.execute(
                select(AuthSession)
                .where(
                    AuthSession.user_id == user_id,
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > utcnow(),
                )
                .order_by(AuthSession.last_used_at.desc())
            )
            return list(rows.scalars())

    async def end_session(self, user_id: str, sid: str) -> bool:
        """Revoke one of the user's own sessions; False if it is not theirs or not live."""
        if _SESSION_ID.fullmatch(sid) is None:  # never issued; keeps NUL & co. off the database
            return False
        async with self._sessionmaker() as db:
            session = await db.get(AuthSession, sid)
        if session is None or session.user_id != user_id or session.revoked_at is not None:
            return False
        await self.revoke_sessions([sid])
        return True


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
