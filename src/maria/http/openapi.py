"""What ``/openapi.json`` promises clients beyond FastAPI's defaults: stable operation ids,
summaries, examples, every refusal an operation can answer, and its security.

Routes state what only they know, with ``doc(...)`` in their decorator: an ``operationId``
written out (clients generate names from it, so it never follows a renamed function), a
summary, and the errors their services raise, named by the ``ApiError``s themselves.
What routes of a kind share, ``install`` adds from what each route *is*, so it cannot
drift from the code that answers: a signed-in route (it depends on ``signed_in``) may
answer 401, and 403 ``csrf_failed`` on unsafe methods; an admin route 403; a route that
reads a body 400 and 422, one with constrained parameters 422; every route 413 and 431
(the body's and the head's limits hold for every request) and, but for the few that
answer from memory, 503. Each error response names the codes it can carry: one
``<Code>Error`` schema each (``ErrorOut`` with that ``error.code``), and an example each.

The schema is built once, at the first ``GET /openapi.json``: nothing here runs per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from typing import Any, cast, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from maria.errors import (
    ApiError,
    CsrfFailed,
    Forbidden,
    HeadersTooLarge,
    InvalidToken,
    NotAuthenticated,
    PayloadTooLarge,
    TokenExpired,
    Unavailable,
    ValidationFailed,
)
from maria.http.deps import PASSWORD_GRANT, maybe_signed_in, require_admin, signed_in
from maria.http.errors import ErrorOut, error_body
from maria.http.identity import API_PREFIX, SIGN_IN_PREFIX
from maria.http.transport import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE, SAFE_METHODS

JSON = "application/json"
REF = "#/components/schemas/"
Responses = dict[int | str, dict[str, Any]]
Security = list[dict[str, list[str]]]
Refusal = ApiError | type[ApiError]
_FROM_MEMORY = "x-maria-from-memory"  # doc(outage=False); removed from the published schema

# -- security schemes ---------------------------------------------------------------------

BEARER, COOKIE, CSRF, REFRESH = "bearerAuth", "cookieAuth", "csrfHeader", "refreshCookie"
SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "The access token (a JWT) of a sign-in, a registration or a refresh, in "
            "`Authorization: Bearer <token>`: for apps that keep tokens in memory, scripts "
            "and other services. It wins over cookies when both are sent; a refused one is "
            "answered 401 before routing (except under `/api/v1/auth/`)."
        ),
    },
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": ACCESS_COOKIE,
        "description": (
            f"Browsers: the HttpOnly `{ACCESS_COOKIE}` cookie every sign-in and refresh sets "
            f"(with `{REFRESH_COOKIE}`, sent only to `/api/v1/auth`, and the readable "
            f"`{CSRF_COOKIE}`). Enough on its own for GET; POST, PUT, PATCH and DELETE also "
            "need `csrfHeader`."
        ),
    },
    CSRF: {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": (
            f"Double-submit CSRF token: the value of the `{CSRF_COOKIE}` cookie, echoed in "
            "`X-CSRF-Token` on every unsafe request authenticated by cookie (and on a "
            "refresh by cookie). Missing or wrong: 403 `csrf_failed`. Not needed with a "
            "bearer token."
        ),
    },
    REFRESH: {
        "type": "apiKey",
        "in": "cookie",
        "name": REFRESH_COOKIE,
        "description": (
            f"The HttpOnly `{REFRESH_COOKIE}` cookie (`Path=/api/v1/auth`): "
            "`POST /api/v1/auth/refresh` without a body rotates it, with `csrfHeader`. "
            "Clients that hold the refresh token send it in the body instead."
        ),
    },
}


def _signed_in_security(method: str) -> Security:
    """A bearer token, or the access cookie (with the CSRF header on unsafe methods)."""
    cookie: dict[str, list[str]] = {COOKIE: []}
    if method not in SAFE_METHODS:
        cookie[CSRF] = []
    return [{BEARER: []}, {PASSWORD_GRANT: []}, cookie]


# The refresh cookie with the CSRF header, or nothing (the refresh token in the body).
REFRESH_SECURITY: Security = [{REFRESH: [], CSRF: []}, {}]

# -- what each error code means (docs/api.md, "Errors") -------------------------------------

MEANINGS = {
    "bad_request": "the body could not be read at all (e.g. not UTF-8)",
    "invalid_credentials": "wrong email, password or code",
    "token_expired": "the access token is past its `exp`: refresh and retry",
    "invalid_token": "a token, link or session that was refused (bad signature, revoked, "
    "unknown, an account that no longer exists)",
    "not_authenticated": "no credentials where they are needed",
    "forbidden": "not allowed (not an admin, not the host; at sign-in, a disabled account)",
    "csrf_failed": "a cookie-authenticated unsafe request without the right `X-CSRF-Token`",
    "not_found": "no such resource",
    "conflict": "the request contradicts the current state",
    "payload_too_large": "the body is over the limit (1 MiB unless stated)",
    "headers_too_large": "the request line and headers exceed 16 KiB (from `maria serve`)",
    "validation_error": "the request does not fit the schema (`details` says where), or one "
    "of the rules no schema states: `details[].type` is `password_policy`, `image` or `cursor`",
    "rate_limited": "a limit was reached; `Retry-After` says in how many seconds to retry",
    "unavailable": "the database (or another dependency) is unreachable: retry later",
    "invite_expired": "the room invite has expired",
    "invite_revoked": "the room invite was revoked",
    "invite_used": "the single-use room invite was redeemed by someone else",
}
# The 422s for what a request says rather than how it is shaped: named in ``details[].type``.
SEMANTIC = ("password_policy", "image", "cursor")
RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}

# The refusals routes of a kind share (messages as the server sends them).
_UNREADABLE = ApiError("There was an error parsing the body")
_INVALID = ValidationFailed(
    details=[{"loc": ["body", "email"], "msg": "Field required", "type": "missing"}]
)
_OUTAGE = Unavailable("The database is unavailable")
_SIGNED_IN = (NotAuthenticated(), InvalidToken("Bad token signature"), TokenExpired())
_TOKEN_REFUSED = (InvalidToken("Bad token signature"), TokenExpired())


def _example(error: Refusal) -> tuple[int, str, dict[str, Any]]:
    """The status, the example's name (the code, or the ``type`` of a 422's rule that no
    schema states) and the example of an error."""
    details = None if isinstance(error, type) else error.details
    name = error.code
    if details and isinstance(details[0], dict) and details[0].get("type") in SEMANTIC:
        name = details[0]["type"]
    body = error_body(error.code, error.message, details)
    return error.status, name, {"summary": error.message, "value": body}


def refusals(*errors: Refusal) -> Responses:
    """The error answers of ``errors`` as FastAPI ``responses``: one per status, and one
    example per code or per rule of a semantic 422 (the first error of each gives it)."""
    responses: Responses = {}
    for error in errors:
        status, name, example = _example(error)
        entry = responses.setdefault(status, {"content": {JSON: {"examples": {}}}})
        entry["content"][JSON]["examples"].setdefault(name, example)
    return responses


def doc(
    operation_id: str,
    summary: str,
    *errors: Refusal,
    responses: Responses | None = None,
    example: Any = None,
    security: Security | None = None,
    outage: bool = True,
) -> dict[str, Any]:
    """A route decorator's keywords that describe its operation: ``operation_id`` (stable,
    camelCase: part of the contract), ``summary``, the ``errors`` its services raise beyond
    those ``install`` derives, other ``responses``, an ``example`` of a 200 body that has no
    model to carry one, ``security`` when it is not derived from the route's dependencies,
    and ``outage=False`` for the few operations that never reach a database."""
    refused = refusals(*errors)
    assert not refused.keys() & (responses or {}).keys(), "one entry per status"
    extra: dict[str, Any] = {}
    if example is not None:
        extra["responses"] = {"200": {"content": {JSON: {"example": example}}}}
    if security is not None:
        extra["security"] = security
    if not outage:
        extra[_FROM_MEMORY] = True
    return {
        "operation_id": operation_id,
        "summary": summary,
        "responses": {**refused, **(responses or {})},
        "openapi_extra": extra or None,
    }


# -- completing FastAPI's schema --------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Serve FastAPI's schema completed by ``complete`` (built once, then kept)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            try:
                complete(schema, app.routes)
            except BaseException:
                app.openapi_schema = None
                raise
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], routes: list[Any]) -> None:
    components = schema.setdefault("components", {})
    definitions = components.setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template=REF + "{model}")
    definitions.update(error_schema.pop("$defs", {}))
    definitions["ErrorOut"] = error_schema
    components["securitySchemes"] = {**components.get("securitySchemes", {}), **SCHEMES}
    models: set[type[BaseModel]] = set()
    codes_used: set[str] = set()
    for context in iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            # The route as included (prefix, the router's dependencies), as FastAPI sees it.
            route = cast(APIRoute, context)
            for method in sorted(route.methods or ()):
                operation = schema["paths"][route.path_format][method.lower()]
                _complete(operation, route, method, codes_used)
            for field in (route.body_field, route.response_field, *route.response_fields.values()):
                if field is not None:
                    _collect_models(field.field_info.annotation, models)
    for unused in ("HTTPValidationError", "ValidationError"):
        definitions.pop(unused, None)
    for code in sorted(codes_used):
        assert error_schema_name(code) not in definitions, f"{code}: a model has its name"
        definitions[error_schema_name(code)] = _error_schema(code)
    # FastAPI drops every null from the document, also inside examples: put them back.
    for model in models:
        extra = model.model_config.get("json_schema_extra")
        if isinstance(extra, dict) and "examples" in extra and model.__name__ in definitions:
            definitions[model.__name__]["examples"] = deepcopy(extra["examples"])


def _collect_models(annotation: Any, found: set[type[BaseModel]]) -> None:
    """The pydantic models in ``annotation`` and in their fields, recursively."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _collect_models(field.annotation, found)
        return
    for argument in get_args(annotation):
        _collect_models(argument, found)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _refusals_of(route: APIRoute, method: str, operation: dict[str, Any]) -> list[Refusal]:
    """What every route of this route's kind may answer (see the module's docstring)."""
    calls = set(_calls(route.dependant))
    unsafe = method not in SAFE_METHODS
    found: list[Refusal] = []
    if signed_in in calls:
        found += _SIGNED_IN
    elif maybe_signed_in in calls or (
        route.path.startswith(API_PREFIX) and not route.path.startswith(SIGN_IN_PREFIX)
    ):
        found += _TOKEN_REFUSED  # a bearer token, if sent, is checked before routing
    if unsafe and (signed_in in calls or maybe_signed_in in calls):
        found.append(CsrfFailed())
    if require_admin in calls:
        found.append(Forbidden("Admins only"))
    found.append(PayloadTooLarge())  # ``BodyLimit`` measures every request's body
    found.append(HeadersTooLarge())  # and ``maria serve`` every request's head
    if route.body_field is not None:
        found.append(_UNREADABLE)
    if route.body_field is not None or any(map(_constrained, operation.get("parameters", []))):
        found.append(_INVALID)
    if not operation.pop(_FROM_MEMORY, False):
        found.append(_OUTAGE)
    return found


