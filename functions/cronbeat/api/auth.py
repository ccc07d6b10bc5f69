"""Who is calling: the API key from `X-Api-Key` (or, on POST, the body's `api_key`), checked.

As on Healthchecks.io: a key that is not 32 characters is "missing", an unknown key is "wrong",
and a read-only key on a write endpoint is "wrong" too (it is not a read-write key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from cronbeat import clock, runtime
from cronbeat.api.errors import MISSING_KEY, WRONG_KEY, Unauthorized, posted_object
from cronbeat.api.requests import API_VERSION, base_url
from cronbeat.api.shapes import View
from cronbeat.store.keys import KEY_LENGTH, ApiKeyStore


@dataclass(frozen=True, slots=True)
class Caller:
    prefix: str
    read_only: bool


def presented_key(headers: Mapping[str, str], method: str, json_body: Any) -> str:
    """The key the request carries; the header wins, as on Healthchecks.io."""
    for name, value in headers.items():
        if name.lower() == "x-api-key":
            return value
    if method == "POST" and isinstance(json_body, dict):
        value = json_body.get("api_key", "")
        return value if isinstance(value, str) else str(value)
    return ""


def authenticate(keys: ApiKeyStore, key: str, *, write: bool) -> Caller:
    """The caller behind `key`, or Unauthorized with Healthchecks.io's message."""
    if len(key) != KEY_LENGTH:
        raise Unauthorized(MISSING_KEY)
    record = keys.authenticate(key)
    if record is None or (write and record.read_only):
        raise Unauthorized(WRONG_KEY)
    return Caller(prefix=record.prefix, read_only=record.read_only)


WRITE_METHODS = frozenset({"POST", "DELETE"})
"""Every POST and DELETE route changes something and needs the read-write key; GET reads."""


def request_view(app: BaseRouter) -> View:
    """The checked caller's view of the current request, worked out once per request.

    The route middleware asks first, unless Powertools' validation of the parameters failed
    before it ran; then the error handler asks, to rank a key problem above a field problem.
    """
    view: View | None = app.context.get("view")
    if view is None:
        event = app.current_event
        method = event.http_method.upper()
        stores = runtime.stores()
        key = presented_key(event.headers, method, posted_object(event))
        caller = authenticate(stores.keys, key, write=method in WRITE_METHODS)
        base = base_url(stores.settings.base_url, event.headers)
        version = int(event.raw_event.get(API_VERSION, 3))
        view = View(caller.read_only, clock.now_ms(), base, version)
        app.context["view"] = view
    return view


def authorized(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware: only a valid key (read-write for POST and DELETE) reaches the route."""
    request_view(app)
    return next_middleware(app)
