"""Checks, pings, flips and channels in the shapes Healthchecks.io's v3 API returns.

Timestamps are ISO 8601 in UTC with an explicit offset (`2026-01-01T00:00:00+00:00`); check times
drop sub-second digits, as Healthchecks.io's `isostring` does, while ping dates keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cronbeat.api.models import (
    ChannelDeliveryOut,
    ChannelOut,
    CheckOut,
    DeliveryOut,
    FlipOut,
    LastDelivery,
    MaintenanceWindow,
    PingOut,
    ShownStatus,
)
from cronbeat.api.schedule_words import next_fires, schedule_text
from cronbeat.channels.sns import SubscriptionState
from cronbeat.domain.channel import INTERNAL_FIELDS, SECRET_FIELDS, Channel
from cronbeat.domain.ids import unique_key
from cronbeat.domain.machine import evaluate
from cronbeat.domain.maintenance import in_window, mute_end_ms, windows
from cronbeat.domain.model import API_FIELDS, SECOND_MS, Check, Evaluation
from cronbeat.store.deliveries import DeliveryRecord
from cronbeat.store.history import FlipRecord, PingRecord

API_PREFIX = "/api/v3"
"""The path the routes are registered at; `/api/v1` and `/api/v2` requests are routed to it."""


@dataclass(frozen=True, slots=True)
class View:
    """What a reply depends on besides the data: the key's access, the time, the public URL."""

    read_only: bool
    now_ms: int
    base_url: str
    """Scheme and host the API is reached at, without a trailing slash (may be empty)."""
    version: int = 3
    """The API version the request's path named: replies link back to the same version."""

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v{self.version}"


