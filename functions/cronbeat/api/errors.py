"""Errors of the management API, worded as Healthchecks.io words them.

Healthchecks.io answers a bad body with 400 `{"error": "json validation error: <field> <problem>"}`
for the first problem it finds; these tables turn pydantic's error types into those words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PROBLEM = {
    "string_too_long": "is too long",
    "too_long": "is too long",
    "string_too_short": "is too short",
    "too_short": "is too short",
    "string_type": "is not a string",
    "string_pattern_mismatch": "does not match pattern",
    "less_than_equal": "is too large",
    "less_than": "is too large",
    "greater_than_equal": "is too small",
    "greater_than": "is too small",
    "int_type": "is not a number",
    "int_from_float": "is not a number",
    "int_parsing": "is not a number",
    "int_parsing_size": "is too large",
    "bool_type": "is not a boolean",
    "bool_parsing": "is not a boolean",
    "literal_error": "has unexpected value",
    "enum": "has unexpected value",
    "list_type": "is not an array",
    "cron_syntax": "is not a valid cron expression",
    "tz_syntax": "is not a valid timezone",
    "missing": "is missing",
    "model_type": "is not an object",
    "model_attributes_type": "is not an object",
    "dict_type": "is not an object",
}

MISSING_KEY = "missing api key"
WRONG_KEY = "wrong api key"
UNPARSABLE = "could not parse request body"
NOT_AN_OBJECT = "json validation error: value is not an object"


class ApiError(Exception):
    """A request the API refuses, with the status and the one-line reason to send."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NotFound(ApiError):
    def __init__(self, message: str = "not found") -> None:
        super().__init__(404, message)


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message)


class BadRequest(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def _subject(loc: Sequence[Any]) -> str:
    """The field a problem is about; an item of a list is "an item in 'unique'".

    After the field name, pydantic's `loc` may name the union member that failed
    ("constrained-str"), which Healthchecks.io's wording leaves out.
    """
    if not loc:
        return "value"
    name = str(loc[0])
    if any(isinstance(part, int) for part in loc[1:]):
        return f"an item in '{name}'"
    return name


def first_problem(errors: Sequence[Mapping[str, Any]]) -> str:
    """The message for the first validation error: `json validation error: name is too long`.

    `loc` may start with where Powertools found the value ("body", "query"), which is dropped.
    """
    if not errors:
        return "json validation error: value is not valid"
    error = errors[0]
    kind = str(error.get("type", ""))
    loc = list(error.get("loc", ()))
    source = loc.pop(0) if loc and loc[0] in ("body", "query", "path", "header") else "body"
    if kind == "json_invalid":
        return UNPARSABLE
    not_an_object = kind in ("model_attributes_type", "model_type", "missing", "dict_type")
    if source == "body" and not_an_object and (not loc or kind != "missing"):
        return NOT_AN_OBJECT
    problem = PROBLEM.get(kind, "is not valid")
    subject = _subject(loc)
    if source == "body":
        return f"json validation error: {subject} {problem}"
    return f"invalid {source} parameter: {subject} {problem}"
