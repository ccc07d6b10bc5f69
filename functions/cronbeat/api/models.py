"""Pydantic models of every request body and reply of the management API.

Request models validate strictly, as Healthchecks.io does: `"60"` is not a number and `true` is
not a timeout. A JSON `null` is rejected for Healthchecks.io's fields, worded by the field's
type ("name is not a string"). Optional fields are left out of the OpenAPI schema's types as
`null` (SkipJsonSchema), because the API does not accept it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from cronbeat import runtime
from cronbeat.api.timezones import current_name
from cronbeat.domain.channel import ChannelKind
from cronbeat.domain.errors import DomainError
from cronbeat.domain.maintenance import MAX_MUTE_S, MAX_WINDOW_S, MAX_WINDOWS, MIN_WINDOW_S
from cronbeat.domain.model import MAX_PERIOD_S, MAX_SLUG_LENGTH, SLOW_MIN_RUNS, slug_from_name
from cronbeat.domain.schedule import validate_schedule, zone

SLUG_PATTERN = "^[a-z0-9-_]*$"
UniqueField = Literal["name", "slug", "tags", "timeout", "grace"]
NULLABLE_EXTRAS = frozenset(
    {
        "max_runtime",
        "realert_every",
        "min_duration",
        "max_duration",
        "slow_factor",
        "min_count",
        "stuck_after",
    }
)
"""cronbeat's own optional periods, where `null` means "not set" (the default)."""


def _at_least_min_period(seconds: int) -> int:
    """Timeouts and grace periods start at the deployment's minimum (60 s; 1 s in local mode)."""
    if seconds < runtime.settings().min_period_s:
        raise PydanticCustomError("greater_than_equal", "is too small")
    return seconds


Period = Annotated[
    int,
    Field(le=MAX_PERIOD_S, json_schema_extra={"minimum": 60}),
    AfterValidator(_at_least_min_period),
]
Threshold = Annotated[int, Field(ge=1, le=1000)]
RunBound = Annotated[int, Field(ge=1, le=MAX_PERIOD_S)]
"""A run's duration bound, in whole seconds."""
SlowFactor = Annotated[float, Field(gt=1, le=100)]
SlowWindow = Annotated[int, Field(ge=SLOW_MIN_RUNS, le=50)]
MinCount = Annotated[int, Field(ge=0, le=10**15)]
Text100 = Annotated[str, Field(max_length=100)]
Slug = Annotated[str, Field(max_length=MAX_SLUG_LENGTH, pattern=SLUG_PATTERN)]
Keywords = Annotated[str, Field(max_length=200)]
Token = Annotated[str, Field(max_length=200, pattern=r"^\S+$")]
Priority = Annotated[int, Field(ge=-2, le=5)]
"""ntfy's 1 to 5 or Pushover's -2 to 2; the channel service checks the kind's own range."""
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
"""E.164: a plus, the country code and the number, 7 to 15 digits in all."""


ShownStatus = Literal["new", "up", "grace", "down", "paused", "started"]
"""A check's status in a reply; only API v1 says `started` (a run is in progress)."""


class MaintenanceWindow(BaseModel):
    """A recurring maintenance window: alerts are muted from each start for `duration` (cronbeat).

    Shape only here; the domain checks the schedule and the duration (`validate_window`).
    """

    model_config = ConfigDict(strict=True, extra="ignore")

    schedule: Text100 = Field(
        description="A 5-field cron expression, in the check's tz: when each window starts."
    )
    duration: int = Field(
        description="Seconds each window lasts: at least 60, at most 7 days, and shorter than "
        "the time between two starts.",
        json_schema_extra={"minimum": MIN_WINDOW_S, "maximum": MAX_WINDOW_S},
    )


