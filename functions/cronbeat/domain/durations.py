"""Durations as a person reads them at 3 AM: "1 h 12 min", "45 s", "3 d 2 h".

Standard library only, so the job-host CLI can reuse it.
"""

from __future__ import annotations

from itertools import pairwise

_UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def format_duration_s(seconds: float) -> str:
    """The two largest units, truncated (never rounded up): 4,320 s is "1 h 12 min".

    The second unit is left out when it is zero ("1 h", not "1 h 0 min"). Negative values,
    which only clock skew produces, read as "0 s".
    """
    whole = max(0, int(seconds))
    for (unit, size), (smaller_unit, smaller_size) in pairwise(_UNITS):
        if whole >= size:
            head = f"{whole // size} {unit}"
            rest = (whole % size) // smaller_size
            return f"{head} {rest} {smaller_unit}" if rest else head
    return f"{whole} s"


def format_duration_ms(milliseconds: int) -> str:
    """A run's duration: "350 ms" under a second, "3.0 s" (tenths, halves up) under a minute, then
    as `format_duration_s` of the rounded seconds. The dashboard's `duration()` follows the same
    rule, so a 2,998 ms run reads "3.0 s" in both."""
    if 0 <= milliseconds < 1000:
        return f"{milliseconds} ms"
    # Halves round up, as the dashboard's Math.round does (Python's round() goes to even).
    tenths = (milliseconds + 50) // 100
    if 0 <= tenths < 600:
        return f"{tenths // 10}.{tenths % 10} s"
    return format_duration_s((milliseconds + 500) // 1000)
