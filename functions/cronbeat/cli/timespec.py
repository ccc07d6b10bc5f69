"""Durations and instants as people type them on a command line: `90s`, `2h`, `1h30m`, `7d`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNIT_S = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?) *(ms|sec|min|s|m|h|d|w)? *")


def parse_duration_s(text: str) -> float:
    """Seconds in `text`: a bare number is seconds, and parts add up (`1h30m` is 5,400 s).

    Raises ValueError on anything else, so the caller can turn it into a one-line usage error.
    """
    spec = text.strip().lower()
    total, position = 0.0, 0
    while position < len(spec) and (part := _PART.match(spec, position)) is not None:
        total += float(part.group(1)) * _UNIT_S[part.group(2) or "s"]
        position = part.end()
    if not spec or position != len(spec):
        raise ValueError(f"not a duration: {text!r} (try 90s, 15m, 2h or 7d)")
    return total


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a window: a duration back from `now` (`24h`), or an ISO 8601 date or time.

    A date or time without an offset is read in local time.
    """
    try:
        return now - timedelta(seconds=parse_duration_s(text))
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"not a duration or a date: {text!r} (try 24h, 7d or 2026-03-01)"
        ) from None
    return instant.astimezone() if instant.tzinfo is None else instant