class MuteSpec(BaseModel):
    """The body of `POST checks/<uuid>/mute` (cronbeat)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    api_key: str | SkipJsonSchema[None] = Field(
        default=None, description="Alternative to the X-Api-Key header."
    )
    seconds: Annotated[int, Field(ge=1, le=MAX_MUTE_S)] = Field(
        description="Mute alerts for this many seconds from now (at most 31 days); replaces an "
        "earlier mute."
    )


class CheckSpec(BaseModel):
    """The body of `POST checks/` and `POST checks/<uuid>`: every field optional."""

    model_config = ConfigDict(strict=True, extra="ignore")

    api_key: str | SkipJsonSchema[None] = Field(
        default=None, description="Alternative to the X-Api-Key header."
    )
    uuid: Annotated[str, Field(max_length=36)] | SkipJsonSchema[None] = Field(
        default=None,
        description="Create the check with this UUID, to keep the ping URLs of a check moved "
        "from another Healthchecks.io-compatible monitor; refused when taken, and on update "
        "(cronbeat).",
    )
    name: Text100 | SkipJsonSchema[None] = None
    slug: Slug | SkipJsonSchema[None] = None
    tags: Annotated[str, Field(max_length=500)] | SkipJsonSchema[None] = Field(
        default=None, description="Space-separated tags."
    )
    desc: Annotated[str, Field(max_length=10_000)] | SkipJsonSchema[None] = None
    timeout: Period | SkipJsonSchema[None] = Field(
        default=None, description="Seconds between pings (a simple check)."
    )
    grace: Period | SkipJsonSchema[None] = None
    schedule: Text100 | SkipJsonSchema[None] = Field(
        default=None,
        description="A 5-field cron expression, or a systemd OnCalendar expression such as "
        "`Mon..Fri 09:00` (a scheduled check).",
    )
    tz: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = None
    manual_resume: bool | SkipJsonSchema[None] = None
    methods: Literal["", "POST"] | SkipJsonSchema[None] = None
    channels: str | SkipJsonSchema[None] = Field(
        default=None,
        description='Comma-separated channel ids or names; "*" for all, "" for none. '
        "Omitted on create: none, as on Healthchecks.io.",
    )
    start_kw: Keywords | SkipJsonSchema[None] = None
    success_kw: Keywords | SkipJsonSchema[None] = None
    failure_kw: Keywords | SkipJsonSchema[None] = None
    filter_http_body: bool | SkipJsonSchema[None] = None
    filter_subject: bool | SkipJsonSchema[None] = Field(
        default=None, description="Match an email ping's subject against the keywords."
    )
    filter_body: bool | SkipJsonSchema[None] = Field(
        default=None, description="Match an email ping's body against the keywords."
    )
    subject: Keywords | SkipJsonSchema[None] = Field(
        default=None,
        description="Deprecated by Healthchecks.io: sets success_kw and the subject filter.",
    )
    subject_fail: Keywords | SkipJsonSchema[None] = Field(
        default=None,
        description="Deprecated by Healthchecks.io: sets failure_kw and the subject filter.",
    )
    filter_default_fail: bool | SkipJsonSchema[None] = None
    unique: list[UniqueField] | SkipJsonSchema[None] = None
    failure_threshold: Threshold | SkipJsonSchema[None] = Field(
        default=None, description="Consecutive failures before the check goes down (cronbeat)."
    )
    recovery_threshold: Threshold | SkipJsonSchema[None] = Field(
        default=None,
        description="Consecutive successes before a down check is up again (cronbeat).",
    )
    max_runtime: Period | None = Field(
        default=None,
        description=(
            "Seconds a started run may take, beyond the schedule's deadline if need be;"
            " null: the grace period (cronbeat)."
        ),
    )
    realert_every: Period | None = Field(
        default=None,
        description="Re-alert a down check this often, in seconds; null: never (cronbeat).",
    )
    min_duration: RunBound | None = Field(
        default=None,
        description="A finished run shorter than this many seconds counts as a failure "
        "(too_fast); null: no bound (cronbeat).",
    )
    max_duration: RunBound | None = Field(
        default=None,
        description="A run longer than this many seconds counts as a failure (too_slow), and an "
        "open run past it is down at once; null: no bound (cronbeat).",
    )
    slow_factor: SlowFactor | None = Field(
        default=None,
        description="A finished run slower than this times the p95 of the last slow_window "
        "durations counts as a failure (slower_than_usual), once 5 are known; null: off "
        "(cronbeat).",
    )
    slow_window: SlowWindow | SkipJsonSchema[None] = Field(
        default=None, description="How many recent durations the p95 is taken over (cronbeat)."
    )
    min_count: MinCount | None = Field(
        default=None,
        description="A finish reporting ?count=N below this counts as a failure (assertion); "
        "null: no assertion (cronbeat).",
    )
    stuck_after: Period | None = Field(
        default=None,
        description="An open run with no ping on it (/log, /progress) for this many seconds is "
        "down (stuck); null: no limit (cronbeat).",
    )
    maintenance: (
        Annotated[list[MaintenanceWindow], Field(max_length=MAX_WINDOWS)] | SkipJsonSchema[None]
    ) = Field(
        default=None,
        description="Recurring windows that mute alerts, at most 10; flips are still recorded, "
        "and a check still down when a window ends alerts once. [] removes them (cronbeat).",
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        """Healthchecks.io's trick: a null becomes a float, which no field accepts, so the error
        names the field with the wording of its type."""
        if not isinstance(data, dict):
            return data
        return {
            key: 0.0 if value is None and key not in NULLABLE_EXTRAS else value
            for key, value in data.items()
        }

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                validate_schedule(value)
            except DomainError:
                raise PydanticCustomError("cron_syntax", "not a valid schedule") from None
        return value

    @field_validator("tz")
    @classmethod
    def _valid_tz(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except DomainError:
                raise PydanticCustomError("tz_syntax", "is not a valid timezone") from None
            return current_name(value)
        return value

    def given(self, name: str) -> bool:
        """The request carried this field (with a non-null value)."""
        return name in self.model_fields_set and getattr(self, name) is not None

    def as_of_version(self, version: int) -> CheckSpec:
        """The spec as API `version` means it: v1 and v2 set the slug from a given name, unless
        the request gives the slug too, as Healthchecks.io does."""
        if version >= 3 or not self.given("name") or self.given("slug"):
            return self
        assert self.name is not None
        return self.model_copy(update={"slug": slug_from_name(self.name)})


class ChannelSettings(BaseModel):
    """A channel's settings, as `POST channels/` and `POST channels/<id>` take them."""

    model_config = ConfigDict(strict=True, extra="ignore")

    api_key: str | SkipJsonSchema[None] = Field(
        default=None, description="Alternative to the X-Api-Key header."
    )
    url: (
        Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")] | SkipJsonSchema[None]
    ) = Field(
        default=None,
        description="webhook, slack, discord, mattermost, googlechat, msteams: where to POST; "
        "ntfy: the topic's URL.",
    )
    secret: Annotated[str, Field(min_length=16, max_length=200)] | SkipJsonSchema[None] = Field(
        default=None,
        description="webhook: HMAC key for X-Cronbeat-Signature; generated when omitted.",
    )
    bot_token: Token | SkipJsonSchema[None] = Field(default=None, description="telegram")
    chat_id: Token | SkipJsonSchema[None] = Field(default=None, description="telegram")
    token: Token | SkipJsonSchema[None] = Field(
        default=None, description="ntfy: an access token, sent as a Bearer header."
    )
    priority_down: Priority | SkipJsonSchema[None] = Field(
        default=None,
        description="Priority of down alerts and reminders: ntfy 1 to 5 (4), pushover -2 to 2 (1).",
    )
    priority_up: Priority | SkipJsonSchema[None] = Field(
        default=None, description="Priority of recoveries: ntfy 1 to 5 (3), pushover -2 to 2 (0)."
    )
    api_base: (
        Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")] | SkipJsonSchema[None]
    ) = Field(
        default=None,
        description="telegram, pagerduty, opsgenie, pushover: the service's base URL, for a "
        "regional, self-hosted or test endpoint (the public service when omitted).",
    )
    routing_key: Token | SkipJsonSchema[None] = Field(
        default=None, description="pagerduty: the Events API v2 integration's routing key."
    )
    severity: Literal["critical", "error", "warning", "info"] | SkipJsonSchema[None] = Field(
        default=None, description="pagerduty: the incident's severity (critical)."
    )
    genie_key: Token | SkipJsonSchema[None] = Field(
        default=None, description="opsgenie: an API integration's key."
    )
    region: Literal["us", "eu"] | SkipJsonSchema[None] = Field(
        default=None, description="opsgenie: the account's region (us)."
    )
    priority: Literal["P1", "P2", "P3", "P4", "P5"] | SkipJsonSchema[None] = Field(
        default=None, description="opsgenie: the alert's priority (P3)."
    )
    user_key: Token | SkipJsonSchema[None] = Field(
        default=None, description="pushover: the user or group key."
    )
    app_token: Token | SkipJsonSchema[None] = Field(
        default=None, description="pushover: the application's API token."
    )
    address: Email | SkipJsonSchema[None] = Field(
        default=None, description="email: the address, which must confirm the subscription."
    )
    phone: Phone | SkipJsonSchema[None] = Field(
        default=None, description="sms: the number in E.164 form, such as +37120000000."
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {key: 0.0 if value is None else value for key, value in data.items()}

    def given(self, name: str) -> bool:
        """The request carried this field (with a non-null value)."""
        return name in self.model_fields_set and getattr(self, name) is not None


class ChannelSpec(ChannelSettings):
    """The body of `POST channels/` (cronbeat: Healthchecks.io has no such endpoint)."""

    kind: ChannelKind
    name: Text100 = ""
    attach_all: bool | SkipJsonSchema[None] = Field(
        default=None,
        description="Attach the new channel to every existing check (default true), as "
        "Healthchecks.io's integration form does.",
    )


class ChannelUpdate(ChannelSettings):
    """The body of `POST channels/<id>`: only the fields given change; the kind cannot."""

    name: Text100 | SkipJsonSchema[None] = None
    rotate_secret: bool | SkipJsonSchema[None] = Field(
        default=None, description="webhook: generate a new signing secret, shown once."
    )


# -- replies ------------------------------------------------------------------------------

PRESENT_WHEN_SET = frozenset(
    {
        "last_duration",
        "last_duration_ms",
        "timeout",
        "schedule",
        "tz",
        "unique_key",
        "badge_url",
        "uuid",
        "ping_url",
        "update_url",
        "pause_url",
        "resume_url",
        "channels",
        "schedule_text",
        "next_fires",
        "status_since",
        "status_reason",
        "last_exit",
        "last_start",
    }
)
"""Keys Healthchecks.io leaves out (rather than sending null) when they do not apply."""


class Reply(BaseModel):
    """A reply model.

    Its serializers that leave out unset keys have no return annotation on purpose: pydantic
    then documents the model's own fields instead of a bare `dict`.
    """


class CheckOut(Reply):
    """A check as Healthchecks.io's v3 API shows it, plus cronbeat's fields.

    With a read-only key, `unique_key` replaces uuid, the URLs and channels.
    """

    name: str
    slug: str
    tags: str = Field(description="Space-separated tags.")
    desc: str
    grace: int
    n_pings: int
    status: ShownStatus
    started: bool
    last_ping: str | None
    next_ping: str | None
    manual_resume: bool
    methods: str
    start_kw: str
    success_kw: str
    failure_kw: str
    filter_http_body: bool
    filter_subject: bool
    filter_body: bool
    filter_default_fail: bool
    subject: str = Field(description="success_kw while the subject filter is on, else empty.")
    subject_fail: str = Field(description="failure_kw while the subject filter is on, else empty.")
    failure_threshold: int
    recovery_threshold: int
    max_runtime: int | None
    realert_every: int | None
    min_duration: int | None = None
    max_duration: int | None = None
    slow_factor: float | None = None
    slow_window: int = 20
    min_count: int | None = None
    stuck_after: int | None = None
    last_count: int | None = Field(
        default=None, description="The count the last finish reported (cronbeat)."
    )
    usual_duration_ms: int | None = Field(
        default=None,
        description="The p95 of the recent durations slow_factor is judged against, once 5 are "
        "known (cronbeat).",
    )
    last_duration: int | None = None
    last_duration_ms: int | None = Field(
        default=None, description="The last run's duration in milliseconds (cronbeat)."
    )
    timeout: int | None = None
    schedule: str | None = None
    tz: str | None = None
    schedule_text: str | None = Field(
        default=None, description="The schedule in words, such as `At 03:00` (cronbeat)."
    )
    next_fires: list[str] | None = Field(
        default=None,
        description="The schedule's next 5 fire times, ISO 8601 in the check's zone (cronbeat).",
    )
    status_since: str | None = Field(
        default=None, description="When the current status began (cronbeat)."
    )
    status_reason: str | None = Field(
        default=None,
        description="Why the status last changed: the flip's reason, such as `fail`, `timeout` "
        "or `run_timeout` (cronbeat).",
    )
    last_exit: int | None = Field(
        default=None, description="The exit status the last finished run reported (cronbeat)."
    )
    last_start: str | None = Field(
        default=None, description="When the run in progress started (cronbeat)."
    )
    uuid: str | None = None
    ping_url: str | None = None
    update_url: str | None = None
    pause_url: str | None = None
    resume_url: str | None = None
    channels: str | None = Field(default=None, description="Comma-separated channel ids.")
    unique_key: str | None = None
    badge_url: str | None = Field(
        default=None, description="The check's public two-state SVG badge (/b/3/… shows late)."
    )
    muted: bool = Field(
        default=False,
        description="Alerts are muted now, by a mute or a maintenance window (cronbeat).",
    )
    muted_until: str | None = Field(
        default=None,
        description="When the current mute ends, overlapping windows joined; null when not "
        "muted (cronbeat).",
    )
    in_maintenance: bool = Field(
        default=False, description="One of the check's maintenance windows is open (cronbeat)."
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="The check's maintenance windows (cronbeat)."
    )

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in PRESENT_WHEN_SET}


