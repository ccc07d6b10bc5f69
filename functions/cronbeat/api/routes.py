"""The management API v3 routes: each checks the key, makes one service call, shapes the reply.

`route` also records which methods each path takes, so an unknown method on a known path can be
answered 405 with `Allow`, as Healthchecks.io answers it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from cronbeat import clock, runtime
from cronbeat.api import headers
from cronbeat.api.auth import authorized, request_view
from cronbeat.api.errors import BadRequest
from cronbeat.api.models import (
    BadgeList,
    ChannelCreated,
    ChannelDeliveryList,
    ChannelList,
    ChannelOut,
    ChannelSpec,
    ChannelUpdate,
    CheckList,
    CheckOut,
    CheckSpec,
    FlipList,
    KeyOut,
    MuteSpec,
    PingList,
    ScheduleOut,
    TestAlertOut,
)
from cronbeat.api.schedule_words import next_fires, schedule_text
from cronbeat.api.shapes import API_PREFIX as V3
from cronbeat.api.shapes import (
    channel_delivery_out,
    channel_out,
    check_out,
    flip_out,
    ping_out,
)
from cronbeat.channels.sns import TopicSubscriptions
from cronbeat.domain.channel import Channel
from cronbeat.domain.errors import DomainError
from cronbeat.domain.model import MAX_PERIOD_S
from cronbeat.domain.schedule import validate_schedule, zone
from cronbeat.service import channels
from cronbeat.service.badges import Badge, BadgeService, split_file
from cronbeat.service.checks import CheckService
from cronbeat.service.notify import TEST_PK
from cronbeat.store.queue import DeliveryQueue

LATEST_S = 9_999_999_999
"""The latest `start`/`end` a flips query takes: flip keys hold 13-digit millisecond times."""
Route = TypeVar("Route", bound=Callable[..., Any])
router = Router()  # type: ignore[no-untyped-call]
_methods: dict[str, set[str]] = {}
_patterns: dict[str, re.Pattern[str]] = {}


def route(
    method: str, rule: str, *, on: BaseRouter = router, key: bool = True, **options: Any
) -> Callable[[Route], Route]:
    """Register a route on `on`; unless `key=False`, only a valid API key reaches it."""
    _methods.setdefault(rule, set()).add(method)
    _patterns.setdefault(rule, re.compile("^" + re.sub(r"<\w+>", "[^/]+", re.escape(rule)) + "$"))
    middlewares = [authorized] if key else []
    return on.route(rule, method, middlewares=middlewares, **options)


def allowed_methods(path: str) -> list[str]:
    return sorted({m for rule, ms in _methods.items() if _patterns[rule].match(path) for m in ms})


_UNIQUE_KEY_CHECK = re.compile(rf"^{V3}/checks/[0-9a-f]{{40}}$")


def cors_headers(path: str) -> dict[str, str]:
    """Healthchecks.io's CORS headers for an API route's every reply, with or without an Origin.

    Its `cors` decorator adds them to answers, refusals and preflights alike; the dashboard page
    is not an API route and gets none.
    """
    public = path.startswith(("/api/", "/badge/", "/b/"))
    allowed = allowed_methods(path) if public else []
    if _UNIQUE_KEY_CHECK.match(path):
        allowed = ["GET"]  # a unique_key URL only reads, as its 405 says
    return headers.cors_headers(allowed) if allowed else {}


def _checks() -> CheckService:
    return CheckService(runtime.stores(), now_ms=request_view(router).now_ms)


@route("GET", f"{V3}/checks/", summary="List checks, optionally by tags (all must match) and slug.")
def list_checks(
    tag: Annotated[list[str] | None, Query()] = None,
    slug: Annotated[str | None, Query(max_length=100)] = None,
) -> CheckList:
    view = request_view(router)
    return CheckList(checks=[check_out(c, view) for c in _checks().find(tags=tag or [], slug=slug)])


@route(
    "POST",
    f"{V3}/checks/",
    summary="Create a check (201), or update the one `unique` matches (200).",
    responses={
        200: {"description": "An existing check matched `unique` and was updated."},
        201: {"description": "Created."},
    },
)
def create_check(spec: Annotated[CheckSpec, Body()] = CheckSpec()) -> Response[CheckOut]:  # noqa: B008
    view = request_view(router)
    check, created = _checks().create(spec.as_of_version(view.version))
    shown = check_out(check, view)
    return Response(201 if created else 200, content_types.APPLICATION_JSON, shown)


@route(
    "GET",
    f"{V3}/key/",
    summary="What the presented API key may do, so a client shows only the controls that work "
    "(cronbeat).",
)
def current_key() -> KeyOut:
    return KeyOut(read_only=request_view(router).read_only)


@route(
    "GET",
    f"{V3}/schedule/",
    summary="A cron or OnCalendar schedule in words, with its next 5 fire times in a zone, to "
    "preview it before a check has it (cronbeat).",
)
def describe_schedule(
    schedule: Annotated[str, Query(min_length=1, max_length=100)],
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> ScheduleOut:
    try:
        validate_schedule(schedule)
    except DomainError:
        raise BadRequest("invalid query parameter: schedule is not a valid schedule") from None
    try:
        zone(tz)
    except DomainError:
        raise BadRequest("invalid query parameter: tz is not a valid timezone") from None
    now_ms = request_view(router).now_ms
    return ScheduleOut(
        schedule_text=schedule_text(schedule), next_fires=next_fires(schedule, tz, now_ms)
    )


@route("GET", f"{V3}/checks/<check>", summary="One check, by uuid or (read-only) unique_key.")
def get_check(check: str) -> CheckOut:
    return check_out(_checks().get(check), request_view(router))


@route("POST", f"{V3}/checks/<check>", summary="Update a check: fields left out keep their value.")
def update_check(check: str, spec: Annotated[CheckSpec, Body()] = CheckSpec()) -> CheckOut:  # noqa: B008
    view = request_view(router)
    return check_out(_checks().update(check, spec.as_of_version(view.version)), view)


@route("DELETE", f"{V3}/checks/<check>", summary="Delete a check; returns it as it was.")
def delete_check(check: str) -> CheckOut:
    return check_out(_checks().delete(check), request_view(router))


@route(
    "POST",
    f"{V3}/checks/<check>/pause",
    summary="Pause a check (idempotent); pausing a down check alerts that it was paused.",
)
def pause_check(check: str) -> CheckOut:
    return check_out(_checks().pause(check), request_view(router))


@route(
    "POST",
    f"{V3}/checks/<check>/resume",
    summary="Resume a paused check as new; 409 `check is not paused` otherwise.",
    responses={200: {"description": "Resumed."}, 409: {"description": "check is not paused"}},
)
def resume_check(check: str) -> CheckOut:
    return check_out(_checks().resume(check), request_view(router))


@route(
    "POST",
    f"{V3}/checks/<check>/mute",
    summary="Mute the check's alerts for `seconds` from now: flips are still recorded, and a check "
    "still down when the mute ends alerts once (cronbeat).",
)
def mute_check(check: str, spec: Annotated[MuteSpec, Body()]) -> CheckOut:
    return check_out(_checks().mute(check, spec.seconds), request_view(router))


@route(
    "POST",
    f"{V3}/checks/<check>/unmute",
    summary="End the check's mute; its maintenance windows still apply (cronbeat).",
)
def unmute_check(check: str) -> CheckOut:
    return check_out(_checks().unmute(check), request_view(router))


@route(
    "GET",
    f"{V3}/checks/<check>/pings/",
    summary="The check's latest pings, newest first (uuid or unique_key); `before=n` pages back "
    "to those numbered below n.",
)
def list_pings(
    check: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=9_999_999_999)] = None,
) -> PingList:
    found, pings = _checks().pings(check, limit=limit, before_n=before)
    return PingList(pings=[ping_out(found, ping, request_view(router)) for ping in pings])


@route(
    "GET",
    f"{V3}/checks/<check>/pings/<n>/body",
    summary="A ping's stored body as text/plain; 404 when there is none.",
    responses={200: {"description": "The body.", "content": {"text/plain": {}}}},
    # Its bytes go out as they came in; validating the reply would insist they are UTF-8.
    enable_validation=False,
)
def ping_body(check: str, n: str) -> Response[Any]:
    body = _checks().ping_body(check, n)
    # As Healthchecks.io sends it: the bytes as stored, with no charset promised.
    content: str | bytes = body
    with contextlib.suppress(UnicodeDecodeError):
        content = body.decode("utf-8")
    return Response(200, "text/plain", content)


@route(
    "GET",
    f"{V3}/checks/<check>/flips/",
    summary="The check's status changes, newest first (uuid or unique_key).",
)
def list_flips(
    check: str,
    seconds: Annotated[int | None, Query(ge=0, le=MAX_PERIOD_S)] = None,
    start: Annotated[int | None, Query(ge=0, le=LATEST_S)] = None,
    end: Annotated[int | None, Query(ge=0, le=LATEST_S)] = None,
) -> FlipList:
    flips = _checks().flips(check, seconds=seconds, start_s=start, end_s=end)
    return FlipList(flips=[flip_out(flip, deliveries) for flip, deliveries in flips])


def _subscriptions() -> TopicSubscriptions | None:
    """The alerts topic's subscriptions, which email and SMS channels are; None without one."""
    topic_arn = runtime.settings().alerts_topic_arn
    return TopicSubscriptions(runtime.sns(), topic_arn) if topic_arn else None


