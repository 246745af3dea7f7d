"""Server frames checked against the published AsyncAPI document.

``check_server_frame`` validates a received frame with the JSON Schema the document gives
its ``type`` (found through the document's own messages, not the Python models). Objects
are closed for this check (``additionalProperties: false`` wherever a schema lists
``properties``): a field the server sends but the document does not describe is drift
too. ``tests/support/rooms.Peer`` and the fuzz socket run every frame they receive
through it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import jsonschema_rs

from maria.rooms.asyncapi import document

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """The target of a local ``$ref`` (``#/a/b``) in ``doc``; KeyError if it has none."""
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _closed(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _closed(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


def payload_schemas(operation: str) -> dict[str, str]:
    """Frame type -> the ``$ref`` of its payload schema, for the messages of ``operation``."""
    doc = document()
    found = {}
    for reference in doc["operations"][operation]["messages"]:
        message = resolve(doc, resolve(doc, reference["$ref"])["$ref"])
        ref = message["payload"]["$ref"]
        found[resolve(doc, ref)["properties"]["type"]["const"]] = ref
    return found


@functools.cache
def validator(ref: str, *, closed: bool = False) -> Any:
    """A draft-07 validator (AsyncAPI 3's default schema format is a superset of draft 07)
    for the schema at ``ref``, whose own ``$ref``s resolve in the document."""
    components = copy.deepcopy(document()["components"])
    schema = {"$schema": DRAFT_07, "allOf": [{"$ref": ref}], "components": components}
    return jsonschema_rs.validator_for(_closed(schema) if closed else schema, validate_formats=True)


def _server_validators() -> dict[str, Any]:
    return {
        kind: validator(ref, closed=True)
        for kind, ref in payload_schemas("sendServerFrame").items()
    }


def check_server_frame(frame: Any) -> None:
    """AssertionError unless ``frame`` is what the document says a server frame of its
    type is."""
    kind = frame.get("type") if isinstance(frame, dict) else None
    validators = _server_validators()
    assert kind in validators, f"a server frame of no documented type: {frame!r:.300}"
    errors = [f"{e.instance_path}: {e.message}" for e in validators[kind].iter_errors(frame)]
    assert not errors, f"{kind} frame against /asyncapi.json: {errors} in {frame!r:.500}"
