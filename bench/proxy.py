"""Maria behind nginx (issue 14): one command, loopback only, bounded in time, cleans up.

    .venv/bin/python bench/proxy.py [--duration 10] [--rounds 3] [--connections 32]

Starts, on free loopback ports, a throw-away Postgres database (``--postgres-url``'s server),
two ``maria serve`` with the settings of ``deploy/compose.yaml`` (production, JSON access
log on, Redis at ``--redis-url``, nginx as the one trusted proxy; the logs go to files),
and nginx with ``deploy/nginx/maria.conf.template`` rendered to loopback ports
(``--nginx-workers`` worker processes).
One user with a favorites list of 20 items; then for ``GET /api/v1/users/me`` and that list
page (``GET /api/v1/users/me/lists/favorites/items``), ``--rounds`` rounds of:

- **one**: wrk against instance A alone (-c connections);
- **two direct**: wrk against A and B at once (two wrk processes, half the connections each),
  requests/s summed, p99 the worse of the two;
- **nginx**: wrk against nginx, which spreads over A and B (-c connections).

Ratios, per round and as the median of the rounds: nginx / two direct (what the proxy
costs), two direct / one (how close two instances on this machine come to 2x), nginx / one.
Every run also reports the Maria processes' CPU per request (and nginx's, behind it), steadier
than requests/s on a shared machine. Everything shares the machine's cores: wrk, nginx and
both instances (on 2 cores, "two instances" cannot be 2x of one that already had a core of
its own plus what wrk left). About ``rounds x 6 x (duration + warm-up)`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(BENCH_DIR))

from _servers import Server, clean_env, free_port, maria_argv, postgres_database  # noqa: E402
from run import Wrk, bearer, machine, request, source_state, wrk  # noqa: E402

TEMPLATE = ROOT / "deploy" / "nginx" / "maria.conf.template"
ME = "/api/v1/users/me"
PAGE = "/api/v1/users/me/lists/favorites/items"
PASSWORD = "bench: correct horse battery staple"

NGINX_MAIN = """\
{user}worker_processes {workers};
pid nginx.pid;
error_log error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include maria.conf;
}}
"""


def say(text: str) -> None:
    print(text, flush=True)


class Nginx:
    """nginx with the shipped template, in the foreground, its files in ``folder``."""

    def __init__(self, folder: Path, upstreams: list[int], workers: int) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        folder.mkdir(parents=True)
        (folder / "tmp").mkdir()
        self.port = free_port()
        cert, key = self_signed(folder)
        values = {
            "MARIA_A": f"127.0.0.1:{upstreams[0]}",
            "MARIA_B": f"127.0.0.1:{upstreams[1]}",
            "NGINX_HTTP_PORT": f"127.0.0.1:{self.port}",
            "NGINX_HTTPS_PORT": f"127.0.0.1:{free_port()}",
            "NGINX_TLS_CERT": str(cert),
            "NGINX_TLS_KEY": str(key),
        }
        # The template as shipped (its access log goes to stdout: /dev/null here).
        conf = string.Template(TEMPLATE.read_text()).safe_substitute(values)
        (folder / "maria.conf").write_text(conf)
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = folder / "nginx.conf"
        main.write_text(NGINX_MAIN.format(user=user, workers=workers))
        argv = [binary, "-p", f"{folder}/", "-c", str(main)]
        subprocess.run([*argv, "-t"], check=True, capture_output=True)
        self.proc = subprocess.Popen(
            [*argv, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "stderr.log").open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                status, _, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    break
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("nginx did not start: " + (folder / "stderr.log").read_text())
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """CPU of the master and its workers (from /proc)."""
        total = 0.0
        for pid in [self.proc.pid, *children(self.proc.pid)]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)


def children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(x) for x in text]
    return found


def self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "tls.crt", folder / "tls.key"


def maria_env(workdir: Path, database: str, redis_url: str) -> dict[str, str]:
    """compose.yaml's settings for the replicas, on loopback."""
    return clean_env(
        MARIA_ENV="production",
        MARIA_SECRET_KEY=secrets.token_urlsafe(48),
        MARIA_DATABASE_URL=database,
        MARIA_REDIS_URL=redis_url,
        MARIA_TRUSTED_PROXIES="127.0.0.1",
        MARIA_PASSWORD_HASH_THREADS="2",
        MARIA_ACCESS_LOG="true",
        MARIA_DATA_DIR=str(workdir / "data"),
    )


def set_up_user(port: int) -> str:
    email = f"proxy-{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": "Proxy Bench"}
    status, raw, _ = request(port, "POST", "/api/v1/auth/register", body)
    if status != 201:
        raise RuntimeError(f"register: {status} {raw[:300]!r}")
    token = str(json.loads(raw)["access_token"])
    for movie in range(1, 21):
        status, raw, _ = request(
            port, "PUT", f"/api/v1/users/me/lists/favorites/items/{1000 + movie}", {}, bearer(token)
        )
        if status not in (200, 201):
            raise RuntimeError(f"add item: {status} {raw[:300]!r}")
    return token


