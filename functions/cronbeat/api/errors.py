"""Errors of the management API, worded and ordered as Healthchecks.io words and orders them.

Healthchecks.io answers a bad body with 400 `{"error": "json validation error: <field> <problem>"}`
for the first problem it finds; these tables turn pydantic's error types into those words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from cronbeat.api.headers import allow_header

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
    "cron_syntax": "is not a valid cron or OnCalendar expression",
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
NOT_PAUSED = "check is not paused"
"""Healthchecks.io answers a resume of a running check with this text, as text/plain."""
TEXT = "text/plain; charset=utf-8"


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


class MethodNotAllowed(ApiError):
    """405, with the methods the URL does take (sent as `Allow`, OPTIONS included)."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(405, "method not allowed")
        self.allowed = allowed


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


def posted_object(event: BaseProxyEvent) -> dict[str, Any]:
    """A POST's JSON body, checked before the key as Healthchecks.io checks it: an unreadable
    body, or JSON that is not an object, is a 400. Empty when there is no body."""
    if event.http_method.upper() != "POST" or not event.body:
        return {}
    try:
        posted = json.loads(event.decoded_body or "")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest(UNPARSABLE) from None
    if not isinstance(posted, dict):
        raise BadRequest(NOT_AN_OBJECT)
    return posted


def reply(status: int, message: str) -> Response[Any]:
    if message == NOT_PAUSED:
        return Response(status, TEXT, message)
    return Response(status, content_types.APPLICATION_JSON, json.dumps({"error": message}))


def install(
    app: APIGatewayHttpResolver,
    *,
    check_key: Callable[[], object],
    allowed_methods: Callable[[str], list[str]],
) -> None:
    """Make `app` refuse requests in Healthchecks.io's words and order.

    The order is: a body that is unreadable or not an object, then the key (`check_key`), then
    the first bad field. Powertools validates fields before route middleware runs, so a field
    problem asks for the key's verdict first.
    """

    def _refused(error: ApiError) -> Response[Any]:
        response = reply(error.status, error.message)
        if isinstance(error, MethodNotAllowed):
            response.headers["Allow"] = allow_header(error.allowed)
        return response

    def _invalid(error: RequestValidationError) -> Response[Any]:
        message = first_problem(error.errors())
        if message != UNPARSABLE:
            try:
                check_key()
            except ApiError as refused:
                return reply(refused.status, refused.message)
        return reply(400, message)

    def _undecodable(_: UnicodeDecodeError) -> Response[Any]:
        return reply(400, UNPARSABLE)

    def _unreadable(error: Exception) -> Response[Any]:
        """What Powertools' body parsing lets through: JSON nested deeper than the parser goes,
        or an integer too long to convert, is unreadable. Anything else is a bug, raised again."""
        try:
            posted_object(app.current_event)
        except BadRequest as refused:
            return reply(refused.status, refused.message)
        raise error

    def _no_route(_: NotFoundError) -> Response[Any]:
        """405 with `Allow` when the path exists under other methods, else 404."""
        allowed = allowed_methods(app.current_event.path)
        if not allowed:
            return reply(404, "not found")
        response = reply(405, "method not allowed")
        response.headers["Allow"] = allow_header(allowed)
        return response

    app.exception_handler(ApiError)(_refused)
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(UnicodeDecodeError)(_undecodable)
    app.exception_handler([RecursionError, ValueError])(_unreadable)
    app.not_found(_no_route)
