"""The OpenAPI document Powertools generates, corrected to the replies the API really sends.

Powertools documents its own 422 validation reply; this API answers 400 with Healthchecks.io's
`{"error": ...}` instead, 401 for a missing or wrong key, and 404 for an unknown check.
"""

from __future__ import annotations

from typing import Any

from cronbeat.api.models import ErrorOut
from cronbeat.api.shapes import API_PREFIX

POWERTOOLS_ONLY = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
UNAUTHENTICATED = {f"{API_PREFIX}/status/"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def as_served(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the 422 replies replaced by the 400, 401 and 404 this API sends."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if path in UNAUTHENTICATED:
                operation["security"] = []
                continue
            responses["400"] = _error("Invalid request, worded as Healthchecks.io words it.")
            responses["401"] = _error("`missing api key` or `wrong api key`.")
            if "{" in path:
                responses["404"] = _error("No such check or channel.")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in POWERTOOLS_ONLY:
        schemas.pop(name, None)
    schemas["ErrorOut"] = ErrorOut.model_json_schema()
    return document
