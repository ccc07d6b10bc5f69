"""Sweeping beyond one process: the table split into Scan segments, each swept by a worker.

Above `fan_out_checks` the scanner sweeps nothing itself: it hands each segment of the table to a
segment worker (an asynchronous Lambda invocation), all at the same sweep time, so every worker
decides as one sweep would. The size comes from DynamoDB's item count (refreshed about every six
hours, free): a table that grows between refreshes only makes each segment a little larger.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_TOTAL_SEGMENTS = 1_000
"""A sweep's segments are invocations at once: kept within Lambda's default account concurrency."""
DISPATCH_CONCURRENCY = 16
"""Invocations requested at once: 1,000 segments at about 20 ms an Invoke take about 1.3 s."""

SEGMENT_EVENT_FIELDS = ("sweep_at_ms", "segment", "total_segments")


class BadSegmentEvent(ValueError):
    """A segment worker's event is not a segment of a sweep."""


@dataclass(frozen=True, slots=True)
class SegmentTask:
    """One segment of one sweep: the worker's event is exactly these three numbers."""

    sweep_at_ms: int
    segment: int
    total_segments: int

    def __post_init__(self) -> None:
        if not 0 <= self.segment < self.total_segments:
            raise BadSegmentEvent(f"segment {self.segment} is not one of {self.total_segments}")

    def as_event(self) -> dict[str, int]:
        return {
            "sweep_at_ms": self.sweep_at_ms,
            "segment": self.segment,
            "total_segments": self.total_segments,
        }

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> SegmentTask:
        numbers = [event.get(name) for name in SEGMENT_EVENT_FIELDS]
        if not all(type(number) is int for number in numbers):  # bool is no segment number
            raise BadSegmentEvent(f"not a segment event: {sorted(event)}")
        at_ms, segment, total = (int(number or 0) for number in numbers)
        return cls(at_ms, segment, total)


class SegmentInvoker(Protocol):
    """Starts the sweep of one segment somewhere else; raises if it could not be started."""

    def invoke(self, task: SegmentTask) -> None: ...


@dataclass(frozen=True, slots=True)
class CallSegments:
    """Sweeps each segment by calling the worker's entry point here and now (local mode, tests).

    One at a time, as one Lambda instance would: a process has one buffer of Powertools metrics,
    and one worker's flush would publish or drop another's.
    """

    worker: Callable[[dict[str, Any]], object]
    turn: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, task: SegmentTask) -> None:
        with self.turn:
            self.worker(task.as_event())


def total_segments(item_count: int, *, fan_out_checks: int, checks_per_segment: int) -> int:
    """How many workers sweep a table of `item_count` checks; 0 when one process sweeps it all
    (fan-out off, or the table below `fan_out_checks`)."""
    if fan_out_checks <= 0 or item_count < fan_out_checks:
        return 0
    return min(MAX_TOTAL_SEGMENTS, math.ceil(item_count / max(1, checks_per_segment)))


@dataclass(slots=True)
class FanOutReport:
    """Which segments of the sweep at `at_ms` were handed to a worker, and which could not be."""

    at_ms: int
    total_segments: int
    failed: list[int] = field(default_factory=list)


def fan_out(
    at_ms: int,
    segments: int,
    invoker: SegmentInvoker,
    *,
    on_failure: Callable[[int, BaseException], None],
) -> FanOutReport:
    """Start a worker for every segment of the sweep at `at_ms`, a few at a time.

    A segment that cannot be started is reported and skipped: the other segments still sweep.
    """
    report = FanOutReport(at_ms=at_ms, total_segments=segments)
    tasks = [SegmentTask(at_ms, segment, segments) for segment in range(segments)]
    with ThreadPoolExecutor(max_workers=min(DISPATCH_CONCURRENCY, max(1, segments))) as pool:
        futures = [pool.submit(invoker.invoke, task) for task in tasks]
        for task, future in zip(tasks, futures, strict=True):
            error = future.exception()
            if error is not None:
                report.failed.append(task.segment)
                on_failure(task.segment, error)
    return report
