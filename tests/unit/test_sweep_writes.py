"""A sweep writes its flips in parallel, never more than its bound at once, and counts exactly."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cronbeat.domain.model import Check
from cronbeat.service.sweep import WRITE_CONCURRENCY, Owed, Stage, sweep
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
    batches: list[int] = field(default_factory=list)
    """How many checks each call wrote together."""
    hold_first: threading.Event | None = None
    """The first call waits for it: writes are then in flight while the sweep reads on."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    barrier: threading.Barrier = field(init=False)

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.together, timeout=10)

    def write_owed(self, owed: Sequence[Owed], at_ms: int) -> list[bool]:
        with self.lock:
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
            self.batches.append(len(owed))
        try:
            # Passes only once `together` writes are in flight: a sweep that wrote one at a time
            # would break the barrier (BrokenBarrierError) and count every write unwritten.
            if self.hold_first is not None and len(self.batches) == 1:
                assert self.hold_first.wait(timeout=10)
            self.barrier.wait()
            ids = [one.check.id for one in owed]
            if self.failing.intersection(ids):
                raise RuntimeError("throttled")
            with self.lock:
                self.written.extend(ids)
            return [check_id not in self.lost for check_id in ids]
        finally:
            with self.lock:
                self.active -= 1

    def correct_alert_at(self, check: Check, rev: int) -> bool:
        raise AssertionError("no check here has an early alert_at")


def test_flips_are_written_in_parallel_never_more_than_the_bound_at_once() -> None:
    # Given 10 rounds' worth of overdue checks, one to a transaction, and a writer that lets
    # writes through only when the full bound of them is in flight
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
        writes_together=1,
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
        writes_together=1,
    )
    # Then the failing write is reported and counted unwritten, the lost race as a conflict,
    # and the six others are written
    assert failures == [(failing, "write", "throttled")]
    assert (report.flips, report.conflicts, report.unwritten) == (6, 1, 1)
    assert len(writer.written) == 7
    assert writer.most_at_once == 4


def released_after(checks: list[StoredCheck], release: threading.Event) -> Iterator[StoredCheck]:
    """The checks, then `release` set once the sweep has read the last of them."""
    yield from checks
    release.set()


def test_flips_gather_into_transactions_while_a_write_is_in_flight() -> None:
    # Given 60 overdue checks, and a writer whose first write takes until the scan has ended
    checks = overdue(60)
    release = threading.Event()
    writer = RecordingWriter(together=1, hold_first=release)
    # When they are swept, 25 to a transaction at most
    report = sweep(
        released_after(checks, release),
        writer,
        T0,
        timer=time.perf_counter,
        on_failure=lambda check_id, stage, error: None,
        writes_together=25,
    )
    # Then the first went alone (nothing was in flight), the next gathered up to the bound
    # while it was held, and the rest went at the end
    assert writer.batches == [1, 25, 25, 9]
    assert (report.flips, report.unwritten) == (60, 0)
    assert sorted(writer.written) == sorted(stored.check.id for stored in checks)


def test_a_transaction_that_fails_is_written_again_one_check_at_a_time() -> None:
    # Given 10 overdue checks gathered behind a held first write, of which one cannot be written
    # and one loses its race
    checks = overdue(10)
    failing, lost = checks[4].check.id, checks[7].check.id
    release = threading.Event()
    writer = RecordingWriter(
        together=1, failing=frozenset({failing}), lost=frozenset({lost}), hold_first=release
    )
    failures: list[tuple[str, Stage, str]] = []
    # When they are swept
    report = sweep(
        released_after(checks, release),
        writer,
        T0,
        timer=time.perf_counter,
        on_failure=lambda check_id, stage, error: failures.append((check_id, stage, str(error))),
        writes_together=25,
    )
    # Then the transaction of nine failed as a whole and each of its checks was tried alone
    assert writer.batches == [1, 9, *[1] * 9]
    # And only the check that cannot be written is left out; the lost race is a conflict
    assert failures == [(failing, "write", "throttled")]
    assert (report.flips, report.conflicts, report.unwritten) == (8, 1, 1)
