"""Reading systemd timers into checks, and the drop-in that runs each service under cronbeat.

Pure: unit file text in, plans and drop-in text out. A timer's `OnCalendar=` is the check's
schedule as it is (the server takes OnCalendar expressions, in the timer's zone when the
expression names one, else UTC); a timer with only monotonic triggers (`OnBootSec=`,
`OnUnitActiveSec=`) has no calendar to watch and is reported. The service a timer starts is its
`Unit=`, else the timer's own name with `.service`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from cronbeat.domain.model import slug_from_name

SHORTHAND_GRACE_S = {
    "minutely": 60,
    "hourly": 360,
    "daily": 3600,
    "weekly": 3600,
    "monthly": 3600,
    "quarterly": 3600,
    "semiannually": 3600,
    "yearly": 3600,
    "annually": 3600,
}
DEFAULT_GRACE_S = 3600
"""For an expression other than a shorthand: an hour, the most `sync crontab` ever gives."""
EXEC_PREFIXES = "-@:+!"


class UnitError(ValueError):
    """A unit file that cannot be read as a timer or a service."""


@dataclass(frozen=True)
class Timer:
    name: str
    """The timer's unit name, `backup.timer`."""
    service: str
    on_calendar: str
    slug: str

    @property
    def grace_s(self) -> int:
        return SHORTHAND_GRACE_S.get(self.on_calendar.strip().lower(), DEFAULT_GRACE_S)


def sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """Each `[Section]`'s `Key=value` pairs in order (continuation lines joined)."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = found.setdefault(line[1:-1], [])
            continue
        key, equals, value = line.partition("=")
        if not equals or current is None:
            raise UnitError(f"not a unit file line: {line!r}")
        current.append((key.strip(), value.strip()))
    return found


def timer(name: str, text: str) -> Timer | str:
    """The timer `name` defines, or why it cannot be watched."""
    settings = sections(text).get("Timer")
    if settings is None:
        raise UnitError(f"{name} has no [Timer] section")
    calendars = [value for key, value in settings if key == "OnCalendar" and value]
    if not calendars:
        return f"{name} has no OnCalendar= (monotonic timers have no schedule to watch)"
    if len(calendars) > 1:
        return f"{name} has {len(calendars)} OnCalendar= lines; a check follows one schedule"
    base = name.removesuffix(".timer")
    service = next((value for key, value in settings if key == "Unit"), f"{base}.service")
    return Timer(name, service, calendars[0], slug_from_name(base) or "timer")


def exec_start(service_text: str) -> str:
    """The service's one ExecStart= command line; UnitError when it has none or several."""
    service = sections(service_text).get("Service", [])
    commands = [value for key, value in service if key == "ExecStart" and value]
    if len(commands) != 1:
        raise UnitError(f"the service has {len(commands)} ExecStart= lines, not one")
    return commands[0]


def drop_in(command: str, slug: str, environment: dict[str, str], cronbeat: str) -> str:
    """A drop-in (`<service>.d/cronbeat.conf`) that runs the service's command under
    `cronbeat run`: ExecStart= is emptied first, as systemd requires to replace it."""
    prefix = ""
    while command[:1] in EXEC_PREFIXES and command:
        prefix, command = prefix + command[0], command[1:]
    lines = ["[Service]"]
    lines += [f"Environment={shlex.quote(f'{k}={v}')}" for k, v in environment.items()]
    lines += ["ExecStart=", f"ExecStart={prefix}{cronbeat} run --slug {slug} -- {command}"]
    return "\n".join(lines) + "\n"


def timer_names(list_timers_output: str) -> list[str]:
    """The timer units `systemctl list-timers --all --no-legend` lists, in order."""
    return [
        word
        for line in list_timers_output.splitlines()
        for word in line.split()
        if word.endswith(".timer")
    ]
