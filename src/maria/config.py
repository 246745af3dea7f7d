"""Settings: one typed place, read from ``MARIA_*`` environment variables and ``.env``.

Validated at start so that a misconfigured production instance refuses to boot instead of
failing on the first request.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger("maria.config")

MIN_SECRET_BYTES = 32
# The refresh cookie must reach this endpoint, whatever its path.
REFRESH_ENDPOINT = "/api/v1/auth/refresh"


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MARIA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production", "test"] = "development"
    secret_key: SecretStr | None = None
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("var")
    # Seconds any wait on Postgres may take (connect, pool, statement): a frozen database
    # answers 503 in bounded time instead of hanging requests.
    database_timeout: float = Field(default=2.0, gt=0, le=60)

    access_token_ttl: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl: int = Field(default=30 * 86_400, ge=60, le=365 * 86_400)
    refresh_reuse_grace: float = Field(default=10.0, ge=0, le=300)
    jwt_issuer: str = "maria"
    jwt_audience: str = "kinoway"
    jwt_leeway: int = Field(default=30, ge=0, le=300)
    # HS256 (MARIA_SECRET_KEY, shared) or an asymmetric algorithm whose public keys are
    # published at /.well-known/jwks.json.
    jwt_alg: Literal["HS256", "EdDSA", "ES256"] = "HS256"
    # How long others may cache /.well-known/jwks.json; a rotated EdDSA/ES256 key signs only
    # after that (plus a few seconds), so they all hold it first.
    jwks_max_age: int = Field(default=300, ge=0, le=86_400)

    # Secure cookies: "auto" follows the request's scheme (the connection's, or a trusted
    # proxy's X-Forwarded-Proto); true/false force it. See ``_production_defaults``.
    cookie_secure: Literal["auto"] | bool = "auto"
    # Where browsers send the refresh cookie: only to the auth endpoints by default; "/" for
    # apps whose own server renews sessions (Next.js middleware on page requests).
    refresh_cookie_path: str = "/api/v1/auth"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDRs); none by default,
    # not even loopback: else any local client picks its own address for the limits.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    password_hash_threads: int = Field(default=0, ge=0, le=64)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)

    # Mail: SMTP server (unset: .eml files in the data dir), sender, where links point.
    smtp_url: SecretStr | None = None
    mail_from: str = "Kinoway <no-reply@kinoway.invalid>"
    public_url: str = "http://127.0.0.1:8000"
    audit_retention_days: int = Field(default=90, ge=1, le=3650)

    # Watch-together rooms (seconds unless named otherwise).
    room_host_grace: float = Field(default=60.0, gt=0, le=86_400)
    room_reconnect_grace: float = Field(default=10.0, ge=0, le=300)
    room_auth_timeout: float = Field(default=5.0, gt=0, le=60)
    room_chat_limit: int = Field(default=5, ge=1)
    room_chat_window: int = Field(default=2, ge=1, le=3600)
    room_ready_timeout: float = Field(default=8.0, gt=0, le=300)
    room_capacity: int = Field(default=200, ge=1, le=100_000)  # users present per room
    room_kick_ban: int = Field(default=300, ge=0, le=30 * 86_400)  # a kick's rejoin ban

    # Operations: log lines (json or text; json by default in production), one line per
    # request and socket (off by default: a line per request costs CPU on the hottest
    # paths, and a proxy in front logs them too), and a token /metrics asks for.
    log_format: Literal["json", "text"] | None = None
    access_log: bool = False
    metrics_token: SecretStr | None = None

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*":
                raise ValueError(
                    "'*' is refused: with credentials it would let any web page read a "
                    "signed-in user's data; list the exact origins, e.g. https://kinoway.example"
                )
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or "*" in origin
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username is not None
            ):
                raise ValueError(
                    f"{origin!r} is not an exact origin (scheme://host[:port], no path), "
                    "e.g. http://localhost:3000"
                )
        return origins

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or CIDR, e.g. 10.0.0.0/8 or 127.0.0.1"
                ) from None
        return proxies

    @field_validator("refresh_cookie_path")
    @classmethod
    def _check_refresh_cookie_path(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError(f"{path!r} must start with '/', e.g. / or /api/v1/auth")
        if any(not "!" <= char <= "~" or char in ";," for char in path):
            raise ValueError(
                f"{path!r} may not contain ';', ',', whitespace, control or non-ASCII characters"
            )
        if not _path_matches(path, REFRESH_ENDPOINT):
            raise ValueError(
                f"{path!r} does not cover {REFRESH_ENDPOINT}, so browsers would never send "
                "the refresh cookie there; use / or /api/v1/auth"
            )
        return path

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _check_smtp_url(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            parts = urlsplit(value)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("must look like smtp://user:password@host:587 or smtps://...")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL, e.g. https://kinoway.example")
        return value.rstrip("/")

    @field_validator("secret_key", "metrics_token", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        # ``MARIA_SECRET_KEY=`` (a blank line in a .env template) must not sign with b"".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _production_defaults(self) -> Settings:
        production = self.env == "production"
        if production and "cookie_secure" not in self.model_fields_set and not self.trusted_proxies:
            # Production is served over HTTPS (ASVS 3.3.1); with no trusted proxy to say
            # which scheme a request came by, every cookie is Secure.
            self.cookie_secure = True
        if self.log_format is None:
            self.log_format = "json" if production else "text"
        if production:
            if self.secret_key is None:
                raise ValueError(
                    "MARIA_ENV=production requires MARIA_SECRET_KEY "
                    "(generate one with `maria gen-secret`)"
                )
            if len(self.secret_key.get_secret_value().encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"MARIA_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
                )
        return self

    @cached_property
    def secret(self) -> bytes:
        """The HS256 key: the UTF-8 bytes of MARIA_SECRET_KEY, or a generated file's."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return _generated_secret(self.data_dir)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'maria.db').resolve()}"

    @property
    def hash_threads(self) -> int:
        return self.password_hash_threads or (os.cpu_count() or 1)


def _path_matches(cookie_path: str, request_path: str) -> bool:
    """RFC 6265's path-match: whether a cookie of ``cookie_path`` is sent to ``request_path``."""
    if not request_path.startswith(cookie_path):
        return False
    rest = request_path[len(cookie_path) :]
    return cookie_path.endswith("/") or rest == "" or rest.startswith("/")


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs people paste and pick the async driver for them."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def _generated_secret(data_dir: Path) -> bytes:
    """Read the data dir's secret, creating it atomically (0600) on first use."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".secret.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_urlsafe(48).encode())
        try:
            os.link(tmp, path)  # fails if a concurrent worker won the race: use theirs
            log.warning(
                "MARIA_SECRET_KEY is not set: generated a signing secret in %s (mode 0600). "
                "Set MARIA_SECRET_KEY to share it between hosts.",
                path,
            )
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes().strip()


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation failures into one readable ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(_describe(err["loc"], err["msg"]) for err in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from None


def _describe(loc: tuple[int | str, ...], msg: str) -> str:
    """One problem in the words of the environment: ``MARIA_ACCESS_TOKEN_TTL: ...``."""
    msg = msg.removeprefix("Value error, ")
    if not loc:
        return msg  # a cross-field rule; its message names the variables itself
    name = "MARIA_" + str(loc[0]).upper()
    rest = "".join(f"[{part}]" for part in loc[1:])
    return f"{name}{rest}: {msg}"
