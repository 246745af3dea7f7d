"""Settings: defaults, MARIA_* variables, .env, URL normalisation and readable errors."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from maria.config import ConfigError, load_settings, normalize_database_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MARIA_* from the caller's environment, and a cwd without a .env file."""
    for name in list(os.environ):
        if name.startswith("MARIA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults() -> None:
    s = load_settings()
    assert s.env == "development"
    assert s.secret_key is None
    assert s.database_url is None
    assert s.redis_url is None
    assert s.data_dir == Path("var")
    assert s.access_token_ttl == 900
    assert s.refresh_token_ttl == 30 * 24 * 3600
    assert s.refresh_reuse_grace == 10
    assert s.jwt_issuer == "maria"
    assert s.jwt_audience == "kinoway"
    assert s.jwt_leeway == 30
    assert s.cookie_secure == "auto"  # Secure follows the request's scheme
    assert (s.log_format, s.access_log, s.metrics_token) == ("text", False, None)
    assert s.refresh_cookie_path == "/api/v1/auth"
    assert s.cors_origins == []
    assert s.max_body_bytes == 1024 * 1024
    # OWASP's argon2id parameters: m=19 MiB, t=2, p=1.
    assert (s.argon2_memory_kib, s.argon2_time_cost, s.argon2_parallelism) == (19 * 1024, 2, 1)
    assert s.hash_threads == (os.cpu_count() or 1)


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    s = load_settings()
    assert s.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'maria.db'}"
    assert (tmp_path / "var").is_dir()  # created, so SQLite can open the file
    elsewhere = load_settings(data_dir=tmp_path / "x" / "y")
    assert elsewhere.resolved_database_url.endswith(f"{tmp_path}/x/y/maria.db")


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = {
        "MARIA_ENV": "production",
        "MARIA_SECRET_KEY": "s" * 40,
        "MARIA_DATABASE_URL": "postgres://u:p@db:5432/maria",
        "MARIA_REDIS_URL": "redis://cache:6379/2",
        "MARIA_DATA_DIR": str(tmp_path / "data"),
        "MARIA_ACCESS_TOKEN_TTL": "60",
        "MARIA_REFRESH_TOKEN_TTL": "86400",
        "MARIA_JWT_ISSUER": "https://auth.example",
        "MARIA_JWT_AUDIENCE": "web",
        "MARIA_COOKIE_SECURE": "true",
        "MARIA_CORS_ORIGINS": " https://a.example ,https://b.example:8443,, ",
        "MARIA_PASSWORD_HASH_THREADS": "3",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert s.env == "production"
    assert s.secret == b"s" * 40
    assert s.resolved_database_url == "postgresql+asyncpg://u:p@db:5432/maria"
    assert s.redis_url == "redis://cache:6379/2"
    assert s.data_dir == tmp_path / "data"
    assert (s.access_token_ttl, s.refresh_token_ttl) == (60, 86400)
    assert (s.jwt_issuer, s.jwt_audience) == ("https://auth.example", "web")
    assert s.cookie_secure is True
    assert s.cors_origins == ["https://a.example", "https://b.example:8443"]
    assert s.hash_threads == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False)],
)
def test_cookie_secure_parsing(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("MARIA_COOKIE_SECURE", raw)
    assert load_settings().cookie_secure is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("https://only.example", ["https://only.example"]),
        (
            "http://localhost:3000,https://kinoway.example",
            ["http://localhost:3000", "https://kinoway.example"],
        ),
    ],
)
def test_cors_origins_parsing(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("MARIA_CORS_ORIGINS", raw)
    assert load_settings().cors_origins == expected


def test_dot_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "# local settings\n"
        "MARIA_ACCESS_TOKEN_TTL=120\n"
        "MARIA_JWT_AUDIENCE=from-dotenv\n"
        "MARIA_CORS_ORIGINS=https://a.example,https://b.example\n"
        "MARIA_SECRET_KEY=dotenv-secret-0123456789abcdef0123456789\n"
        "UNRELATED=ignored\n"
    )
    s = load_settings()
    assert s.access_token_ttl == 120
    assert s.jwt_audience == "from-dotenv"
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.secret == b"dotenv-secret-0123456789abcdef0123456789"
    # The real environment wins over .env.
    monkeypatch.setenv("MARIA_ACCESS_TOKEN_TTL", "300")
    assert load_settings().access_token_ttl == 300


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgresql://u@h/d?sslmode=require", "postgresql+asyncpg://u@h/d?sslmode=require"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("sqlite:///relative.db", "sqlite+aiosqlite:///relative.db"),
        ("sqlite:////abs/path/maria.db", "sqlite+aiosqlite:////abs/path/maria.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("mysql+aiomysql://u@h/d", "mysql+aiomysql://u@h/d"),
    ],
)
def test_normalize_database_url(url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected
    assert normalize_database_url(expected) == expected  # idempotent
    assert load_settings(database_url=url).resolved_database_url == expected


def test_secret_is_the_utf8_bytes_of_the_key_as_is() -> None:
    assert (
        load_settings(secret_key="  ключ with spaces  ").secret == "  ключ with spaces  ".encode()
    )


def test_generated_secret_is_private_stable_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "new" / "data"
    with caplog.at_level(logging.WARNING, logger="maria.config"):
        first = load_settings(data_dir=data).secret
    assert len(first) >= 48
    key = data / "secret.key"
    assert key.read_bytes().strip() == first
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert [r for r in caplog.records if "MARIA_SECRET_KEY is not set" in r.getMessage()]
    assert sorted(p.name for p in data.iterdir()) == ["secret.key"]  # no temp file left

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="maria.config"):
        assert load_settings(data_dir=data).secret == first
    assert not caplog.records  # reused quietly
    assert load_settings(data_dir=tmp_path / "other").secret != first


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MARIA_ACCESS_TOKEN_TTL", "fifteen minutes", "MARIA_ACCESS_TOKEN_TTL"),
        ("MARIA_ACCESS_TOKEN_TTL", "5", "greater than or equal to 30"),
        ("MARIA_REFRESH_TOKEN_TTL", "-1", "MARIA_REFRESH_TOKEN_TTL"),
        ("MARIA_ENV", "staging", "'development', 'production' or 'test'"),
        ("MARIA_COOKIE_SECURE", "maybe", "MARIA_COOKIE_SECURE"),
        ("MARIA_MAX_BODY_BYTES", "1", "MARIA_MAX_BODY_BYTES"),
    ],
)
def test_invalid_values_give_a_readable_config_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    text = str(info.value)
    assert text.startswith("invalid configuration: ")
    assert variable in text and says in text
    assert "\n" not in text and "pydantic" not in text  # one line, no library internals


