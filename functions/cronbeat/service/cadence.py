"""Sub-minute sweeps: one scanner invocation a minute sweeps every `every_s` seconds inside it.

EventBridge schedules nothing finer than a minute, so the invocation keeps the beat itself. Each
sweep's moment is computed from the event's time, never from when the last sweep ended, so the
beat does not drift; a sweep that overruns makes the loop skip the moments already past, so
sweeps never queue up or run two at once; and the last moment leaves the rest of the minute for
its sweep before the next invocation starts its first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cronbeat.domain.model import SECOND_MS

MINUTE_S = 60
SWEEP_SECONDS = (10, 12, 15, 20, 30, 60)
"""The sweep periods that divide the minute evenly (10 s at the finest: each sweep reads the
whole table, so read units grow with 60 / every_s)."""

T = TypeVar("T")


def sweep_moments(start_ms: int, every_s: int) -> list[int]:
    """The moments one invocation sweeps at: start, then every `every_s` up to the minute."""
    if every_s not in SWEEP_SECONDS:
        raise ValueError(f"a sweep every {every_s} s does not divide the minute: {SWEEP_SECONDS}")
    return [start_ms + k * every_s * SECOND_MS for k in range(MINUTE_S // every_s)]


def sweep_each_moment(
    start_ms: int,
    every_s: int,
    sweep: Callable[[int], T],
    *,
    now_ms: Callable[[], int],
    sleep: Callable[[float], None],
) -> list[T]:
    """Call `sweep(at_ms)` at each of `sweep_moments`, waiting on the wall clock for each one.

    The first moment is the event's own time, swept at once however late (or early, by a clock
    skew) the invocation starts, so a retried invocation decides what the first one did. A later
    moment already past when the previous sweep ends is skipped: the next sweep covers it.
    Returns what each sweep returned.
    """
    results: list[T] = []
    for index, at_ms in enumerate(sweep_moments(start_ms, every_s)):
        if index:
            if now_ms() > at_ms:
                continue
            while (wait_ms := at_ms - now_ms()) > 0:
                sleep(wait_ms / SECOND_MS)
        results.append(sweep(at_ms))
    return results
