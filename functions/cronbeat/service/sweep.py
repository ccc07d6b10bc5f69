"""One sweep: evaluate every check at the sweep's time and write the flips and reminders it owes.

The sweep time comes from the caller (the scheduled event's `time`), so a retried invocation
decides exactly what the first one did, and the conditional writes make the retry harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from typing import Literal, Protocol

from cronbeat.domain.machine import attention_at_ms, evaluate
from cronbeat.domain.model import SECOND_MS, Check, Evaluation, Flip
from cronbeat.store.checks import CheckRepository, LostRace, ScannedCheck, UnreadableCheck
from cronbeat.store.expressions import NewItem
from cronbeat.store.history import History

WRITE_CONCURRENCY = 16
"""Flips and reminders in flight at once: within the client's 32 pooled connections, and enough
that a mass outage's round trips overlap."""


class SweepWriter(Protocol):
    """Where a sweep's decisions go; each write returns False when someone else got there first."""

    def write_flip(self, before: Check, rev: int, after: Check, flip: Flip, at_ms: int) -> bool: ...

    def write_reminder(
        self, before: Check, rev: int, after: Check, at_ms: int, *, after_mute: bool = False
    ) -> bool: ...

    def correct_alert_at(self, check: Check, rev: int) -> bool: ...


class SweepWrites:
    """A sweep's flips and reminders: the check, conditioned on the revision the sweep read, and
    its outbox item, in one transaction. A ping, an API change or another scanner that wrote the
    check since wins, and the next sweep decides again on what it wrote."""

    def __init__(self, checks: CheckRepository, history: History) -> None:
        self._checks = checks
        self._history = history

    def write_flip(self, before: Check, rev: int, after: Check, flip: Flip, at_ms: int) -> bool:
        outbox = self._history.flip(
            after, flip, at_ms=at_ms, rev=rev + 1, previous_since_ms=before.status_since_ms
        )
        return self._write(before, rev, after, outbox)

    def write_reminder(
        self, before: Check, rev: int, after: Check, at_ms: int, *, after_mute: bool = False
    ) -> bool:
        outbox = self._history.flip(after, None, at_ms=at_ms, rev=rev + 1, after_mute=after_mute)
        return self._write(before, rev, after, outbox)

    def correct_alert_at(self, check: Check, rev: int) -> bool:
        return self._checks.correct_alert_at(check, rev)

    def _write(self, before: Check, rev: int, after: Check, outbox: NewItem) -> bool:
        try:
            self._checks.write(before, after, rev=rev, extra=[outbox])
        except LostRace:
            return False
        return True


@dataclass(slots=True)
class SweepReport:
    """What one sweep saw and did: the scanner's one log line, and its event metrics."""

    at_ms: int
    scanned: int = 0
    flips: int = 0
    reminders: int = 0
    conflicts: int = 0
    corrected: int = 0
    """Checks that came early (their stored `alert_at` was an estimate) given their exact one."""
    failed: int = 0
    """Checks skipped because they could not be decoded or evaluated: retrying will not help."""
    unwritten: int = 0
    """Flips and reminders whose write failed (not lost a race): a retried sweep writes them."""
    duration_ms: int = 0
    detection_lags_s: list[float] = field(default_factory=list)
    """One per flip written: sweep time minus the moment the check became due to go down."""


Stage = Literal["decode", "evaluate", "write"]
FailureHook = Callable[[str, Stage, BaseException | str], None]
"""Told the id of a check that was skipped, at which stage, and why."""


def _came_early(stored_ms: int | None, check: Check, at_ms: int) -> bool:
    """The filter let this check through on a stored moment that has passed, but its exact moment
    is still to come: storing that one keeps the next sweeps from parsing it again."""
    if stored_ms is not None and stored_ms > at_ms:
        return False  # through the filter for its open run, not its moment
    exact = attention_at_ms(check)
    return exact is None or exact > at_ms


def sweep(
    checks: Iterable[ScannedCheck],
    writer: SweepWriter,
    at_ms: int,
    *,
    timer: Callable[[], float],
    on_failure: FailureHook,
    write_concurrency: int = WRITE_CONCURRENCY,
) -> SweepReport:
    """Evaluate each check at `at_ms` and write what it owes, up to `write_concurrency` writes at
    a time: a mass outage of 10,000 checks is then 10,000 round trips shared by that many threads.

    A check that cannot be decoded, evaluated or written is reported to `on_failure` and skipped,
    so one bad check or one throttled write never costs the other checks their alerts. Counting
    and `on_failure` happen on the calling thread, so the report is exact.
    """
    started = timer()
    report = SweepReport(at_ms=at_ms)
    pending: dict[Future[bool], tuple[str, Evaluation | None]] = {}
    with ThreadPoolExecutor(max_workers=write_concurrency, thread_name_prefix="sweep") as pool:
        for entry in checks:
            report.scanned += 1
            if isinstance(entry, UnreadableCheck):
                report.failed += 1
                on_failure(entry.check_id, "decode", entry.error)
                continue
            check, rev = entry.check, entry.rev
            try:
                evaluation = evaluate(check, at_ms)
            except Exception as exc:  # one bad check must not stop the sweep for all the others
                report.failed += 1
                on_failure(check.id, "evaluate", exc)
                continue
            owes = evaluation.flip is not None or evaluation.reminder
            if not owes and not _came_early(entry.alert_at_ms, check, at_ms):
                continue
            if len(pending) >= 2 * write_concurrency:  # a bounded backlog, not one per check
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    _count(report, future, *pending.pop(future), on_failure)
            if owes:
                future = pool.submit(_write, writer, check, rev, evaluation, at_ms)
                pending[future] = (check.id, evaluation)
            else:
                pending[pool.submit(writer.correct_alert_at, check, rev)] = (check.id, None)
        for future in as_completed(pending):
            _count(report, future, *pending[future], on_failure)
    report.duration_ms = round((timer() - started) * 1000)
    return report


def _write(writer: SweepWriter, check: Check, rev: int, evaluation: Evaluation, at_ms: int) -> bool:
    if evaluation.flip is not None:
        return writer.write_flip(check, rev, evaluation.check, evaluation.flip, at_ms)
    return writer.write_reminder(
        check, rev, evaluation.check, at_ms, after_mute=evaluation.after_mute
    )


def _count(
    report: SweepReport,
    future: Future[bool],
    check_id: str,
    evaluation: Evaluation | None,
    on_failure: FailureHook,
) -> None:
    """Add one finished write to the report: a flip or reminder, or (no evaluation) a
    correction of `alert_at`, whose failure is harmless because the next sweep looks again."""
    error = future.exception()
    if evaluation is None:
        if error is not None:
            on_failure(check_id, "write", error)
        else:
            report.corrected += future.result()
    elif error is not None:  # e.g. throttled: the other checks still get their flips
        report.unwritten += 1
        on_failure(check_id, "write", error)
    elif not future.result():
        report.conflicts += 1
    elif evaluation.flip is not None:
        report.flips += 1
        if evaluation.down_at_ms is not None:
            report.detection_lags_s.append((report.at_ms - evaluation.down_at_ms) / SECOND_MS)
    else:
        report.reminders += 1