def test_several_problems_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARIA_ACCESS_TOKEN_TTL", "x")
    monkeypatch.setenv("MARIA_JWT_LEEWAY", "9999")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "MARIA_ACCESS_TOKEN_TTL" in str(info.value)
    assert "MARIA_JWT_LEEWAY" in str(info.value)


@pytest.mark.parametrize(
    ("secret", "ok"),
    [
        (None, False),
        ("", False),
        ("0123456789", False),
        ("k" * 31, False),
        ("é" * 15, False),  # 15 characters, 30 bytes
        ("k" * 32, True),
        ("é" * 16, True),  # 16 characters, 32 bytes: bytes are what count
    ],
)
def test_production_needs_a_32_byte_secret(secret: str | None, ok: bool) -> None:
    overrides: dict[str, object] = {"env": "production"}
    if secret is not None:
        overrides["secret_key"] = secret
    if ok:
        assert load_settings(**overrides).secret == (secret or "").encode()
        return
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    text = str(info.value)
    assert "MARIA_SECRET_KEY" in text
    assert "Value error" not in text
    if secret:
        assert "32 bytes" in text and secret not in text  # never echo the secret


def test_development_accepts_a_short_key() -> None:
    assert load_settings(env="development", secret_key="short").secret == b"short"


def test_an_empty_secret_key_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A blank ``MARIA_SECRET_KEY=`` must never mean signing with an empty HMAC key.
    monkeypatch.setenv("MARIA_SECRET_KEY", "")
    s = load_settings()
    assert s.secret_key is None
    assert len(s.secret) >= 48 and s.secret == (tmp_path / "var" / "secret.key").read_bytes()
    monkeypatch.setenv("MARIA_ENV", "production")
    with pytest.raises(ConfigError, match="requires MARIA_SECRET_KEY"):
        load_settings()


