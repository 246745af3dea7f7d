"""The deployment files, checked offline (no container engine on these machines): the
Kubernetes manifests against the API's schemas (``kubernetes-validate --strict``, schemas
bundled in the package), compose.yaml against the compose-spec schema
(``check-jsonschema --builtin-schema vendor.compose-spec``), each with a broken copy that
must fail, so the validators are known to look; then what the files run: real ``maria``
commands with real settings, probes on the right paths and port, secrets by reference."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from maria.cli import parser
from maria.config import Settings, load_settings
from tests.support.deploy import (
    COMPOSE,
    KUBERNETES,
    NGINX_TEMPLATE,
    compose,
    dockerfile_stages,
    exec_form,
    manifests,
    service_env,
    template_variables,
)

BIN = Path(sys.executable).parent
SECRETS = {"MARIA_SECRET_KEY", "MARIA_DATABASE_URL", "MARIA_REDIS_URL", "MARIA_METRICS_TOKEN"}
COMPOSE_VARS = {"MARIA_SECRET_KEY": "x" * 48, "POSTGRES_PASSWORD": "pw"}


def validate(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=300
    )


# -- schemas --------------------------------------------------------------------------


def test_the_kubernetes_manifests_are_valid_and_a_broken_one_is_not(tmp_path: Path) -> None:
    files = sorted(str(p) for p in KUBERNETES.glob("*.yaml"))
    assert len(files) >= 6
    done = validate("kubernetes-validate", "--strict", "--quiet", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "deployment.yaml"
    text = (KUBERNETES / "deployment.yaml").read_text()
    broken.write_text(text.replace("readinessProbe:", "readynessProbe:"))
    failed = validate("kubernetes-validate", "--strict", "--quiet", str(broken))
    assert failed.returncode != 0 and "readynessProbe" in failed.stdout + failed.stderr


def test_compose_is_valid_and_a_broken_one_is_not(tmp_path: Path) -> None:
    schema = ("--builtin-schema", "vendor.compose-spec")
    done = validate("check-jsonschema", *schema, str(COMPOSE))
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("read_only: true", "readonly: true"))
    failed = validate("check-jsonschema", *schema, str(broken))
    assert failed.returncode != 0, failed.stdout


# -- what they run --------------------------------------------------------------------


def maria_args(command: list[str]) -> argparse.Namespace:
    """A command line as ``maria`` parses it (an unknown option fails the test)."""
    assert command[0] == "maria", command
    return parser().parse_args(command[1:])


def maria_settings(env: dict[str, str]) -> Settings:
    """Settings as Maria reads them from ``env`` (every name must be one of its own)."""
    fields = {f"MARIA_{name.upper()}" for name in Settings.model_fields}
    unknown = {k for k in env if k.startswith("MARIA_")} - fields
    assert not unknown, f"not Maria settings: {unknown}"
    overrides = {k.removeprefix("MARIA_").lower(): v for k, v in env.items() if k in fields}
    return load_settings(_env_file=None, **overrides)


def test_the_image_runs_maria_as_a_user_with_a_healthcheck() -> None:
    stages = dockerfile_stages()
    assert len(stages) == 2, "a build stage and a runtime stage"
    build, runtime = stages
    assert runtime.base == build.base  # the same Python (ARG), without the build's files
    assert any("--from=build" in arg for arg in runtime.all("COPY"))
    user = runtime.last("USER")
    assert user is not None and user.split(":")[0] not in ("0", "root")
    env = runtime.env()
    assert env["MARIA_ENV"] == "production"
    command = exec_form(runtime.last("CMD") or "")
    args = maria_args(command)
    assert (args.command, args.host) == ("serve", "0.0.0.0")
    assert runtime.last("EXPOSE") == str(args.port)
    volumes = exec_form(runtime.last("VOLUME") or "")
    assert set(volumes) == {env["MARIA_DATA_DIR"], "/tmp"}  # all it writes (test_image.py)
    check = runtime.last("HEALTHCHECK") or ""
    assert f"127.0.0.1:{args.port}/healthz" in check
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"  # no .pyc on a read-only root


def test_compose_runs_two_replicas_after_one_migration_behind_nginx() -> None:
    spec = compose(COMPOSE_VARS)
    services: dict[str, Any] = spec["services"]
    assert {"postgres", "redis", "migrate", "maria-a", "maria-b", "nginx"} <= set(services)
    assert maria_args(services["migrate"]["command"]).command == "migrate"
    image_env = dockerfile_stages()[-1].env()
    for name in ("maria-a", "maria-b"):
        service = services[name]
        args = maria_args(service["command"])
        assert (args.command, args.migrate, args.port) == ("serve", False, 8000)
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["read_only"] is True and "/tmp" in service["tmpfs"]
        assert any(v.endswith(f":{image_env['MARIA_DATA_DIR']}") for v in service["volumes"])
        env = service_env(service)
        settings = maria_settings(env)
        assert settings.redis_url and settings.database_url
        assert settings.log_format == "json" and settings.access_log
    nginx = services["nginx"]
    proxy_ip = nginx["networks"]["maria"]["ipv4_address"]
    assert service_env(services["maria-a"])["MARIA_TRUSTED_PROXIES"] == proxy_ip
    nginx_env = service_env(nginx)
    assert nginx_env["MARIA_A"] == "maria-a:8000" and nginx_env["MARIA_B"] == "maria-b:8000"
    assert set(nginx_env) == template_variables()  # every placeholder set, nothing else
    mounts = [v.split(":") for v in nginx["volumes"]]
    template = next(m for m in mounts if m[1].startswith("/etc/nginx/templates/"))
    assert (COMPOSE.parent / template[0]).resolve() == NGINX_TEMPLATE
    for port in (nginx_env["NGINX_HTTP_PORT"], nginx_env["NGINX_HTTPS_PORT"]):
        assert any(p.endswith(f":{port}") for p in nginx["ports"])


def test_compose_refuses_to_start_without_its_secrets() -> None:
    for missing in COMPOSE_VARS:
        with pytest.raises(AssertionError, match=missing):
            compose({k: v for k, v in COMPOSE_VARS.items() if k != missing})
    # Nothing secret is written in the file itself.
    text = COMPOSE.read_text()
    assert "MARIA_SECRET_KEY: ${MARIA_SECRET_KEY:?" in text


def test_kubernetes_probes_commands_resources_and_secret_references() -> None:
    found = manifests()
    assert {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Job",
        "ConfigMap",
    } <= set(found)
    assert "Secret" not in found  # secrets are referenced, never shipped
    pod = found["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = maria_args(container["command"])
    assert (args.command, args.migrate) == ("serve", False)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": args.port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    image_env = dockerfile_stages()[-1].env()
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {image_env["MARIA_DATA_DIR"], "/tmp"}
    job = found["Job"]["spec"]["template"]["spec"]["containers"][0]
    assert maria_args(job["command"]).command == "migrate"
    referenced = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert referenced == SECRETS
    assert all("value" not in e for e in container["env"])
    config = found["ConfigMap"]["data"]
    assert not SECRETS & set(config)
    settings = maria_settings(
        {**config, "MARIA_SECRET_KEY": "x" * 48, "MARIA_DATABASE_URL": "postgresql://db/maria"}
    )
    assert settings.trusted_proxies and settings.env == "production"
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == found["Deployment"]["metadata"]["name"]
    assert hpa["minReplicas"] >= 2 == found["PodDisruptionBudget"]["spec"]["minAvailable"] + 1
    selector = found["Service"]["spec"]["selector"]
    assert selector.items() <= pod_labels(found).items()


def pod_labels(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    labels: dict[str, str] = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    return labels


def test_the_readme_commands_name_existing_files() -> None:
    readme = (COMPOSE.parent / "README.md").read_text()
    for line in readme.splitlines():
        if line.strip().startswith("docker compose -f "):
            path = shlex.split(line.strip())[3]
            assert (COMPOSE.parents[1] / path).exists(), line
    assert yaml.safe_load(COMPOSE.read_text())["name"] == "maria"
