"""HTTP API (payload v2) → the management API v3, compatible with Healthchecks.io, and `GET /`.

Each route authenticates, calls one operation of `cronbeat.api`, and shapes the reply.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import (
    APIKey,
    Server,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import clock, runtime
from cronbeat.api import dashboard, openapi
from cronbeat.api.auth import Caller, authenticate, presented_key
from cronbeat.api.errors import (
    NOT_AN_OBJECT,
    UNPARSABLE,
    ApiError,
    BadRequest,
    NotFound,
    first_problem,
)
from cronbeat.api.models import (
    ChannelCreated,
    ChannelList,
    ChannelOut,
    ChannelSpec,
    CheckList,
    CheckOut,
    CheckSpec,
    FlipList,
    PingList,
)
from cronbeat.api.requests import base_url, canonical_event
from cronbeat.api.shapes import API_PREFIX, View, channel_out, check_out, flip_out, ping_out
from cronbeat.domain.model import MAX_PERIOD_S, SECOND_MS
from cronbeat.service.channels import channel_from_spec, delete_channel
from cronbeat.service.checks import NOT_PAUSED, CheckService
from cronbeat.stores import Stores

V3 = API_PREFIX
TEXT = "text/plain; charset=utf-8"
LATEST_S = 9_999_999_999
"""The latest `start`/`end` a flips query takes: flip keys hold 13-digit millisecond times."""

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
app = APIGatewayHttpResolver(
    enable_validation=True,
    cors=CORSConfig(allow_origin="*", allow_headers=["X-Api-Key"], max_age=600),
)


# -- request context ----------------------------------------------------------------------


def _stores() -> Stores:
    return runtime.stores()


def _posted_object() -> dict[str, Any]:
    """A POST's JSON body, checked before the key as Healthchecks.io checks it: an unreadable
    body, or JSON that is not an object, is a 400. Empty when there is no body."""
    event = app.current_event
    if event.http_method.upper() != "POST" or not event.body:
        return {}
    try:
        posted = json.loads(event.decoded_body or "")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest(UNPARSABLE) from None
    if not isinstance(posted, dict):
        raise BadRequest(NOT_AN_OBJECT)
    return posted


def _caller(stores: Stores, *, write: bool) -> Caller:
    event = app.current_event
    key = presented_key(event.headers, event.http_method.upper(), _posted_object())
    return authenticate(stores.keys, key, write=write)


def _authorised(*, write: bool) -> tuple[Stores, View]:
    """Authenticate the request's key: the stores, and the view its replies are shaped for."""
    stores = _stores()
    caller = _caller(stores, write=write)
    view = View(
        caller.read_only,
        clock.now_ms(),
        base_url(stores.settings.base_url, app.current_event.headers),
    )
    return stores, view


def _error(status: int, message: str) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps({"error": message}))


# -- errors -------------------------------------------------------------------------------


def _refused(error: ApiError) -> Response[Any]:
    if error.message == NOT_PAUSED:
        return Response(error.status, TEXT, error.message)
    return _error(error.status, error.message)


def _invalid(error: RequestValidationError) -> Response[Any]:
    """Healthchecks.io's order: a body that is unreadable or not an object, then the key, then
    the first bad field."""
    message = first_problem(error.errors())
    if message != UNPARSABLE:
        write = app.current_event.http_method.upper() in ("POST", "DELETE")
        try:
            _caller(_stores(), write=write)
        except ApiError as refused:
            return _error(refused.status, refused.message)
    return _error(400, message)


def _undecodable(_: UnicodeDecodeError) -> Response[Any]:
    return _error(400, UNPARSABLE)


def _unreadable(error: Exception) -> Response[Any]:
    """What Powertools' body parsing lets through: JSON nested deeper than the parser goes, or an
    integer too long to convert, is an unreadable body. Anything else is a bug, raised again."""
    try:
        _posted_object()
    except BadRequest as refused:
        return _error(refused.status, refused.message)
    raise error


app.exception_handler(ApiError)(_refused)
app.exception_handler(RequestValidationError)(_invalid)
app.exception_handler(UnicodeDecodeError)(_undecodable)
app.exception_handler([RecursionError, ValueError])(_unreadable)