def test_production_cookies_are_secure_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MARIA_ENV", "production")
    monkeypatch.setenv("MARIA_SECRET_KEY", "s" * 40)
    # No trusted proxy can tell the scheme: production is HTTPS, every cookie Secure.
    assert load_settings().cookie_secure is True
    # Behind a trusted proxy, Secure follows its X-Forwarded-Proto.
    monkeypatch.setenv("MARIA_TRUSTED_PROXIES", "10.0.0.0/8")
    assert load_settings().cookie_secure == "auto"
    monkeypatch.setenv("MARIA_COOKIE_SECURE", "false")  # e.g. TLS ends before a plain hop
    assert load_settings().cookie_secure is False
    monkeypatch.setenv("MARIA_COOKIE_SECURE", "auto")
    monkeypatch.delenv("MARIA_TRUSTED_PROXIES")
    assert load_settings().cookie_secure == "auto"  # said explicitly: kept
    monkeypatch.setenv("MARIA_ENV", "development")
    monkeypatch.delenv("MARIA_COOKIE_SECURE")
    assert load_settings().cookie_secure == "auto"


def test_production_logs_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARIA_ENV", "production")
    monkeypatch.setenv("MARIA_SECRET_KEY", "s" * 40)
    s = load_settings()
    assert (s.log_format, s.access_log) == ("json", False)
    monkeypatch.setenv("MARIA_LOG_FORMAT", "text")
    monkeypatch.setenv("MARIA_ACCESS_LOG", "true")
    s = load_settings()
    assert (s.log_format, s.access_log) == ("text", True)
    monkeypatch.setenv("MARIA_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="MARIA_LOG_FORMAT"):
        load_settings()
    monkeypatch.setenv("MARIA_LOG_FORMAT", "json")
    monkeypatch.setenv("MARIA_METRICS_TOKEN", " ")
    assert load_settings().metrics_token is None  # blank counts as unset


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/auth", "/api/v1/auth/", "/api", "/api/v1/auth/refresh"]
)
def test_refresh_cookie_paths_that_reach_the_refresh_endpoint(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("MARIA_REFRESH_COOKIE_PATH", path)
    assert load_settings().refresh_cookie_path == path


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("", "must start with '/'"),
        ("api/v1/auth", "must start with '/'"),
        ("/api v1", "whitespace"),
        ("/api;Domain=evil.example", "';'"),
        ("/a,b", "','"),
        ("/api\x7f", "control"),
        ("/api\t", "whitespace"),
        ("/apié", "non-ASCII"),
        ("/app", "does not cover /api/v1/auth/refresh"),
        ("/api/v1/au", "does not cover /api/v1/auth/refresh"),  # a prefix, not a path segment
        ("/api/v1/auth/refresh/", "does not cover /api/v1/auth/refresh"),
    ],
)
def test_a_refresh_cookie_path_that_cannot_work_is_refused_in_one_line(
    path: str, says: str
) -> None:
    """Set as such, the path would inject cookie attributes, split the header, or keep the
    cookie from the refresh endpoint (every browser session would end with its first
    access token)."""
    with pytest.raises(ConfigError) as info:
        load_settings(refresh_cookie_path=path)
    text = str(info.value)
    assert text.startswith("invalid configuration: MARIA_REFRESH_COOKIE_PATH: ")
    assert says in text and "\n" not in text and "\t" not in text, text
