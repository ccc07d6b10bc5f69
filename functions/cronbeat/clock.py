"""The wall clock, read only by handlers: the code below them takes time as a parameter."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
