"""The words of an alert, shared by SNS and every channel: what a person needs at 3 AM.

Pure functions of the alert: no I/O and no clock reads. They never raise on odd data (a check
snapshot with an invalid schedule or zone still gets a message), because an alert that fails to
render is an alert lost.
"""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime

from cronbeat.channels.alert import Alert
from cronbeat.domain.durations import format_duration_ms, format_duration_s
from cronbeat.domain.errors import DomainError
from cronbeat.domain.model import SECOND_MS, Check
from cronbeat.domain.schedule import next_fire_ms, zone
from cronbeat.domain.text import OUTPUT_TAIL_BYTES, utf8_tail

SMS_LIMIT = 160
SUBJECT_LIMIT = 99
"""SNS wants subjects "less than 100 characters long"."""
_MIN_NAME = 30
"""When a text must be cut, the check's name keeps at least this many characters."""
_ELLIPSIS = "..."
"""Three dots, not "…": the GSM-7 alphabet of a plain SMS has no ellipsis character."""

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def display_name(check: Check) -> str:
    """The name people gave the check, else its slug, else its id; always on one line."""
    return one_line(check.name) or one_line(check.slug) or check.id


def one_line(text: str) -> str:
    """Text without unprintable characters, each run of whitespace (newlines too) one space."""
    return " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())


