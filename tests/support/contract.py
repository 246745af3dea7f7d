"""Every answer Maria gives an in-process test is one ``/openapi.json`` declares.

``client_of`` (tests/support/app.py) checks each response with ``undeclared``: its status
must be among the responses of the operation that answered it, and an error's
``error.code`` among the codes the schema lists for that status (its ``<Code>Error``
schemas). So every error any test provokes, in any state, is checked against the
schema: a route that starts raising a new error fails the tests until the schema says so.
Requests no documented operation answers (unknown paths, 405s, hidden aliases) are not
checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match

Declared = dict[str, frozenset[str] | None]  # status -> its error codes (None: no error)


def error_codes(document: dict[str, Any], response: dict[str, Any]) -> frozenset[str] | None:
    """The ``error.code`` values a response of the schema ``document`` declares (one
    ``<Code>Error`` component each, alone or in a ``oneOf``), if it is an error."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    codes = set()
    for ref in schema.get("oneOf", [schema]):
        name = ref.get("$ref", "").rpartition("/")[2]
        component = document["components"]["schemas"].get(name, {})
        for part in component.get("allOf", []):
            error = part.get("properties", {}).get("error", {})
            if "code" in error.get("properties", {}):
                codes.add(error["properties"]["code"]["const"])
    return frozenset(codes) or None


@dataclass(frozen=True)
class Contract:
    """What each operation of a schema may answer: ``(path, method) -> Declared``."""

    operations: dict[tuple[str, str], Declared]

    @classmethod
    def of(cls, schema: dict[str, Any]) -> Contract:
        return cls(
            {
                (path, method.upper()): {
                    status: error_codes(schema, response)
                    for status, response in operation["responses"].items()
                }
                for path, methods in schema["paths"].items()
                for method, operation in methods.items()
            }
        )

    def undeclared(self, path: str, method: str, status: int, code: str | None) -> str | None:
        """Why this answer of operation ``(path, method)`` is not in the schema, or None."""
        declared = self.operations[path, method]
        if str(status) not in declared:
            return f"{method} {path} answered {status}, declared: {sorted(declared)}"
        codes = declared[str(status)]
        if status >= 400 and (codes is None or code not in codes):
            return f"{method} {path} answered {status} {code!r}, declared: {codes}"
        return None


_contract: Contract | None = None


def contract_of(app: Any) -> Contract:
    """The schema's contract (built once per test process: every app has the same routes)."""
    global _contract
    if _contract is None:
        _contract = Contract.of(app.openapi())
    return _contract


def operation_of(app: Any, method: str, path: str) -> str | None:
    """The documented path of the operation that answers ``method path``, if one does:
    the first route that matches, as the router picks it."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for context in iter_route_contexts(app.routes):
        match, _ = context.matches(scope)
        if match is Match.FULL:
            route = context.original_route
            if isinstance(route, APIRoute) and context.include_in_schema:
                return str(context.path_format)
            return None
    return None


def undeclared(app: Any, response: httpx.Response) -> str | None:
    """Why ``response`` is not an answer the schema declares, or None."""
    request = response.request
    if request.method in ("HEAD", "OPTIONS"):
        return None
    path = operation_of(app, request.method, request.url.path)
    if path is None:
        return None
    code = None
    if response.status_code >= 400:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return f"{request.method} {path} answered {response.status_code} without ErrorOut"
    return contract_of(app).undeclared(path, request.method, response.status_code, code)


def checking(app: Any) -> Any:
    """An httpx response hook failing the request whose answer the schema does not declare."""

    async def check(response: httpx.Response) -> None:
        await response.aread()
        problem = undeclared(app, response)
        assert problem is None, f"not in /openapi.json: {problem}"

    return check
