"""When a check is due: `last_ping + timeout` for simple checks, else the schedule's next fire.

A schedule is a 5-field cron expression (cronsim) or a systemd `OnCalendar` expression such as
`Mon..Fri 09:00` (the `oncalendar` package), told apart as Healthchecks.io tells them apart: one
line of five fields is cron. Both are evaluated in the check's IANA time zone. cronsim handles
DST as Debian cron does: a job scheduled in a skipped hour runs once at the end of the gap, and
one in a repeated hour runs once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from oncalendar import OnCalendar, OnCalendarError

from cronbeat.domain.errors import InvalidSchedule, InvalidTimezone
from cronbeat.domain.model import SECOND_MS, Check, Kind


@lru_cache(maxsize=1024)
def zone(tz: str) -> ZoneInfo:
    """The IANA zone called `tz`, or InvalidTimezone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidTimezone(f"{tz!r} is not a valid IANA time zone") from exc


def schedule_kind(expression: str) -> Kind:
    """`cron` for one line of five fields, else `oncalendar`, by Healthchecks.io's rule."""
    if "\n" not in expression.strip() and len(expression.split()) == 5:
        return "cron"
    return "oncalendar"


def _fires(expression: str, after: datetime) -> CronSim | OnCalendar:
    if schedule_kind(expression) == "cron":
        return CronSim(expression, after)
    return OnCalendar(expression, after)


@lru_cache(maxsize=4096)
def validate_schedule(expression: str) -> str:
    """Accept a cron expression (with L, W and # forms) or an OnCalendar expression that fires
    at least once after 2000-01-01, or raise InvalidSchedule."""
    try:
        next(_fires(expression, datetime(2000, 1, 1, tzinfo=UTC)))
    except (CronSimError, OnCalendarError, StopIteration, OverflowError) as exc:
        reason = str(exc) or "it never fires"
        if schedule_kind(expression) == "cron":
            raise InvalidSchedule(
                f"{expression!r} is not a valid cron expression: {reason}"
            ) from exc
        fields = len(expression.split())
        raise InvalidSchedule(
            f"{expression!r} is not a valid OnCalendar expression ({reason}), nor a cron "
            f"expression: expected 5 fields, got {fields}"
        ) from exc
    return expression


def next_fire_ms(expression: str, tz: str, after_ms: int) -> int:
    """The first time strictly after `after_ms` at which `expression` fires in zone `tz`."""
    validate_schedule(expression)
    after = datetime.fromtimestamp(after_ms / SECOND_MS, tz=zone(tz))
    try:
        fire = next(_fires(expression, after))
    except (StopIteration, OverflowError) as exc:
        message = f"{expression!r} does not fire again after {after.isoformat()}"
        raise InvalidSchedule(message) from exc
    return int(fire.timestamp()) * SECOND_MS


def due_ms(check: Check, since_ms: int) -> int:
    """When the ping after one at `since_ms` is expected (before grace)."""
    if check.kind != "simple":
        return next_fire_ms(check.schedule, check.tz, since_ms)
    return since_ms + check.timeout_s * SECOND_MS
