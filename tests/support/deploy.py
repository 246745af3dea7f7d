"""What the files in ``deploy/`` say, read the way their tools read them: the Dockerfile's
instructions, the compose file (YAML, merge keys resolved, ``${VAR}`` interpolated like
Compose does), the Kubernetes manifests and the nginx template (rendered like the nginx
image's envsubst). The tests run Maria and nginx with exactly these commands and settings,
only the addresses changed to loopback ones."""

from __future__ import annotations

import json
import re
import shlex
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
NGINX_TEMPLATE = DEPLOY / "nginx" / "maria.conf.template"
KUBERNETES = DEPLOY / "kubernetes"


# -- Dockerfile -----------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [arg for instr, arg in self.instructions if instr == name]

    def last(self, name: str) -> str | None:
        found = self.all(name)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        """ENV key=value pairs (the form the Dockerfile uses), ``$PATH`` left as written."""
        values: dict[str, str] = {}
        for arg in self.all("ENV"):
            for pair in shlex.split(arg):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def dockerfile_stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The build stages, each with its instructions (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, arg = line.partition(" ")
        instr, arg = instr.upper(), arg.strip()
        if instr == "FROM":
            stages.append(Stage(re.split(r"\s+as\s+", arg, flags=re.I)[0]))
        elif stages:
            stages[-1].instructions.append((instr, arg))
    return stages


def exec_form(arg: str) -> list[str]:
    """A JSON-array (exec form) instruction argument, e.g. CMD's."""
    value = json.loads(arg)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arg
    return value


# -- compose --------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` as Compose resolves them."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in variables and (variables[name] or op not in (":-", ":?")):
            return variables[name]
        if op in ("-", ":-"):
            return arg or ""
        raise AssertionError(f"compose needs {name}: {arg}")

    return _INTERPOLATION.sub(one, value)


def compose(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose sees it, with ``variables`` as its environment."""
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves << merge keys

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and variables is not None:
            return interpolate(node, variables)
        return node

    resolved: dict[str, Any] = walk(data)
    return resolved


def service_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


# -- Kubernetes -----------------------------------------------------------------------


def manifests() -> dict[str, dict[str, Any]]:
    """Each manifest by ``kind``."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found[doc["kind"]] = doc
    return found


# -- nginx ----------------------------------------------------------------------------


def template_variables(text: str | None = None) -> set[str]:
    """The upper-case ``${NAME}`` placeholders of the nginx template (nginx's own
    variables are lower-case and stay as they are)."""
    text = text if text is not None else NGINX_TEMPLATE.read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))


def render_template(values: dict[str, str]) -> str:
    """The template with ``values`` substituted, as envsubst does for the variables set."""
    text = NGINX_TEMPLATE.read_text()
    missing = template_variables(text) - set(values)
    assert not missing, f"no value for {missing}"
    return string.Template(text).safe_substitute(values)