def _constrained(parameter: dict[str, Any]) -> bool:
    """Whether a parameter can be refused: a required query, header or cookie one, or any
    of a type or with a rule beyond "some text"."""
    if parameter.get("required") and parameter["in"] != "path":
        return True
    schema = parameter.get("schema", {})
    for option in schema.get("anyOf", [schema]):
        rules = set(option) - {"title", "description", "examples"}
        if rules != {"type"} or option["type"] not in ("string", "null"):
            return True
    return False


def _complete(
    operation: dict[str, Any], route: APIRoute, method: str, codes_used: set[str]
) -> None:
    responses: dict[str, Any] = operation["responses"]
    generated_422 = responses.get("422", {}).get("content", {}).get(JSON, {}).get("schema", {})
    if generated_422.get("$ref") == REF + "HTTPValidationError":
        del responses["422"]  # FastAPI's own, for any parameter; ours come from the rules
    for status, entry in refusals(*_refusals_of(route, method, operation)).items():
        examples = entry["content"][JSON]["examples"]
        known = responses.setdefault(str(status), {}).setdefault("content", {})
        known.setdefault(JSON, {}).setdefault("examples", {})
        for name, example in examples.items():
            known[JSON]["examples"].setdefault(name, example)
    for status, response in responses.items():
        if status[0] in "45":
            _error_response(status, response, codes_used)
    operation["responses"] = dict(sorted(responses.items()))
    example = (route.openapi_extra or {}).get("responses", {}).get("200")
    if example is not None:  # restored with its nulls (see ``complete``)
        responses["200"]["content"][JSON]["example"] = deepcopy(example["content"][JSON]["example"])
    if not (route.openapi_extra and "security" in route.openapi_extra):
        calls = set(_calls(route.dependant))
        if signed_in in calls:
            operation["security"] = _signed_in_security(method)
        elif maybe_signed_in in calls:
            operation["security"] = [{}, *_signed_in_security(method)]
        else:
            operation["security"] = []


