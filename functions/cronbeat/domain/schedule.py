"""When a check is due: `last_ping + timeout` for simple checks, the next cron fire for cron checks.

Cron expressions are evaluated by cronsim in the check's IANA time zone, which handles DST as
Debian cron does: a job scheduled in a skipped hour runs once at the end of the gap, and one in a
repeated hour runs once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from cronbeat.domain.errors import InvalidSchedule, InvalidTimezone
from cronbeat.domain.model import SECOND_MS, Check


@lru_cache(maxsize=1024)
def zone(tz: str) -> ZoneInfo:
    """The IANA zone called `tz`, or InvalidTimezone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidTimezone(f"{tz!r} is not a valid IANA time zone") from exc


@lru_cache(maxsize=4096)
def validate_schedule(expression: str) -> str:
    """Accept a 5-field cron expression (with L, W and # forms), or raise InvalidSchedule."""
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidSchedule(
            f"{expression!r} is not a valid cron expression: expected 5 fields, got {len(fields)}"
        )
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise InvalidSchedule(f"{expression!r} is not a valid cron expression: {exc}") from exc
    return expression


def next_fire_ms(expression: str, tz: str, after_ms: int) -> int:
    """The first time strictly after `after_ms` at which `expression` fires in zone `tz`."""
    validate_schedule(expression)
    after = datetime.fromtimestamp(after_ms / SECOND_MS, tz=zone(tz))
    try:
        fire = next(CronSim(expression, after))
    except (StopIteration, OverflowError) as exc:
        message = f"{expression!r} does not fire again after {after.isoformat()}"
        raise InvalidSchedule(message) from exc
    return int(fire.timestamp()) * SECOND_MS


def due_ms(check: Check, since_ms: int) -> int:
    """When the ping after one at `since_ms` is expected (before grace)."""
    if check.kind == "cron":
        return next_fire_ms(check.schedule, check.tz, since_ms)
    return since_ms + check.timeout_s * SECOND_MS