def iso_utc(at_ms: int) -> str:
    """ISO 8601 in UTC with a `Z`, to the second: `2026-01-01T00:00:00Z`."""
    moment = datetime.fromtimestamp(at_ms / SECOND_MS, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def when(at_ms: int, tz: str = "UTC") -> str:
    """A moment for people: UTC, plus the check's own zone when it has one."""
    utc = datetime.fromtimestamp(at_ms / SECOND_MS, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if tz == "UTC":
        return utc
    try:
        local = datetime.fromtimestamp(at_ms / SECOND_MS, tz=zone(tz))
    except DomainError:
        return utc
    return f"{utc} ({local:%H:%M} {tz})"


def label(alert: Alert) -> str:
    """One upper-case word that leads every short text: DOWN, UP or PAUSED."""
    return alert.status.upper()


STATUS_COLOURS = {"down": 0xE01E5A, "up": 0x2EB67D, "paused": 0x8D8D8D}
REMINDER_COLOUR = 0xECB22E


def colour(alert: Alert) -> int:
    """0xRRGGBB per status for chat channels: red down, green up, amber for a reminder."""
    if alert.flip is None:
        return REMINDER_COLOUR
    return STATUS_COLOURS.get(alert.status, STATUS_COLOURS["paused"])


def _named_schedule(check: Check) -> str:
    """ "cron `0 2 * * *`" or "OnCalendar `Mon..Fri 09:00`"."""
    name = "OnCalendar" if check.kind == "oncalendar" else "cron"
    return f"{name} `{check.schedule}`"


def schedule_text(check: Check) -> str:
    """When pings are expected: "every 1 h, grace 10 min" or "cron `0 2 * * *` (Europe/Riga)..."."""
    grace = format_duration_s(check.grace_s)
    if check.kind != "simple":
        return f"{_named_schedule(check)} ({check.tz}), grace {grace}"
    return f"every {format_duration_s(check.timeout_s)}, grace {grace}"


TEST_REASON = "test"
"""The reason of the made-up flip that `POST channels/<id>/test` sends."""


def what_happened(alert: Alert) -> str:
    """One line, without the check's name: "no ping for 1 h 12 min, expected every 1 h, ..."."""
    check, flip = alert.check, alert.flip
    if flip is None:
        return _down_during_maintenance(alert) if alert.after_mute else _still_down(alert)
    if flip.reason == TEST_REASON:
        return "a test alert: this channel works, and nothing is wrong"
    if flip.new == "down":
        if flip.reason == "timeout":
            return _no_ping(alert)
        if flip.reason == "run_timeout":
            return _never_finished(alert)
        if flip.reason == "fail":
            return _failed(check)
        if flip.reason in ("too_slow", "too_fast"):
            return _out_of_bounds(alert)
        if flip.reason == "slower_than_usual":
            return _slower_than_usual(check)
        if flip.reason == "assertion":
            return f"count was {check.last_count}, expected at least {check.min_count}"
        if flip.reason == "stuck":
            return _stuck(alert)
    if flip.old == "down" and flip.new == "up":
        return _back_up(alert)
    if flip.old == "down" and flip.new == "paused":
        return "paused while down"
    return f"changed from {flip.old} to {flip.new} ({flip.reason})"


def _ago(from_ms: int, to_ms: int) -> str:
    return format_duration_ms(to_ms - from_ms)


def _no_ping(alert: Alert) -> str:
    check = alert.check
    if check.last_ping_ms is None:
        return "no ping received"
    silence = f"no ping for {_ago(check.last_ping_ms, alert.at_ms)}"
    grace = format_duration_s(check.grace_s)
    if check.kind == "simple":
        return f"{silence}, expected every {format_duration_s(check.timeout_s)}, grace {grace}"
    try:
        due_ms = next_fire_ms(check.schedule, check.tz, check.last_ping_ms)
        clock = _clock(due_ms, alert.at_ms, check.tz)
    except DomainError:
        return f"{silence}, expected by {_named_schedule(check)} ({check.tz}), grace {grace}"
    return f"{silence}, expected at {clock} {check.tz} ({_named_schedule(check)}), grace {grace}"


def _clock(moment_ms: int, alert_ms: int, tz: str) -> str:
    """`HH:MM` in zone `tz`, with the date when it is not the alert's day there."""
    local = datetime.fromtimestamp(moment_ms / SECOND_MS, tz=zone(tz))
    at_local = datetime.fromtimestamp(alert_ms / SECOND_MS, tz=zone(tz))
    return f"{local:%H:%M}" if local.date() == at_local.date() else f"{local:%Y-%m-%d %H:%M}"


def _never_finished(alert: Alert) -> str:
    check = alert.check
    limit = format_duration_s(check.runtime_limit_s)
    if check.last_start_ms is None:
        return f"a run did not finish within {limit}"
    return (
        f"started {_ago(check.last_start_ms, alert.at_ms)} ago and never finished (limit {limit})"
    )


def _out_of_bounds(alert: Alert) -> str:
    """A run outside its duration bounds, with both numbers in words."""
    check = alert.check
    streak = f" ({check.failure_streak} in a row)" if check.failure_threshold > 1 else ""
    if check.last_start_ms is not None and check.max_duration_s is not None:
        running = _ago(check.last_start_ms, alert.at_ms)
        limit = format_duration_s(check.max_duration_s)
        return f"still running after {running}, longer than its max duration of {limit}"
    took = format_duration_ms(check.last_duration_ms or 0)
    if alert.flip is not None and alert.flip.reason == "too_fast":
        bound = format_duration_s(check.min_duration_s or 0)
        return f"finished in {took}, shorter than its min duration of {bound}{streak}"
    bound = format_duration_s(check.max_duration_s or 0)
    return f"took {took}, longer than its max duration of {bound}{streak}"


def _slower_than_usual(check: Check) -> str:
    """ "took 14 min 2 s, 3.1× its usual p95 of 4 min 31 s"."""
    *prior, took_ms = check.recent_durations_ms
    usual_ms = check.usual_p95_ms(tuple(prior))
    took = format_duration_ms(took_ms)
    if not usual_ms:
        return f"took {took}, slower than usual"
    return f"took {took}, {took_ms / usual_ms:.1f}× its usual p95 of {format_duration_ms(usual_ms)}"


def _stuck(alert: Alert) -> str:
    check = alert.check
    limit = format_duration_s(check.stuck_after_s or 0)
    if check.last_start_ms is None:
        return f"a run made no progress for {limit}"
    since = max(check.last_start_ms, check.last_progress_ms or 0)
    return (
        f"started {_ago(check.last_start_ms, alert.at_ms)} ago, no progress for "
        f"{_ago(since, alert.at_ms)} (limit {limit})"
    )


def _failed(check: Check) -> str:
    if check.last_exit is not None and check.last_exit > 0:
        text = f"exited with status {check.last_exit}{_signal_hint(check.last_exit)}"
    else:
        text = "failed"
    if check.last_duration_ms is not None:
        text += f" after {format_duration_ms(check.last_duration_ms)}"
    if check.failure_threshold > 1:
        text += f" ({check.failure_streak} failures in a row)"
    return text


def _signal_hint(exit_status: int) -> str:
    """Shells report death by signal N as 128 + N; 137 is SIGKILL, often the OOM killer."""
    if exit_status <= 128:
        return ""
    try:
        name = signal.Signals(exit_status - 128).name
    except ValueError:
        return ""
    return f" (killed by {name}?)"


def _still_down(alert: Alert) -> str:
    since = alert.down_since_ms
    if since is None:
        return "still down"
    moment = datetime.fromtimestamp(since / SECOND_MS, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"still down since {moment} ({_ago(since, alert.at_ms)})"


def _down_during_maintenance(alert: Alert) -> str:
    """The one alert after a mute: "went down at 02:14 UTC during maintenance and is still down"."""
    since = alert.down_since_ms
    if since is None:
        return "went down during maintenance and is still down"
    tz = alert.check.tz
    try:
        clock = _clock(since, alert.at_ms, tz)
    except DomainError:
        tz, clock = "UTC", _clock(since, alert.at_ms, "UTC")
    return f"went down at {clock} {tz} during maintenance and is still down"


def _back_up(alert: Alert) -> str:
    if alert.down_since_ms is None:
        return "back up"
    return f"back up after being down for {_ago(alert.down_since_ms, alert.at_ms)}"


def output_tail(alert: Alert) -> str:
    """The last 1,000 bytes of the last ping body as text, with terminal escapes removed.

    Bytes are decoded as UTF-8 with replacement; a character cut in half at the start is dropped.
    The text stays within 1,000 bytes as UTF-8 too: each invalid byte becomes a 3-byte U+FFFD.
    """
    tail = utf8_tail(alert.last_output, OUTPUT_TAIL_BYTES)
    text = tail.decode("utf-8", errors="replace").replace("\r\n", "\n")
    text = _CONTROL.sub("", _ANSI_ESCAPE.sub("", text)).strip("\n")
    encoded = text.encode("utf-8")
    if len(encoded) > OUTPUT_TAIL_BYTES:
        text = utf8_tail(encoded, OUTPUT_TAIL_BYTES).decode("utf-8").lstrip("\n")
    return text


def facts(alert: Alert) -> list[tuple[str, str]]:
    """Labelled details after the headline, in the order a person scans them."""
    check = alert.check
    rows: list[tuple[str, str]] = []
    if alert.flip is not None:
        rows.append(("Status", f"{alert.flip.new} (was {alert.flip.old})"))
    since = alert.down_since_ms
    if alert.flip is None and since is not None:
        rows.append(("Down since", when(since, check.tz)))
    rows.append(("Expected", schedule_text(check)))
    if check.last_ping_ms is not None:
        ago = _ago(check.last_ping_ms, alert.at_ms)
        rows.append(("Last ping", f"{when(check.last_ping_ms, check.tz)}, {ago} before this alert"))
    else:
        rows.append(("Last ping", "never"))
    if check.last_exit is not None:
        rows.append(("Exit status", str(check.last_exit)))
    if check.last_duration_ms is not None:
        rows.append(("Last run took", format_duration_ms(check.last_duration_ms)))
    if check.last_start_ms is not None:
        rows.append(("Run started", when(check.last_start_ms, check.tz)))
    if check.tag_list:
        rows.append(("Tags", " ".join(check.tag_list)))
    rows.append(("Check ID", check.id))
    return rows


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(_ELLIPSIS))].rstrip() + _ELLIPSIS


def _fit(lead: str, name: str, detail: str, limit: int) -> str:
    """`lead name: detail` in at most `limit` characters, cutting the name first, then the rest."""
    text = f"{lead} {name}: {detail}"
    if len(text) <= limit:
        return text
    room = max(_MIN_NAME, limit - len(lead) - len(detail) - 3)
    return _shorten(f"{lead} {_shorten(name, room)}: {detail}", limit)


def subject(alert: Alert) -> str:
    """An email subject: one line, under 100 characters, status first."""
    return _fit(
        label(alert), display_name(alert.check), one_line(what_happened(alert)), SUBJECT_LIMIT
    )


def sms_text(alert: Alert) -> str:
    """At most 160 characters: the status, the name and what happened."""
    detail = one_line(what_happened(alert)).replace("`", "")
    return _fit(label(alert), display_name(alert.check), detail, SMS_LIMIT)


def email_text(alert: Alert) -> str:
    """The full text: headline, the facts, the link and the tail of the last output."""
    name = display_name(alert.check)
    lines = [f"{name} is {label(alert)}: {what_happened(alert)}.", ""]
    rows = facts(alert)
    if alert.dashboard_url:
        rows.append(("Details", alert.dashboard_url))
    width = max(len(key) for key, _ in rows)
    lines += [f"{key.ljust(width)}  {value}" for key, value in rows]
    tail = output_tail(alert)
    if tail:
        lines += ["", "Last output (tail):", ""]
        lines += [f"    {line}" for line in tail.split("\n")]
    lines += ["", "-- ", "cronbeat"]
    return "\n".join(lines) + "\n"
