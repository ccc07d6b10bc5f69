"""A sweep writes its flips in parallel, never more than its bound at once, and counts exactly."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from cronbeat.domain.model import Check, Flip
from cronbeat.service.sweep import WRITE_CONCURRENCY, Stage, sweep
from cronbeat.store.checks import StoredCheck
from tests.unit.checks import HOUR, T0, make_check


def overdue(count: int) -> list[StoredCheck]:
    """`count` checks last pinged 2 h before T0 (timeout 1 h, grace 10 min): each owes a flip."""
    return [
        StoredCheck(
            make_check(id=str(uuid.UUID(int=n)), status="up", last_ping_ms=T0 - 2 * HOUR), rev=1
        )
        for n in range(count)
    ]


@dataclass
class RecordingWriter:
    """Records how many writes run at once; each write waits until `together` writes are in."""

    together: int
    failing: frozenset[str] = frozenset()
    lost: frozenset[str] = frozenset()
    active: int = 0
    most_at_once: int = 0
    written: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    barrier: threading.Barrier = field(init=False)

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.together, timeout=10)

    def write_flip(self, before: Check, rev: int, after: Check, flip: Flip, at_ms: int) -> bool:
        with self.lock:
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
        try:
            # Passes only once `together` writes are in flight: a sweep that wrote one at a time
            # would break the barrier (BrokenBarrierError) and count every write unwritten.
            self.barrier.wait()
            if before.id in self.failing:
                raise RuntimeError("throttled")
            with self.lock:
                self.written.append(before.id)
            return before.id not in self.lost
        finally:
            with self.lock:
                self.active -= 1

    def write_reminder(self, before: Check, rev: int, after: Check, at_ms: int) -> bool:
        raise AssertionError("no check here owes a reminder")


def test_flips_are_written_in_parallel_never_more_than_the_bound_at_once() -> None:
    # Given 10 rounds' worth of overdue checks, and a writer that lets writes through only when
    # the full bound of them is in flight
    checks = overdue(10 * WRITE_CONCURRENCY)
    writer = RecordingWriter(together=WRITE_CONCURRENCY)
    failures: list[tuple[str, Stage]] = []
    # When they are swept
    report = sweep(
        checks,
        writer,
        T0,
        timer=time.perf_counter,
        on_failure=lambda check_id, stage, _: failures.append((check_id, stage)),
    )
    # Then the bound was reached and never passed, and every flip was written and counted
    assert writer.most_at_once == WRITE_CONCURRENCY
    assert failures == []
    assert (report.scanned, report.flips, report.unwritten) == (len(checks), len(checks), 0)
    assert sorted(writer.written) == sorted(stored.check.id for stored in checks)
    assert len(report.detection_lags_s) == len(checks)


def test_a_failing_write_counts_as_unwritten_and_stops_no_other_write() -> None:
    # Given 8 overdue checks written 4 at a time, of which one write fails and one loses a race
    checks = overdue(8)
    failing, lost = checks[2].check.id, checks[5].check.id
    writer = RecordingWriter(together=4, failing=frozenset({failing}), lost=frozenset({lost}))
    failures: list[tuple[str, Stage, str]] = []
    # When they are swept
    report = sweep(
        checks,
        writer,
        T0,
        timer=time.perf_counter,
        on_failure=lambda check_id, stage, error: failures.append((check_id, stage, str(error))),
        write_concurrency=4,
    )
    # Then the failing write is reported and counted unwritten, the lost race as a conflict,
    # and the six others are written
    assert failures == [(failing, "write", "throttled")]
    assert (report.flips, report.conflicts, report.unwritten) == (6, 1, 1)
    assert len(writer.written) == 7
    assert writer.most_at_once == 4