def error_schema_name(code: str) -> str:
    """The component of the errors of one code: ``invalid_token`` -> ``InvalidTokenError``."""
    name = "".join(part.title() for part in code.split("_"))
    return name if name.endswith("Error") else name + "Error"


def _error_schema(code: str) -> dict[str, Any]:
    """``ErrorOut`` with ``error.code`` fixed to ``code``."""
    return {
        "title": error_schema_name(code),
        "description": MEANINGS.get(code, code),
        "allOf": [
            {"$ref": REF + "ErrorOut"},
            {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code"],
                        "properties": {"code": {"type": "string", "const": code}},
                    }
                },
            },
        ],
    }


def _error_response(status: str, response: dict[str, Any], codes_used: set[str]) -> None:
    """One of the ``<Code>Error`` schemas of the response's examples' codes, with a
    description saying what each means."""
    media = response["content"][JSON]
    codes = sorted({example["value"]["error"]["code"] for example in media["examples"].values()})
    codes_used.update(codes)
    refs = [{"$ref": REF + error_schema_name(code)} for code in codes]
    media["schema"] = refs[0] if len(refs) == 1 else {"oneOf": refs}
    response["description"] = "; ".join(f"`{code}`: {MEANINGS.get(code, code)}" for code in codes)
    if status in ("429", "503"):
        headers = response.setdefault("headers", {})
        headers["Retry-After"] = {**deepcopy(RETRY_AFTER), "required": status == "429"}