def _no_route(_: NotFoundError) -> Response[Any]:
    """405 with `Allow` when the path exists under other methods, else 404."""
    path = app.current_event.path
    allowed = sorted(
        {r.method for r in app._static_routes + app._dynamic_routes if r.rule.match(path)}
    )
    if allowed:
        response = _error(405, "method not allowed")
        response.headers["Allow"] = ", ".join([*allowed, "OPTIONS"])
        return response
    return _error(404, "not found")


app.not_found(_no_route)


# -- pages --------------------------------------------------------------------------------


@app.get("/", cors=False, include_in_schema=False)
def dashboard_page() -> Response[str]:
    page = dashboard.page()
    return Response(200, "text/html; charset=utf-8", page.html, headers=dashboard.headers(page))


@app.get(f"{V3}/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi_document())


@app.get(f"{V3}/status/", summary="Answers OK when the API can reach DynamoDB (no key).")
def status() -> Response[str]:
    stores = _stores()
    if not (stores.checks.reachable() and stores.history.reachable()):
        return Response(503, TEXT, "DynamoDB is unreachable")
    return Response(200, TEXT, "OK")


# -- checks -------------------------------------------------------------------------------


@app.get(f"{V3}/checks/", summary="List checks, optionally by tags (all must match) and slug.")
def list_checks(
    tag: Annotated[list[str] | None, Query()] = None,
    slug: Annotated[str | None, Query(max_length=100)] = None,
) -> CheckList:
    stores, view = _authorised(write=False)
    checks = CheckService(stores, now_ms=view.now_ms).find(tags=tag or [], slug=slug)
    return CheckList(checks=[check_out(check, view) for check in checks])


@app.post(
    f"{V3}/checks/",
    summary="Create a check (201), or update the one `unique` matches (200).",
    responses={
        200: {"description": "An existing check matched `unique` and was updated."},
        201: {"description": "Created."},
    },
)
def create_check(spec: Annotated[CheckSpec, Body()] = CheckSpec()) -> Response[CheckOut]:  # noqa: B008
    stores, view = _authorised(write=True)
    check, created = CheckService(stores, now_ms=view.now_ms).create(spec)
    return Response(201 if created else 200, content_types.APPLICATION_JSON, check_out(check, view))


@app.get(f"{V3}/checks/<check>", summary="One check, by uuid or (read-only) unique_key.")
def get_check(check: str) -> CheckOut:
    stores, view = _authorised(write=False)
    found = CheckService(stores, now_ms=view.now_ms).get(check)
    return check_out(found, view)


@app.post(f"{V3}/checks/<check>", summary="Update a check: fields left out keep their value.")
def update_check(check: str, spec: Annotated[CheckSpec, Body()] = CheckSpec()) -> CheckOut:  # noqa: B008
    stores, view = _authorised(write=True)
    return check_out(CheckService(stores, now_ms=view.now_ms).update(check, spec), view)


@app.delete(f"{V3}/checks/<check>", summary="Delete a check; returns it as it was.")
def delete_check(check: str) -> CheckOut:
    stores, view = _authorised(write=True)
    return check_out(CheckService(stores, now_ms=view.now_ms).delete(check), view)


@app.post(f"{V3}/checks/<check>/pause", summary="Pause a check (idempotent, alerts no one).")
def pause_check(check: str) -> CheckOut:
    stores, view = _authorised(write=True)
    return check_out(CheckService(stores, now_ms=view.now_ms).pause(check), view)


@app.post(
    f"{V3}/checks/<check>/resume",
    summary="Resume a paused check as new; 409 `check is not paused` otherwise.",
    responses={200: {"description": "Resumed."}, 409: {"description": "check is not paused"}},
)
def resume_check(check: str) -> CheckOut:
    stores, view = _authorised(write=True)
    return check_out(CheckService(stores, now_ms=view.now_ms).resume(check), view)


# -- history ------------------------------------------------------------------------------


@app.get(
    f"{V3}/checks/<check>/pings/",
    summary="The check's latest pings, newest first (uuid or unique_key).",
)
def list_pings(check: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> PingList:
    stores, view = _authorised(write=False)
    found = CheckService(stores, now_ms=view.now_ms).get(check)
    pings = stores.history.pings(found.id, limit=limit)
    return PingList(pings=[ping_out(found, ping, view) for ping in pings])


@app.get(
    f"{V3}/checks/<check>/pings/<n>/body",
    summary="A ping's stored body as text/plain; 404 when there is none.",
    responses={200: {"description": "The body.", "content": {"text/plain": {}}}},
    # Its bytes go out as they came in; validating the reply would insist they are UTF-8.
    enable_validation=False,
)
def ping_body(check: str, n: str) -> Response[Any]:
    stores = _stores()
    _caller(stores, write=False)
    if not n.isascii() or not n.isdigit() or len(n) > 10:
        raise NotFound()
    found = CheckService(stores, now_ms=clock.now_ms()).get(check)
    body = stores.history.ping_body(found.id, int(n))
    if body is None:
        raise NotFound()
    try:
        return Response(200, TEXT, body.decode("utf-8"))
    except UnicodeDecodeError:
        return Response(200, TEXT, body)


@app.get(
    f"{V3}/checks/<check>/flips/",
    summary="The check's status changes, newest first (uuid or unique_key).",
)
def list_flips(
    check: str,
    seconds: Annotated[int | None, Query(ge=0, le=MAX_PERIOD_S)] = None,
    start: Annotated[int | None, Query(ge=0, le=LATEST_S)] = None,
    end: Annotated[int | None, Query(ge=0, le=LATEST_S)] = None,
) -> FlipList:
    stores = _stores()
    _caller(stores, write=False)
    now_ms = clock.now_ms()
    found = CheckService(stores, now_ms=now_ms).get(check)
    since_ms = [t * SECOND_MS for t in (start,) if t is not None]
    if seconds is not None:
        since_ms.append(now_ms - seconds * SECOND_MS)
    flips = stores.history.flips(
        found.id,
        start_ms=max(since_ms) if since_ms else None,
        end_ms=end * SECOND_MS if end is not None else None,
    )
    return FlipList(flips=[flip_out(flip) for flip in flips])


# -- channels -----------------------------------------------------------------------------


@app.get(f"{V3}/channels/", summary="The notification channels (no secrets).")
def list_channels() -> ChannelList:
    stores = _stores()
    _caller(stores, write=False)
    return ChannelList(channels=[channel_out(c) for c in stores.channels.all()])


@app.post(
    f"{V3}/channels/",
    summary="Add a webhook, slack, discord or telegram channel (cronbeat).",
    responses={201: {"description": "Created; a generated webhook secret is shown once."}},
)
def create_channel(spec: Annotated[ChannelSpec, Body()]) -> Response[ChannelCreated]:
    stores = _stores()
    _caller(stores, write=True)
    now_ms = clock.now_ms()
    channel, secret = channel_from_spec(spec, now_ms=now_ms)
    stores.channels.put(channel)
    if spec.attach_all is not False:
        CheckService(stores, now_ms=now_ms).reassign_channel(channel.id, attach=True)
    shown = ChannelCreated(id=channel.id, name=channel.name, kind=channel.kind, secret=secret)
    return Response(201, content_types.APPLICATION_JSON, shown)


@app.delete(f"{V3}/channels/<channel_id>", summary="Delete a channel (cronbeat).")
def remove_channel(channel_id: str) -> ChannelOut:
    stores = _stores()
    _caller(stores, write=True)
    deleted = delete_channel(stores.channels, channel_id)
    CheckService(stores, now_ms=clock.now_ms()).reassign_channel(deleted.id, attach=False)
    return channel_out(deleted)


# -- entry points -------------------------------------------------------------------------


def openapi_document() -> str:
    """The OpenAPI document of these routes, as committed in `openapi.json`."""
    generated = app.get_openapi_json_schema(
        title="cronbeat management API",
        version="3",
        description="Healthchecks.io's Management API v3, plus channels and cronbeat's fields.",
        servers=[Server(url="/")],
        security_schemes={
            "apiKey": APIKey.model_validate({"type": "apiKey", "in": "header", "name": "X-Api-Key"})
        },
        security=[{"apiKey": []}],
    )
    return json.dumps(openapi.as_served(json.loads(generated)), indent=2)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(canonical_event(event), context)