class KeyOut(Reply):
    """`GET key/`: whether the key that asked is read-only (cronbeat)."""

    read_only: bool


class ScheduleOut(Reply):
    """`GET schedule/`: a schedule described before a check has it (cronbeat)."""

    schedule_text: str
    next_fires: list[str]


class CheckList(Reply):
    checks: list[CheckOut]


class PingOut(Reply):
    """One ping as Healthchecks.io lists it, plus cronbeat's `exit_status`."""

    type: Literal["success", "start", "fail", "log", "progress", "ign"]
    date: str
    n: int
    scheme: str
    remote_addr: str
    method: str
    ua: str
    rid: str | None
    duration: float | None = Field(
        default=None, description="Seconds since the run's start ping, to hundredths."
    )
    duration_ms: int | None = Field(
        default=None, description="The same duration in whole milliseconds (cronbeat)."
    )
    body_url: str | None
    exit_status: int | None
    count: int | None = Field(
        default=None, description="What the finish reported doing (`?count=N`), cronbeat's."
    )
    attempt: int | None = Field(
        default=None, description="The attempt the run finished on (`cronbeat run --retries-job`)."
    )
    attempts: int | None = Field(default=None, description="The most attempts the run had.")

    @model_serializer(mode="wrap")
    def _leave_out_duration(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        if data.get("duration") is None:
            data.pop("duration", None)
            data.pop("duration_ms", None)
        for extension in ("count", "attempt", "attempts"):
            if data.get(extension) is None:
                data.pop(extension, None)
        return data


class BadgeList(Reply):
    """Each tag's public badge URLs (and `*`'s, for every check), by Healthchecks.io's format
    names: svg, json and shields, and their `3` forms, which also show late."""

    badges: dict[str, dict[str, str]]


class PingList(Reply):
    pings: list[PingOut]


class DeliveryOut(Reply):
    """One alert's delivery to one target (cronbeat)."""

    target: str = Field(description="`sns` for the alerts topic, else the channel id.")
    kind: str
    state: Literal["pending", "sent", "failed"]
    attempts: int
    status_code: int | None = Field(description="The last attempt's HTTP status, if any.")
    error: str | None = Field(description="Why the last attempt failed, if it did.")
    created: str
    updated: str | None = Field(description="When the last attempt ended.")
    next_attempt: str | None = Field(description="When a pending delivery is tried again.")


class FlipOut(Reply):
    timestamp: str
    up: Literal[0, 1]
    status: str = Field(description="The status the check changed to (cronbeat).")
    reason: str = Field(description="Why it changed (cronbeat).")
    muted: bool = Field(
        default=False,
        description="Made while alerts were muted: recorded, and nobody was told (cronbeat).",
    )
    deliveries: list[DeliveryOut] = Field(
        description="The alert's delivery to each target; empty when it was not alerted."
    )


class FlipList(Reply):
    flips: list[FlipOut]


class LastDelivery(Reply):
    state: Literal["pending", "sent", "failed"]
    at: str = Field(description="When its last attempt ended, or when it was queued.")
    error: str | None = None


class ChannelOut(Reply):
    id: str
    name: str
    kind: str
    settings: dict[str, str] = Field(
        default_factory=dict,
        description="The settings that are not secrets (a chat id, priorities, an api_base, an "
        "email address); URLs, keys and tokens never come back (cronbeat).",
    )
    subscription: Literal["pending_confirmation", "confirmed", "missing"] | None = Field(
        default=None,
        description="email and sms: the topic subscription's state; an email address receives "
        "nothing until its owner follows the confirmation link SNS sent (cronbeat).",
    )
    last_delivery: LastDelivery | None = Field(
        default=None,
        description="The channel's latest alert delivery (cronbeat). Email and SMS channels "
        "ride on the topic's publish, the `sns` delivery of each flip, and show their test "
        "alerts here.",
    )

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        return {
            k: v for k, v in data.items() if v is not None or k not in ("subscription", "secret")
        }


class ChannelDeliveryOut(DeliveryOut):
    check: str | None = Field(
        description="The alerting check's uuid (its unique_key for a read-only key); null for a "
        "test alert."
    )
    alert_time: str = Field(description="When the flip or reminder was written.")


class ChannelDeliveryList(Reply):
    deliveries: list[ChannelDeliveryOut]


class TestAlertOut(Reply):
    delivery: ChannelDeliveryOut = Field(
        description="Queued: follow it at `channels/<id>/deliveries/`."
    )


class ChannelList(Reply):
    channels: list[ChannelOut]


class ChannelCreated(ChannelOut):
    secret: str | None = Field(
        default=None, description="webhook: the signing secret, shown only in this reply."
    )


class ErrorOut(Reply):
    error: str
