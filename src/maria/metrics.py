"""What an operator watches: every Prometheus metric of an instance, defined in one place.

Framework-free (the services record here; ``maria.http.metrics`` exposes them at
``/metrics``). Labels take a few fixed values each: never a user id, an email, a token or a
raw path, so the number of series stays bounded whatever clients send.

Children of fixed label sets are bound once here: ``labels()`` validates and locks on every
call. With ``maria serve --workers N`` prometheus-client runs in multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``): counters and histograms are summed over the workers, and
each gauge says how (``multiprocess_mode``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0)

# -- HTTP (recorded by maria.http.observe) ------------------------------------------------

HTTP_REQUESTS = Counter(
    "maria_http_requests_total",
    "HTTP requests answered, by route template and status class",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "maria_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status class",
    ["method", "route", "status"],
    buckets=_FAST,
)

# -- signing in ---------------------------------------------------------------------------

SIGN_INS = Counter(
    "maria_sign_ins_total",
    "Sign-in attempts by method (password, code) and outcome",
    ["method", "outcome"],
)
REFRESHES = Counter(
    "maria_refreshes_total",
    "Refresh-token presentations by outcome: rotated, replayed (a racing duplicate within "
    "the grace), reused (reuse detected: the session was ended), refused, rate_limited",
    ["outcome"],
)
RATE_LIMITED = Counter(
    "maria_rate_limited_total", "Requests or frames refused by a rate limit, by limit", ["limit"]
)


def refused(limit: str) -> None:
    """Count one refusal by ``limit`` (a fixed name, e.g. ``login_pair``)."""
    RATE_LIMITED.labels(limit).inc()


# -- revocation ---------------------------------------------------------------------------

REVOCATIONS = Counter(
    "maria_revocations_applied_total",
    "Session revocations this instance started refusing, by how it learnt of them "
    "(local: it revoked; pubsub: the broker; poll: the database)",
    ["source"],
)
REVOCATION_LAG = Histogram(
    "maria_revocation_lag_seconds",
    "From a revocation's commit to this instance refusing its tokens, by source",
    ["source"],
    buckets=_LAG,
)

# -- rooms --------------------------------------------------------------------------------

WEBSOCKETS = Gauge(
    "maria_websockets_open", "Room WebSockets open on this instance", multiprocess_mode="livesum"
)
ROOMS = Gauge(
    "maria_rooms_open",
    "Rooms this instance serves (at least one local socket, or one in its grace)",
    multiprocess_mode="livesum",
)
CHAT_MESSAGES = Counter("maria_chat_messages_total", "Chat messages stored")
FANOUT_LAG = Histogram(
    "maria_room_fanout_lag_seconds",
    "From a chat message's arrival at any instance to its delivery to this instance's sockets",
    buckets=_LAG,
)

# -- mail ---------------------------------------------------------------------------------

MAIL_QUEUE = Gauge(
    "maria_mail_queue_depth",
    "Mails waiting in the outbox (all instances share it), read at scrape time",
    multiprocess_mode="livemax",
)
MAIL_FAILURES = Counter(
    "maria_mail_failures_total",
    "Mail sending failures (final: given up after the last retry)",
    ["final"],
)

# -- database and Redis -------------------------------------------------------------------

DB_POOL_IN_USE = Gauge(
    "maria_db_pool_connections_in_use",
    "Database connections checked out of this instance's pools",
    multiprocess_mode="livesum",
)
DB_POOL_ACQUIRE = Histogram(
    "maria_db_pool_acquire_seconds",
    "Time to get a database connection from the pool (waiting for a free one, or opening one)",
    buckets=_FAST,
)
REDIS_UP = Gauge(
    "maria_redis_up",
    "1 while Redis answers, 0 while this instance serves on its fallbacks (or has no Redis)",
    multiprocess_mode="livemin",
)