def both(
    servers: list[Server], path: str, headers: dict[str, str], args: argparse.Namespace
) -> Wrk:
    """wrk against each instance at once, half the connections each; summed."""
    results: list[Wrk] = []
    lock = threading.Lock()
    load = {
        "duration": args.duration,
        "connections": max(1, args.connections // 2),
        "threads": max(1, args.threads // 2),
    }

    def run(server: Server) -> None:
        result = wrk(server.port, path, headers=headers, **load)
        with lock:
            results.append(result)

    cpu0 = sum(s.cpu_seconds()[0] for s in servers)
    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(s,)) for s in servers]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    total = Wrk(
        rps=sum(r.rps for r in results),
        p50_ms=max(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )
    total.server_cpu_s = sum(s.cpu_seconds()[0] for s in servers) - cpu0
    total.seconds = time.monotonic() - started
    return total


def measured(
    label: str,
    run: Any,
    servers: list[Server],
    nginx: Nginx | None = None,
) -> dict[str, Any]:
    cpu0 = sum(s.cpu_seconds()[0] for s in servers)
    n0 = nginx.cpu_seconds() if nginx else 0.0
    result: Wrk = run()
    maria_cpu = sum(s.cpu_seconds()[0] for s in servers) - cpu0
    nginx_cpu = (nginx.cpu_seconds() - n0) if nginx else 0.0
    if result.non_2xx or result.socket_errors:
        raise RuntimeError(f"{label}: {result.non_2xx} non-2xx, {result.socket_errors} errors")
    per = max(1, result.requests)
    out = {
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
        "maria_cpu_us": maria_cpu / per * 1e6,
        "nginx_cpu_us": nginx_cpu / per * 1e6,
    }
    say(
        f"  {label:<14} {result.rps:8.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 "
        f"{result.p99_ms:6.2f} ms  | Maria {out['maria_cpu_us']:5.0f} µs CPU/req"
        + (f", nginx {out['nginx_cpu_us']:4.0f}" if nginx else "")
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--nginx-workers", type=int, default=1)
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            say(f"{tool} is not installed (apt-get install -y {tool})")
            return 2
    started = datetime.now(UTC)
    say(f"machine: {machine()}")
    say(f"source: {source_state()}")
    say(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency; "
        f"nginx {args.nginx_workers} worker(s)"
    )
    workdir = Path(tempfile.mkdtemp(prefix="maria-proxy-"))
    stack = contextlib.ExitStack()
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {
        "date": started.isoformat(),
        "machine": machine(),
        "source": source_state(),
        "argv": sys.argv,
    }
    try:
        database = stack.enter_context(postgres_database(args.postgres_url, "maria_proxy"))
        env = maria_env(workdir, database, args.redis_url)
        migrate = subprocess.run([*maria_argv(), "migrate"], env=env, capture_output=True)
        if migrate.returncode:
            raise RuntimeError(migrate.stderr.decode())
        servers = []
        for name in ("maria-a", "maria-b"):
            server = Server(name, [*maria_argv(), "serve", "--no-migrate"], env, workdir)
            stack.callback(server.stop)
            servers.append(server)
        for server in servers:
            server.wait_ready()
        nginx = Nginx(workdir / "nginx", [s.port for s in servers], args.nginx_workers)
        stack.callback(nginx.stop)
        token = set_up_user(servers[0].port)
        headers = bearer(token)
        load = {"duration": args.duration, "connections": args.connections}
        load["threads"] = args.threads
        for path in (ME, PAGE):
            for port in (servers[0].port, servers[1].port, nginx.port):
                status, _, _ = request(port, "GET", path, headers=headers)
                if status != 200:
                    raise RuntimeError(f"GET {path} on {port}: {status}")
        for path in (ME, PAGE):
            say(f"\n== GET {path} ==")
            warm = {**load, "duration": args.warmup}
            wrk(servers[0].port, path, headers=headers, **warm)
            wrk(servers[1].port, path, headers=headers, **warm)
            wrk(nginx.port, path, headers=headers, **warm)
            rounds = []
            for r in range(args.rounds):
                say(f"  -- round {r + 1}")
                one = measured(
                    "one",
                    lambda path=path: wrk(servers[0].port, path, headers=headers, **load),
                    [servers[0]],
                )
                two = measured(
                    "two direct",
                    lambda path=path: both(servers, path, headers, args),
                    servers,
                )
                proxied = measured(
                    "nginx",
                    lambda path=path: wrk(nginx.port, path, headers=headers, **load),
                    servers,
                    nginx,
                )
                rounds.append({"one": one, "two": two, "nginx": proxied})
            ratios = {
                "nginx/two": [x["nginx"]["rps"] / x["two"]["rps"] for x in rounds],
                "two/one": [x["two"]["rps"] / x["one"]["rps"] for x in rounds],
                "nginx/one": [x["nginx"]["rps"] / x["one"]["rps"] for x in rounds],
            }
            for name, values in ratios.items():
                say(
                    f"  {name:<10} median {statistics.median(values):.2f} "
                    f"(rounds {', '.join(f'{v:.2f}' for v in values)})"
                )
            p99 = {k: statistics.median([x[k]["p99_ms"] for x in rounds]) for k in rounds[0]}
            say("  p99, median of rounds: " + ", ".join(f"{k} {v:.2f} ms" for k, v in p99.items()))
            results[path] = {"rounds": rounds, "ratios": ratios, "p99_median_ms": p99}
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    say(f"\n({(datetime.now(UTC) - started).total_seconds():.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
