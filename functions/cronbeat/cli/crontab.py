"""Reading a crontab into the checks it implies, and writing it back with each job wrapped.

Pure: text in, text and plans out. The format is cron's (cronie and Vixie cron):

- blank lines and `#` comments are kept as they are;
- `NAME=value` lines set the environment of the jobs after them; `CRON_TZ=` (and `TZ=`, which
  cronie also reads for schedules) sets the time zone of the schedules after it;
- a job is five schedule fields and a command, or a macro (`@daily`, `@hourly`, ...) and a
  command; `@reboot` has no schedule to watch, so it is reported and left alone;
- a `# cronbeat: NAME` comment right above a job names its check; otherwise the check is named
  after the command.

A job already wrapped in `cronbeat run` stays as it is: its `--slug` is read back, so running the
sync again plans the same checks and prints the same crontab.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass

from cronbeat.domain.model import slug_from_name

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
UNSCHEDULED = frozenset({"@reboot"})
NAME_COMMENT = re.compile(r"^#\s*cronbeat:\s*(?P<name>\S.*?)\s*$")
ENVIRONMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")
ZONE_VARIABLES = ("CRON_TZ", "TZ")
MIN_GRACE_S = 60
MAX_GRACE_S = 3600
SLUG_CHARS = 50

_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_NAMES = {
    **{month: str(i) for i, month in enumerate(_MONTHS, start=1)},
    **{day: str(i) for i, day in enumerate(_DAYS)},
}
_UNIT_S = (60, 3600, 86_400)
"""A step of the minute, hour and day fields, in seconds."""


class CrontabError(ValueError):
    """A line that is neither a comment, an assignment nor a job: said with its line number."""


@dataclass(frozen=True)
class Job:
    """One scheduled line of the crontab and the check that watches it."""

    line_number: int
    schedule: str
    """Five cron fields (a macro is expanded)."""
    tz: str
    command: str
    """The command as the crontab has it, or the job inside an existing `cronbeat run`."""
    name: str
    slug: str
    wrapped: bool

    @property
    def grace_s(self) -> int:
        return grace_for(self.schedule)


@dataclass(frozen=True)
class Skipped:
    line_number: int
    line: str
    why: str


@dataclass(frozen=True)
class Crontab:
    lines: list[str]
    jobs: list[Job]
    skipped: list[Skipped]
    environment: dict[str, str]
    """The assignments the crontab makes (the last value of each name)."""


def _split_job(line: str) -> tuple[str, str] | None:
    """(schedule, command) of a job line, a macro as it is; None for anything else."""
    if line.startswith("@"):
        macro, _, command = line.partition(" ")
        return macro.strip(), command.strip()
    parts = line.split(None, 5)
    if len(parts) < 6:
        return None
    return " ".join(parts[:5]), parts[5].strip()


def parse(text: str) -> Crontab:
    """Every job of the crontab `text`, the lines left alone, and its environment."""
    lines = text.splitlines()
    jobs: list[Job] = []
    skipped: list[Skipped] = []
    environment: dict[str, str] = {}
    tz = "UTC"
    pending_name = ""
    used_slugs: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            pending_name = ""
            continue
        if line.startswith("#"):
            named = NAME_COMMENT.match(line)
            pending_name = named.group("name") if named else pending_name
            continue
        assignment = ENVIRONMENT.match(line)
        if assignment and not line.startswith("@") and not line[0].isdigit():
            value = assignment.group("value").strip().strip("'\"")
            environment[assignment.group("name")] = value
            if assignment.group("name") in ZONE_VARIABLES:
                tz = value or "UTC"
            continue
        split = _split_job(line)
        if split is None:
            raise CrontabError(f"line {number}: not a job, a comment or an assignment: {line!r}")
        schedule, command = split
        name, pending_name = pending_name, ""
        if schedule in UNSCHEDULED:
            skipped.append(Skipped(number, raw, f"{schedule} runs at boot, not on a schedule"))
            continue
        schedule = MACROS.get(schedule.lower(), schedule)
        if schedule.startswith("@"):
            raise CrontabError(f"line {number}: unknown macro {schedule!r}")
        check_schedule(schedule, number)
        inner, wrapped_slug = unwrap(command)
        if wrapped_slug is None and is_wrapped(command):
            why = "already runs under cronbeat run without --slug; left as it is"
            skipped.append(Skipped(number, raw, why))
            continue
        slug = wrapped_slug or _unique(
            slug_from_name(name) if name else command_slug(inner), used_slugs
        )
        used_slugs.add(slug)
        jobs.append(
            Job(
                line_number=number,
                schedule=schedule,
                tz=tz,
                command=inner,
                name=name or slug,
                slug=slug,
                wrapped=wrapped_slug is not None,
            )
        )
    return Crontab(lines, jobs, skipped, environment)


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in used:
        candidate = f"{slug[: SLUG_CHARS - 3]}-{n}"
        n += 1
    return candidate


def command_slug(command: str) -> str:
    """A stable slug from a command: its program's name and words, without redirections.

    `/usr/local/bin/backup.sh --full > /var/log/b.log 2>&1` is `backup-sh-full`.
    """
    try:
        words = shlex.split(command, comments=False)
    except ValueError:
        words = command.split()
    kept: list[str] = []
    for word in words:
        if word[:1] in "<>|;&" or re.match(r"^\d*[<>]", word):
            break
        kept.append(word.rsplit("/", 1)[-1] if not kept else word)
    slug = slug_from_name(" ".join(re.sub(r"[^\w]+", " ", w) for w in kept))
    return slug[:SLUG_CHARS].strip("-_") or "job"


def is_wrapped(command: str) -> bool:
    """The command already runs under `cronbeat run` (by any path to `cronbeat`)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return len(words) >= 2 and words[0].rsplit("/", 1)[-1] == "cronbeat" and words[1] == "run"


