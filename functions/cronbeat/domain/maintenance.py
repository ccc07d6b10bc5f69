"""Mutes and maintenance windows: when a check's alerts are held back, and until when.

A check is muted until `muted_until_ms` (set by `POST .../mute`) and inside any of its recurring
maintenance windows: each starts when its cron schedule fires in the check's zone (cronsim, so DST
as Debian cron: a start in a skipped hour moves to the end of the gap, one in a repeated hour
happens once) and lasts `duration_s` of elapsed time, so a window across the fall-back hour is as
long as on any other day. Windows and a mute that overlap or touch make one muted stretch.

Pure: time is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice, pairwise

from cronsim import CronSim

from cronbeat.domain.durations import format_duration_s
from cronbeat.domain.errors import DomainError
from cronbeat.domain.model import DAY_S, MINUTE_S, SECOND_MS, Check
from cronbeat.domain.schedule import next_fire_ms, schedule_kind, validate_schedule

MAX_WINDOWS = 10
MIN_WINDOW_S = MINUTE_S
MAX_WINDOW_S = 7 * DAY_S
MAX_MUTE_S = 31 * DAY_S
_GAP_SAMPLE = 20
"""Fires sampled to find a schedule's shortest gap, which a window must be shorter than."""
_MAX_LINKS = 100
"""Overlapping windows followed before a muted stretch's end is given as it stands; the next
sweep after that end finds the rest."""
_SEPARATOR = ";"
_PAIR = "="


class InvalidMaintenance(DomainError):
    """A maintenance window or a mute the domain cannot accept."""


@dataclass(frozen=True, slots=True)
class Window:
    """One recurring maintenance window: from each fire of `schedule`, for `duration_s`."""

    schedule: str
    duration_s: int


def validate_window(schedule: str, duration_s: int) -> Window:
    """A window that starts on a 5-field cron schedule and ends before it starts again."""
    if schedule_kind(schedule) != "cron":
        raise InvalidMaintenance(f"schedule {schedule!r} is not a 5-field cron expression")
    try:
        validate_schedule(schedule)
    except DomainError as exc:
        raise InvalidMaintenance(f"schedule {exc}") from None
    if not MIN_WINDOW_S <= duration_s <= MAX_WINDOW_S:
        raise InvalidMaintenance(
            f"duration {duration_s} is out of range (at least {MIN_WINDOW_S} seconds, "
            f"at most {MAX_WINDOW_S} seconds, 7 days)"
        )
    gap_s = shortest_gap_s(schedule)
    if duration_s >= gap_s:
        raise InvalidMaintenance(
            f"duration {format_duration_s(duration_s)} is not shorter than the "
            f"{format_duration_s(gap_s)} between starts of {schedule!r}: it would never end"
        )
    return Window(schedule, duration_s)


@lru_cache(maxsize=256)
def shortest_gap_s(schedule: str) -> int:
    """The shortest time between fires of `schedule` among its first fires after 2000-01-01."""
    fires = islice(CronSim(schedule, datetime(2000, 1, 1, tzinfo=UTC)), _GAP_SAMPLE)
    gaps = [int((b - a).total_seconds()) for a, b in pairwise(fires)]
    return min(gaps) if gaps else MAX_WINDOW_S + 1


def encode_windows(windows: Sequence[Window]) -> str:
    """The compact form the check keeps: `0 2 * * 0=3600;30 1 * * *=1800`."""
    return _SEPARATOR.join(f"{w.schedule}{_PAIR}{w.duration_s}" for w in windows)


@lru_cache(maxsize=1024)
def windows(encoded: str) -> tuple[Window, ...]:
    """The windows of a check's `maintenance` attribute (written by `encode_windows`)."""
    found: list[Window] = []
    for pair in encoded.split(_SEPARATOR) if encoded else ():
        schedule, _, seconds = pair.rpartition(_PAIR)
        if not schedule or not seconds.isdigit():
            raise InvalidMaintenance(f"maintenance window {pair!r} is not `cron=seconds`")
        found.append(Window(schedule, int(seconds)))
    return tuple(found)


def _end_of_window_at(window: Window, tz: str, at_ms: int) -> int | None:
    """When the window covering `at_ms` ends: it started in (at - duration, at]; None if none.

    From inside a repeated hour cronsim may answer the hour's first occurrence, which is earlier
    than asked (a fixed-hour job runs once), so the end is checked as well as the start.
    """
    length_ms = window.duration_s * SECOND_MS
    start_ms = next_fire_ms(window.schedule, tz, at_ms - length_ms)
    end_ms = start_ms + length_ms
    return end_ms if start_ms <= at_ms < end_ms else None


def _ends_at(check: Check, at_ms: int) -> list[int]:
    return [
        end
        for window in windows(check.maintenance)
        if (end := _end_of_window_at(window, check.tz, at_ms)) is not None
    ]


def in_window(check: Check, at_ms: int) -> bool:
    """One of the check's maintenance windows covers `at_ms`."""
    return bool(_ends_at(check, at_ms))


def window_end_ms(check: Check, at_ms: int) -> int | None:
    """When the maintenance covering `at_ms` ends, windows that overlap or touch joined; None
    outside every window."""
    return _stretch_end(check, at_ms, with_mute=False)


def is_muted(check: Check, at_ms: int) -> bool:
    """Alerts are held back at `at_ms`: by a mute, or inside a maintenance window."""
    if check.muted_until_ms is not None and at_ms < check.muted_until_ms:
        return True
    return in_window(check, at_ms)


def mute_end_ms(check: Check, at_ms: int) -> int | None:
    """When the muted stretch covering `at_ms` ends (mute and windows joined); None if unmuted."""
    return _stretch_end(check, at_ms, with_mute=True)


def _stretch_end(check: Check, at_ms: int, *, with_mute: bool) -> int | None:
    end: int | None = None
    moment = at_ms
    for _ in range(_MAX_LINKS):
        ends = _ends_at(check, moment)
        until = check.muted_until_ms
        if with_mute and until is not None and moment < until:
            ends.append(until)
        if not ends:
            break
        # Every end found lies after `moment`, so each link moves forward.
        end = moment = max(ends)
    return end


def next_mute_change_ms(check: Check, at_ms: int) -> int | None:
    """When the sweep next owes a down check attention because of a mute, for its pre-filter.

    A held alert is owed when the muted stretch ends (now, if it has ended); a reminder that falls
    due inside the stretch waits for its end too. None when no mute holds anything back.
    """
    if check.status != "down":
        return None
    end = mute_end_ms(check, at_ms)
    if check.alert_held:
        return end if end is not None else at_ms
    if end is None or check.realert_every_s is None or check.last_alert_ms is None:
        return None
    reminder_ms = check.last_alert_ms + check.realert_every_s * SECOND_MS
    return end if reminder_ms < end else None


def mute(check: Check, at_ms: int, seconds: int) -> Check:
    """The check muted for `seconds` from `at_ms` (replacing any earlier mute)."""
    if not 1 <= seconds <= MAX_MUTE_S:
        raise InvalidMaintenance(f"seconds must be between 1 and {MAX_MUTE_S} (31 days)")
    return replace(check, muted_until_ms=at_ms + seconds * SECOND_MS)


def unmute(check: Check) -> Check:
    """The check without its mute; its maintenance windows still apply."""
    return replace(check, muted_until_ms=None)