def _channels_out(found: list[Channel]) -> list[ChannelOut]:
    states = channels.subscription_states(found, _subscriptions())
    return [
        channel_out(c, channels.last_delivery(runtime.stores(), c.id), states.get(c.id))
        for c in found
    ]


def _created(channel: Channel, secret: str | None) -> ChannelCreated:
    """The reply to a create or update: the channel as a read shows it, and a shown-once
    secret."""
    [shown] = _channels_out([channel])
    return ChannelCreated(**dict(shown), secret=secret)


@route("GET", f"{V3}/channels/", summary="The notification channels (no secrets).")
def list_channels() -> ChannelList:
    return ChannelList(channels=_channels_out(runtime.stores().channels.all()))


@route("GET", f"{V3}/channels/<channel_id>", summary="One channel, with its last delivery.")
def get_channel(channel_id: str) -> ChannelOut:
    [shown] = _channels_out([channels.get_channel(runtime.stores(), channel_id)])
    return shown


@route(
    "POST",
    f"{V3}/channels/<channel_id>",
    summary="Update a channel's name and settings; it stays on its checks (cronbeat).",
)
def update_channel(
    channel_id: str,
    update: Annotated[ChannelUpdate, Body()] = ChannelUpdate(),  # noqa: B008
) -> ChannelCreated:
    channel, secret = channels.update_channel(
        runtime.stores(), channel_id, update, subscriptions=_subscriptions()
    )
    return _created(channel, secret)


