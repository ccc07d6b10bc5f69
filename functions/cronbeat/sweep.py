"""One sweep: evaluate every check at the sweep's time and write the flips and reminders it owes.

The sweep time comes from the caller (the scheduled event's `time`), so a retried invocation
decides exactly what the first one did, and the conditional writes make the retry harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cronbeat.domain.machine import evaluate
from cronbeat.domain.model import SECOND_MS, Check, Flip
from cronbeat.store.sweeps import ScannedCheck, UnreadableCheck


class SweepWriter(Protocol):
    """Where a sweep's decisions go; each write returns False when someone else got there first."""

    def write_flip(self, before: Check, rev: int, after: Check, flip: Flip, at_ms: int) -> bool: ...

    def write_reminder(self, before: Check, rev: int, after: Check, at_ms: int) -> bool: ...


@dataclass(slots=True)
class SweepReport:
    """What one sweep saw and did: the scanner's one log line, and its event metrics."""

    at_ms: int
    scanned: int = 0
    flips: int = 0
    reminders: int = 0
    conflicts: int = 0
    failed: int = 0
    """Checks skipped because they could not be decoded or evaluated."""
    duration_ms: int = 0
    detection_lags_s: list[float] = field(default_factory=list)
    """One per flip written: sweep time minus the moment the check became due to go down."""


FailureHook = Callable[[str, BaseException | str], None]
"""Told the id of a check that was skipped, and why."""


def sweep(
    checks: Iterable[ScannedCheck],
    writer: SweepWriter,
    at_ms: int,
    *,
    timer: Callable[[], float],
    on_failure: FailureHook,
) -> SweepReport:
    """Evaluate each check at `at_ms`; a check that cannot be evaluated is reported and skipped."""
    started = timer()
    report = SweepReport(at_ms=at_ms)
    for entry in checks:
        report.scanned += 1
        if isinstance(entry, UnreadableCheck):
            report.failed += 1
            on_failure(entry.check_id, entry.error)
            continue
        check, rev = entry
        try:
            evaluation = evaluate(check, at_ms)
        except Exception as exc:  # one bad check must not stop the sweep for all the others
            report.failed += 1
            on_failure(check.id, exc)
            continue
        if evaluation.flip is not None:
            if writer.write_flip(check, rev, evaluation.check, evaluation.flip, at_ms):
                report.flips += 1
                if evaluation.down_at_ms is not None:
                    report.detection_lags_s.append((at_ms - evaluation.down_at_ms) / SECOND_MS)
            else:
                report.conflicts += 1
        elif evaluation.reminder:
            if writer.write_reminder(check, rev, evaluation.check, at_ms):
                report.reminders += 1
            else:
                report.conflicts += 1
    report.duration_ms = round((timer() - started) * 1000)
    return report
