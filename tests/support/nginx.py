"""A real nginx (the Debian package) run by a test: the template shipped in ``deploy/``
rendered to loopback ports in a folder of the test's, started in the foreground with its
pid file, logs and temporary files there, stopped when the test ends.

Without nginx the tests that need it skip, or fail under MARIA_TEST_REQUIRE_SERVICES=1
(``.ci/run`` installs it when missing).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.deploy import render_template
from tests.support.servers import free_port
from tests.support.services import need_service

WAIT = 30.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    return need_service("nginx (apt-get install nginx)", found)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls.crt", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# What the nginx image's own nginx.conf gives the template (it is included in http {}),
# with every file nginx writes kept in the test's folder.
MAIN_CONF = """\
{user}worker_processes 1;
pid nginx.pid;
error_log error.log notice;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include maria.conf;
}}
"""


class Nginx:
    """nginx in front of ``upstreams`` (two ``host:port``), on free loopback ports."""

    def __init__(self, folder: Path, upstreams: tuple[str, str]) -> None:
        self.binary = nginx_binary()
        self.folder = folder
        self.upstreams = upstreams
        self.http_port = free_port()
        self.https_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def values(self, cert: Path, key: Path) -> dict[str, str]:
        """The template's variables, as compose.yaml sets them but on loopback."""
        return {
            "MARIA_A": self.upstreams[0],
            "MARIA_B": self.upstreams[1],
            "NGINX_HTTP_PORT": f"127.0.0.1:{self.http_port}",
            "NGINX_HTTPS_PORT": f"127.0.0.1:{self.https_port}",
            "NGINX_TLS_CERT": str(cert),
            "NGINX_TLS_KEY": str(key),
        }

    def log(self) -> str:
        parts = []
        for name in ("error.log", "stdout.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def access_lines(self) -> list[str]:
        path = self.folder / "stdout.log"
        return path.read_text().splitlines() if path.exists() else []

    def start(self) -> Nginx:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "tmp").mkdir(exist_ok=True)
        cert, key = self_signed(self.folder)
        (self.folder / "maria.conf").write_text(render_template(self.values(cert, key)))
        # As root, nginx's workers would switch to "nobody", who cannot read this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.folder / "nginx.conf"
        conf.write_text(MAIN_CONF.format(user=user))
        argv = [self.binary, "-p", f"{self.folder}/", "-c", str(conf)]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=WAIT)
        assert check.returncode == 0, check.stderr
        with (self.folder / "stdout.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [*argv, "-g", "daemon off;"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + WAIT
        for port in (self.http_port, self.https_port):
            while True:
                assert self.proc.poll() is None, f"nginx exited:\n{self.log()}"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"nginx does not listen:\n{self.log()}"
                    time.sleep(0.05)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):  # SIGTERM: nginx's fast shutdown
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue
