"""A check's schedule in words and its next fire times, for people choosing or reading one.

The words come from cron-descriptor for cron expressions ("At 03:00, Monday through Friday"), in
24-hour time; an OnCalendar expression is already words for systemd users and is shown as it is.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from cron_descriptor import ExpressionDescriptor, FormatException, Options

from cronbeat.domain.errors import DomainError
from cronbeat.domain.model import SECOND_MS
from cronbeat.domain.schedule import next_fire_ms, schedule_kind, zone

NEXT_FIRES = 5


@lru_cache(maxsize=1024)
def schedule_text(expression: str) -> str:
    """`At 03:00, Monday through Friday` for a cron expression; `OnCalendar <expr>` otherwise."""
    if schedule_kind(expression) != "cron":
        return f"OnCalendar {expression}"
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    try:
        return str(ExpressionDescriptor(expression, options).get_description())
    except (FormatException, ValueError, IndexError, KeyError):
        return f"cron {expression}"  # a form cronsim takes and the describer does not (L, W, #)


def next_fires(expression: str, tz: str, after_ms: int, count: int = NEXT_FIRES) -> list[str]:
    """The next `count` fire times after `after_ms`, in ISO 8601 with the zone's offset; fewer
    when the schedule stops firing."""
    fires: list[str] = []
    at_ms = after_ms
    for _ in range(count):
        try:
            at_ms = next_fire_ms(expression, tz, at_ms)
        except DomainError:
            break
        fires.append(datetime.fromtimestamp(at_ms / SECOND_MS, tz=zone(tz)).isoformat())
    return fires