def iso_seconds(at_ms: int | None) -> str | None:
    if at_ms is None:
        return None
    return datetime.fromtimestamp(at_ms // SECOND_MS, tz=UTC).isoformat()


def iso_precise(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / SECOND_MS, tz=UTC).isoformat()


def public_id(check: Check, view: View) -> str:
    """How a reply refers to a check: its uuid, or its unique_key for a read-only key."""
    return unique_key(check.id) if view.read_only else check.id


_WITH_SCHEDULE = frozenset({"tz"})
"""Copied fields shown only with a cron schedule, as Healthchecks.io does."""


def _status(evaluation: Evaluation, view: View) -> ShownStatus:
    """The status as shown: API v1 reports a check with a run in progress as `started`."""
    if view.version == 1 and evaluation.started and evaluation.status not in ("down", "paused"):
        return "started"
    return evaluation.status


def check_out(check: Check, view: View) -> CheckOut:
    evaluation = evaluate(check, view.now_ms)
    copied = {
        name: getattr(check, f) for name, f in API_FIELDS.items() if name not in _WITH_SCHEDULE
    }
    shown = CheckOut(
        **copied,
        n_pings=check.n_pings,
        status=_status(evaluation, view),
        started=evaluation.started,
        last_ping=iso_seconds(check.last_ping_ms),
        # As Healthchecks.io: no next ping is expected of a down check.
        next_ping=iso_seconds(None if evaluation.status == "down" else evaluation.due_ms),
        subject=check.success_kw if check.filter_subject else "",
        subject_fail=check.failure_kw if check.filter_subject else "",
    )
    if check.last_duration_ms:
        shown.last_duration = check.last_duration_ms // SECOND_MS
    if check.last_duration_ms is not None:
        shown.last_duration_ms = check.last_duration_ms
    shown.last_count = check.last_count
    if check.slow_factor is not None:
        shown.usual_duration_ms = check.usual_p95_ms(check.recent_durations_ms)
    if check.kind != "simple":
        shown.schedule, shown.tz = check.schedule, check.tz
        shown.schedule_text = schedule_text(check.schedule)
        shown.next_fires = next_fires(check.schedule, check.tz, view.now_ms)
    else:
        shown.timeout = check.timeout_s
    # A flip the sweep has not written yet is shown as it will be: its reason, and the moment
    # the check went down, not when it last came up.
    pending = evaluation.flip
    since_ms = check.status_since_ms
    if pending is not None:
        since_ms = evaluation.down_at_ms if evaluation.down_at_ms is not None else view.now_ms
    shown.status_since = iso_seconds(since_ms)
    shown.status_reason = (pending.reason if pending is not None else check.status_reason) or None
    shown.last_exit = check.last_exit
    if evaluation.started and check.last_start_ms is not None:
        shown.last_start = iso_seconds(check.last_start_ms)
    if check.badge_key:
        shown.badge_url = f"{view.base_url}/b/2/{check.badge_key}.svg"
    _show_mute(shown, check, view.now_ms)
    if view.read_only:
        shown.unique_key = unique_key(check.id)
    else:
        update_url = f"{view.api_url}/checks/{check.id}"
        shown.uuid = check.id
        shown.ping_url = f"{view.base_url}/ping/{check.id}"
        shown.update_url = update_url
        shown.pause_url = f"{update_url}/pause"
        shown.resume_url = f"{update_url}/resume"
        shown.channels = ",".join(sorted(check.channel_ids))
    return shown


def _show_mute(shown: CheckOut, check: Check, now_ms: int) -> None:
    """Whether alerts are muted now and until when, and the windows that mute them."""
    shown.maintenance = [
        MaintenanceWindow(schedule=w.schedule, duration=w.duration_s)
        for w in windows(check.maintenance)
    ]
    end_ms = mute_end_ms(check, now_ms)
    shown.muted = end_ms is not None
    shown.muted_until = iso_seconds(end_ms)
    shown.in_maintenance = bool(shown.maintenance) and in_window(check, now_ms)


def ping_out(check: Check, ping: PingRecord, view: View) -> PingOut:
    body_url = None
    if ping.has_body:
        body_url = f"{view.api_url}/checks/{public_id(check, view)}/pings/{ping.n}/body"
    known = ("success", "start", "fail", "log", "progress", "ign")
    kind = ping.kind if ping.kind in known else "success"
    return PingOut(
        type=kind,  # type: ignore[arg-type]
        date=iso_precise(ping.at_ms),
        n=ping.n,
        scheme=ping.scheme,
        remote_addr=ping.remote_addr,
        method=ping.method,
        ua=ping.ua,
        rid=ping.rid,
        duration=round(ping.duration_ms / SECOND_MS, 2) if ping.duration_ms is not None else None,
        duration_ms=ping.duration_ms,
        body_url=body_url,
        exit_status=ping.exit_status,
        count=ping.count,
        attempt=ping.attempt,
        attempts=ping.attempts,
    )


def _delivery_fields(record: DeliveryRecord) -> dict[str, object]:
    return {
        "target": record.channel_id,
        "kind": record.kind,
        "state": record.state,
        "attempts": record.attempts,
        "status_code": record.status_code,
        "error": record.error,
        "created": iso_precise(record.created_ms),
        "updated": iso_precise(record.updated_ms) if record.updated_ms is not None else None,
        "next_attempt": (
            iso_precise(record.next_attempt_ms)
            if record.state == "pending" and record.next_attempt_ms is not None
            else None
        ),
    }


def delivery_out(record: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut.model_validate(_delivery_fields(record))


def channel_delivery_out(
    record: DeliveryRecord, *, test_pk: str, read_only: bool
) -> ChannelDeliveryOut:
    """A channel's delivery, with the check it alerted (None for a test alert): by its uuid, or
    by its unique_key for a read-only key, which must never learn a check's ping address."""
    if record.check_id == test_pk:
        check = None
    else:
        check = unique_key(record.check_id) if read_only else record.check_id
    return ChannelDeliveryOut.model_validate(
        {
            **_delivery_fields(record),
            "check": check,
            "alert_time": iso_precise(record.flip_at_ms),
        }
    )


def flip_out(flip: FlipRecord, deliveries: list[DeliveryRecord]) -> FlipOut:
    return FlipOut(
        timestamp=iso_seconds(flip.at_ms) or "",
        up=1 if flip.new == "up" else 0,
        status=flip.new,
        reason=flip.reason,
        muted=flip.muted,
        deliveries=[delivery_out(record) for record in deliveries],
    )


def channel_out(
    channel: Channel,
    last: DeliveryRecord | None = None,
    subscription: SubscriptionState | None = None,
) -> ChannelOut:
    last_delivery = None
    if last is not None:
        at_ms = last.updated_ms if last.updated_ms is not None else last.created_ms
        last_delivery = LastDelivery(state=last.state, at=iso_precise(at_ms), error=last.error)
    shown = {
        key: value
        for key, value in sorted(channel.config.items())
        if key not in SECRET_FIELDS and key not in INTERNAL_FIELDS
    }
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        settings=shown,
        subscription=subscription,
        last_delivery=last_delivery,
    )