def unwrap(command: str) -> tuple[str, str | None]:
    """(the job, its slug) when `command` is already `cronbeat run ... --slug S ... -- JOB`;
    (command, None) otherwise, and for a `cronbeat run` by uuid."""
    if not is_wrapped(command):
        return command, None
    words = shlex.split(command)
    slug = None
    for index, word in enumerate(words):
        if word == "--slug" and index + 1 < len(words):
            slug = words[index + 1]
        elif word.startswith("--slug="):
            slug = word.partition("=")[2]
        elif word == "--":
            return shlex.join(words[index + 1 :]), slug
    return command, slug


def wrapped(
    text: str, crontab: Crontab, environment: dict[str, str], cronbeat: str = "cronbeat"
) -> str:
    """The crontab with each unwrapped job run by `cronbeat run --slug S --`, and the
    `environment` lines it lacks at the top; every other line as it was. `cronbeat` is the
    command as cron finds it: cron's PATH is short, so an absolute path is safest."""
    by_line = {job.line_number: job for job in crontab.jobs if not job.wrapped}
    out: list[str] = [
        f"{name}={value}" for name, value in environment.items() if name not in crontab.environment
    ]
    for number, raw in enumerate(crontab.lines, start=1):
        job = by_line.get(number)
        if job is None:
            out.append(raw)
            continue
        split = _split_job(raw.strip())
        assert split is not None
        schedule, command = split
        out.append(f"{schedule} {cronbeat} run --slug {shlex.quote(job.slug)} -- {command}")
    ending = "\n" if text.endswith("\n") or not text else ""
    return "\n".join(out) + ending


# --- schedules ------------------------------------------------------------------------------


def _values(field: str, low: int, high: int, number: int) -> list[int]:
    """The values a cron field allows (names and steps expanded), in order."""
    found: set[int] = set()
    for part in field.lower().split(","):
        for name, digit in _NAMES.items():
            part = part.replace(name, digit)
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CrontabError(f"line {number}: bad step in {field!r}")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            if not (first.isdigit() and last.isdigit()):
                raise CrontabError(f"line {number}: bad range in {field!r}")
            start, end = int(first), int(last)
        elif body.isdigit():
            start = int(body)
            end = high if step else start
        else:
            raise CrontabError(f"line {number}: bad field {field!r}")
        if not low <= start <= end <= high:
            raise CrontabError(f"line {number}: {field!r} is out of range {low}-{high}")
        found.update(range(start, end + 1, step or 1))
    return sorted(found)


def check_schedule(schedule: str, number: int = 0) -> None:
    """CrontabError unless `schedule` is five valid cron fields."""
    fields = schedule.split()
    if len(fields) != 5:
        raise CrontabError(f"line {number}: a schedule has five fields: {schedule!r}")
    for field, (low, high) in zip(fields, _FIELD_RANGES, strict=True):
        _values(field, low, high, number)


def _smallest_gap(values: list[int], cycle: int) -> int:
    """The shortest distance between consecutive allowed values, going round the cycle."""
    if len(values) == 1:
        return cycle
    gaps = [b - a for a, b in itertools.pairwise(values)]
    gaps.append(values[0] + cycle - values[-1])
    return min(gaps)


def shortest_interval_s(schedule: str) -> int:
    """About the shortest time between two runs of `schedule`: from the minute field if it
    allows several values, else the hour field, else the days (weekday or day of month)."""
    minute, hour, day, _, weekday = schedule.split()
    minutes = _values(minute, 0, 59, 0)
    if len(minutes) > 1:
        return _smallest_gap(minutes, 60) * _UNIT_S[0]
    hours = _values(hour, 0, 23, 0)
    if len(hours) > 1:
        return _smallest_gap(hours, 24) * _UNIT_S[1]
    weekdays = sorted({d % 7 for d in _values(weekday, 0, 7, 0)})
    days = _values(day, 1, 31, 0)
    if weekday != "*" and day == "*":
        return _smallest_gap(weekdays, 7) * _UNIT_S[2]
    if day != "*" and weekday == "*":
        return _smallest_gap(days, 30) * _UNIT_S[2] if len(days) > 1 else 28 * _UNIT_S[2]
    return _UNIT_S[2]


def grace_for(schedule: str) -> int:
    """The grace a synced check gets: a tenth of the shortest interval between runs, at least a
    minute and at most an hour (a job every 5 minutes gets 1 min, hourly 6 min, daily 1 h)."""
    return min(max(shortest_interval_s(schedule) // 10, MIN_GRACE_S), MAX_GRACE_S)