@route(
    "POST",
    f"{V3}/channels/<channel_id>/test",
    summary="Queue a test alert to the channel; follow its delivery (cronbeat).",
    responses={202: {"description": "Queued."}},
)
def test_channel(channel_id: str) -> Response[TestAlertOut]:
    stores = runtime.stores()
    queue = DeliveryQueue(runtime.sqs(), queue_url=stores.settings.deliveries_queue_url)
    record = channels.send_test(stores, channel_id, queue, now_ms=request_view(router).now_ms)
    shown = TestAlertOut(delivery=channel_delivery_out(record, test_pk=TEST_PK, read_only=False))
    return Response(202, content_types.APPLICATION_JSON, shown)


@route(
    "GET",
    f"{V3}/channels/<channel_id>/deliveries/",
    summary="The channel's latest alert deliveries, newest first (cronbeat).",
)
def list_channel_deliveries(
    channel_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> ChannelDeliveryList:
    records = channels.deliveries(runtime.stores(), channel_id, limit=limit)
    read_only = request_view(router).read_only
    return ChannelDeliveryList(
        deliveries=[
            channel_delivery_out(record, test_pk=TEST_PK, read_only=read_only) for record in records
        ]
    )


@route(
    "POST",
    f"{V3}/channels/",
    summary="Add a channel of any kind: webhook, chat, paging, push, email or SMS (cronbeat).",
    responses={201: {"description": "Created; a generated webhook secret is shown once."}},
)
def create_channel(spec: Annotated[ChannelSpec, Body()]) -> Response[ChannelCreated]:
    now_ms = request_view(router).now_ms
    channel, secret = channels.create_channel(
        runtime.stores(), spec, now_ms=now_ms, subscriptions=_subscriptions()
    )
    return Response(201, content_types.APPLICATION_JSON, _created(channel, secret))


@route("DELETE", f"{V3}/channels/<channel_id>", summary="Delete a channel (cronbeat).")
def remove_channel(channel_id: str) -> ChannelOut:
    now_ms = request_view(router).now_ms
    deleted = channels.delete_channel(
        runtime.stores(), channel_id, now_ms=now_ms, subscriptions=_subscriptions()
    )
    return channel_out(deleted)


@route("GET", f"{V3}/badges/", summary="The public badge URLs of each tag, and of every check.")
def list_badges() -> BadgeList:
    stores = runtime.stores()
    return BadgeList(badges=BadgeService(stores, now_ms=0).urls(request_view(router).base_url))


def _badge(badge: Badge) -> Response[str]:
    # As Healthchecks.io: never cached, so a README shows the status of now.
    never = {"Cache-Control": headers.NEVER_CACHE}
    return Response(200, badge.content_type, badge.body, headers=never)


def _badges() -> BadgeService:
    # Public: no key, so no caller's view; the time is all a badge needs.
    return BadgeService(runtime.stores(), now_ms=clock.now_ms())


# Each badge's last segment is "<name>.<format>", split at its last dot by the service: a route
# parameter per side would let the name take all but the format's last letter.
@route("GET", "/badge/<badge_key>/<signature>/<file>", key=False, include_in_schema=False)
def tag_badge(badge_key: str, signature: str, file: str) -> Response[str]:
    tag, fmt = split_file(file)
    return _badge(_badges().for_tag(badge_key, signature, tag, fmt))


@route("GET", "/badge/<badge_key>/<file>", key=False, include_in_schema=False)
def all_checks_badge(badge_key: str, file: str) -> Response[str]:
    signature, fmt = split_file(file)
    return _badge(_badges().for_tag(badge_key, signature, None, fmt))


@route("GET", "/b/<states>/<file>", key=False, include_in_schema=False)
def check_badge(states: str, file: str) -> Response[str]:
    badge_key, fmt = split_file(file)
    return _badge(_badges().for_check(states, badge_key, fmt))
