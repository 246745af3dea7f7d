"""The signing keys of one instance, and their rotation.

``MARIA_SECRET_KEY`` is the first key (HS256, used as is, its ``kid`` derived from it), so a
deployment that never rotates needs no key in the database and its tokens verify with the
raw secret. ``maria keys rotate`` adds a key of ``MARIA_JWT_ALG`` to the ``signing_keys``
table; every instance reads the table every ``REFRESH_EVERY`` seconds, and the new key signs
only ``ACTIVATION_DELAY`` seconds after it was made, so by then every instance accepts its
tokens. With ``EdDSA``/``ES256`` it also waits the JWK Set's cache lifetime, so that every
service that honours ``Cache-Control`` has the new public key before it meets a token of it
(``rotate --now`` waits only for the instances). Older keys keep verifying until retired:
``maria keys retire`` takes a key out of use once no token it signed can still be valid (at
once with ``--now``), and refuses to retire the key that signs. With ``EdDSA`` or ``ES256``
the first instance to start makes the first key; the public keys are published as a JWK Set.

Verification reads only the in-memory ``KeySet`` (``current``): no database per token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from maria.config import Settings
from maria.db import Database, utcnow
from maria.keys import store
from maria.keys.jws import HS256, HmacKey, KeySet, Signer, SigningKey, base_kid
from maria.keys.material import SealBroken, Sealer, make_key, new_kid, new_secret
from maria.keys.models import StoredKey

log = logging.getLogger("maria.keys")

REFRESH_EVERY = 2.0  # seconds between reads of the signing keys table
ACTIVATION_DELAY = 5.0  # seconds from a rotation until its key signs: every instance read it
JWKS_MAX_AGE = 300  # seconds others may cache the JWK Set (MARIA_JWKS_MAX_AGE)
_EPOCH = datetime.fromtimestamp(0, UTC)


class KeyProblem(Exception):
    """A key operation that cannot be done; the message says why (one line)."""


@dataclass(frozen=True)
class KeyInfo:
    """One key as ``maria keys list`` shows it."""

    kid: str
    alg: str
    state: str  # active | next | accepted | retiring | retired | unused | unreadable
    created_at: datetime | None
    activates_at: datetime | None
    retired_at: datetime | None
    source: str  # "MARIA_SECRET_KEY" or "database"


@dataclass(frozen=True)
class Published:
    """The JWK Set as served: its body and entity tag."""

    body: bytes
    etag: str


def _retired(row: StoredKey, now: float) -> bool:
    return row.retired_at is not None and row.retired_at.timestamp() <= now


def _published(keys: KeySet) -> Published:
    body = json.dumps({"keys": keys.public_jwks()}, separators=(",", ":")).encode()
    return Published(body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


class KeyRing:
    """The key set of this instance (``current``), refreshed from the database, and the
    operations of ``maria keys``."""

    def __init__(
        self,
        database: Database,
        *,
        secret: bytes,
        alg: str,
        token_lifetime: float,
        jwks_max_age: int = JWKS_MAX_AGE,
        refresh_every: float = REFRESH_EVERY,
        activation_delay: float = ACTIVATION_DELAY,
    ) -> None:
        self._database = database
        self.alg = alg
        self._base = HmacKey(base_kid(secret), secret)
        self._sealer = Sealer(secret)
        self._lifetime = token_lifetime
        self._refresh_every = refresh_every
        self._activation_delay = activation_delay
        self.jwks_max_age = jwks_max_age
        # Published keys wait for the caches of those who fetch them (HS256 publishes none).
        self._publish_ahead = 0 if alg == HS256 else jwks_max_age
        self._opened: dict[tuple[str, bytes], SigningKey] = {}
        self._unreadable: set[str] = set()
        self._rows: list[StoredKey] = []
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.current = self._snapshot([], time.time(), loaded=False)
        self.published = _published(self.current)

    # -- the key set ------------------------------------------------------------------

    def _open(self, row: StoredKey) -> SigningKey | None:
        assert row.secret is not None
        cached = self._opened.get((row.kid, row.secret))
        if cached is not None:
            return cached
        try:
            key = make_key(row.kid, row.alg, self._sealer.open(row.kid, row.alg, row.secret))
        except (SealBroken, ValueError):
            if row.kid not in self._unreadable:
                self._unreadable.add(row.kid)
                log.warning(
                    "signing key %s does not open with this MARIA_SECRET_KEY; ignoring it",
                    row.kid,
                )
            return None
        self._opened[(row.kid, row.secret)] = key
        return key

    def _snapshot(self, rows: list[StoredKey], now: float, *, loaded: bool) -> KeySet:
        signers: list[Signer] = []
        base_retired = False
        for row in rows:
            if row.kid == self._base.kid:
                base_retired = _retired(row, now)
            elif row.alg == self.alg and row.secret is not None and not _retired(row, now):
                key = self._open(row)
                if key is not None:
                    signers.append(Signer(row.seq, row.activates_at.timestamp(), key))
        default: SigningKey | None = None
        if self.alg == HS256 and not base_retired:
            default = self._base
            signers.append(Signer(0, 0.0, self._base))
        signers.sort(key=lambda s: s.seq, reverse=True)
        return KeySet(self.alg, tuple(signers), default=default, loaded=loaded)

    def _install(self, rows: list[StoredKey]) -> None:
        self._rows = rows
        keys = self._snapshot(rows, time.time(), loaded=True)
        self.current = keys
        published = _published(keys)
        if published.etag != self.published.etag:
            self.published = published

    async def _read(self) -> list[StoredKey]:
        async with self._database.connect() as conn:
            return await store.all_keys(conn)

    async def refresh(self) -> None:
        """Read the table now (the poll does it every few seconds)."""
        self._install(await self._read())

    async def start(self) -> None:
        """Read the keys; with none to sign with (a first start with ``EdDSA``/``ES256``),
        make one. If the database is away, keep trying (HS256 signs with
        ``MARIA_SECRET_KEY`` meanwhile; an unknown ``kid`` is answered 503 until then)."""
        try:
            await self.refresh()
            if self.current.signing(time.time()) is None:
                await self._add_key(activate_now=True)
        except Exception as exc:
            self._failing = True
            log.warning("signing keys not loaded at start (%s); retrying", type(exc).__name__)
        self._task = asyncio.create_task(self._poll(), name="maria-keys")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_every)
            try:
                await self.refresh()
                if self._failing:
                    self._failing = False
                    log.info("signing keys read again")
            except Exception as exc:
                if self.current.loaded:
                    # The last rows still stand; let their times pass (activations,
                    # scheduled retirements).
                    self._install(self._rows)
                if not self._failing:
                    self._failing = True
                    log.warning("reading the signing keys failed (%s)", type(exc).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- maria keys -------------------------------------------------------------------

    async def _add_key(self, *, activate_now: bool, urgent: bool = False) -> StoredKey:
        kid, now = new_kid(), utcnow()
        delay = self._activation_delay + (0 if urgent else self._publish_ahead)
        activates = now if activate_now else now + timedelta(seconds=delay)
        try:
            async with self._database.connect() as conn:
                row = StoredKey(
                    kid=kid,
                    seq=await store.next_seq(conn),
                    alg=self.alg,
                    secret=self._sealer.seal(kid, self.alg, new_secret(self.alg)),
                    created_at=now,
                    activates_at=activates,
                    retired_at=None,
                )
                await store.add(conn, row)
        except IntegrityError:
            # Another instance or rotation took this seq at the same moment: theirs stands.
            await self.refresh()
            raise KeyProblem("another rotation happened at the same moment; see `list`") from None
        await self.refresh()
        return row

    async def rotate(self, *, urgent: bool = False) -> KeyInfo:
        """A new key of ``MARIA_JWT_ALG``, signing once every instance (and, unless
        ``urgent``, every JWK Set cache) has it; at once if no key signs now."""
        await self.refresh()
        row = await self._add_key(
            activate_now=self.current.signing(time.time()) is None, urgent=urgent
        )
        return next(info for info in await self.describe() if info.kid == row.kid)

    async def retire(self, kid: str, *, immediately: bool = False) -> KeyInfo:
        """Stop accepting ``kid``: once its last token could have expired, or now."""
        await self.refresh()
        now = time.time()
        keys = self.current
        row = next((r for r in self._rows if r.kid == kid), None)
        if kid != self._base.kid and row is None:
            raise KeyProblem(f"no signing key {kid!r}")
        if row is not None and _retired(row, now):
            raise KeyProblem(f"{kid} is already retired")
        at = now
        signer = next((s for s in keys.signers if s.key.kid == kid), None)
        if signer is not None:
            active = keys.signing(now)
            if signer is keys.signers[0] or (active is not None and active.kid == kid):
                raise KeyProblem(f"{kid} is the active signing key (or the next one): rotate first")
            # It stopped signing when the next newer key started; its tokens live on for
            # at most the token lifetime after that.
            stopped = min(s.activates_at for s in keys.signers if s.seq > signer.seq)
            at = now if immediately else max(now, stopped + self._lifetime)
        when = datetime.fromtimestamp(at, UTC)
        async with self._database.connect() as conn:
            if row is None:  # MARIA_SECRET_KEY's key gets its row when it is retired
                await store.add(
                    conn,
                    StoredKey(
                        kid=kid,
                        seq=await store.next_seq(conn),
                        alg=HS256,
                        secret=None,
                        created_at=utcnow(),
                        activates_at=_EPOCH,
                        retired_at=when,
                    ),
                )
            else:
                await store.retire(conn, kid, when)
        await self.refresh()
        return next(info for info in await self.describe() if info.kid == kid)

    async def describe(self) -> list[KeyInfo]:
        """Every key, ``MARIA_SECRET_KEY``'s first, then the table's oldest first."""
        rows = await self._read()
        self._install(rows)
        now, keys = time.time(), self.current
        active = keys.signing(now)
        accepted = {s.key.kid: s for s in keys.signers}

        def state(kid: str, alg: str, retired_at: datetime | None, readable: bool) -> str:
            if retired_at is not None and retired_at.timestamp() <= now:
                return "retired"
            if alg != self.alg:
                return "unused"
            if not readable or kid not in accepted:
                return "unreadable"
            if active is not None and active.kid == kid:
                return "active"
            if accepted[kid].activates_at > now:
                return "next"
            return "retiring" if retired_at is not None else "accepted"

        base_row = next((r for r in rows if r.kid == self._base.kid), None)
        base_retired = base_row.retired_at if base_row is not None else None
        infos = [
            KeyInfo(
                self._base.kid,
                HS256,
                state(self._base.kid, HS256, base_retired, True),
                None,
                None,
                base_retired,
                "MARIA_SECRET_KEY",
            )
        ]
        for row in rows:
            if row.kid == self._base.kid:
                continue
            infos.append(
                KeyInfo(
                    row.kid,
                    row.alg,
                    state(row.kid, row.alg, row.retired_at, row.secret is not None),
                    row.created_at,
                    row.activates_at,
                    row.retired_at,
                    "database",
                )
            )
        return infos


def key_ring(settings: Settings, database: Database) -> KeyRing:
    """The key ring the settings describe (the server's and ``maria keys``' alike)."""
    return KeyRing(
        database,
        secret=settings.secret,
        alg=settings.jwt_alg,
        token_lifetime=settings.access_token_ttl + settings.jwt_leeway,
        jwks_max_age=settings.jwks_max_age,
    )
