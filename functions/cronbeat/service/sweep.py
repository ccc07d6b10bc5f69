"""One sweep: evaluate every check at the sweep's time and write the flips and reminders it owes.

The sweep time comes from the caller (the scheduled event's `time`), so a retried invocation
decides exactly what the first one did, and the conditional writes make the retry harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from cronbeat.domain.machine import attention_at_ms, evaluate
from cronbeat.domain.model import SECOND_MS, Check, Evaluation
from cronbeat.store.checks import (
    MAX_WRITES_TOGETHER,
    CheckRepository,
    CheckWrite,
    ScannedCheck,
    StoredCheck,
    UnreadableCheck,
)
from cronbeat.store.history import History

WRITE_CONCURRENCY = 16
"""Flips and reminders in flight at once: within the client's 32 pooled connections, and enough
that a mass outage's round trips overlap."""


@dataclass(frozen=True, slots=True)
class Owed:
    """A flip or reminder a check owes: the check as the sweep read it, and what it decided."""

    check: Check
    rev: int
    evaluation: Evaluation


class SweepWriter(Protocol):
    """Where a sweep's decisions go; each write is False when someone else got there first."""

    def write_owed(self, owed: Sequence[Owed], at_ms: int) -> list[bool]: ...

    def correct_alert_at(self, check: Check, rev: int) -> bool: ...


class SweepWrites:
    """A sweep's flips and reminders: each check, conditioned on the revision the sweep read, and
    its outbox item, several checks to a transaction. A ping, an API change or another scanner
    that wrote a check since wins, and the next sweep decides again on what it wrote."""

    def __init__(self, checks: CheckRepository, history: History) -> None:
        self._checks = checks
        self._history = history

    def write_owed(self, owed: Sequence[Owed], at_ms: int) -> list[bool]:
        return self._checks.write_together([self._check_write(one, at_ms) for one in owed])

    def correct_alert_at(self, check: Check, rev: int) -> bool:
        return self._checks.correct_alert_at(check, rev)

    def _check_write(self, owed: Owed, at_ms: int) -> CheckWrite:
        before, rev, evaluation = owed.check, owed.rev, owed.evaluation
        outbox = self._history.flip(
            evaluation.check,
            evaluation.flip,
            at_ms=at_ms,
            rev=rev + 1,
            previous_since_ms=before.status_since_ms if evaluation.flip is not None else None,
            after_mute=evaluation.after_mute,
        )
        return CheckWrite(before, evaluation.check, rev, (outbox,))


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
    writes_together: int = MAX_WRITES_TOGETHER,
) -> SweepReport:
    """Evaluate each check at `at_ms` and write what it owes: up to `writes_together` checks to
    a transaction and up to `write_concurrency` transactions at a time, so a mass outage of
    10,000 checks is a few hundred round trips, overlapped. While nothing is in flight a flip is
    written at once, alone; while writes are in flight the next ones gather into one.

    A check that cannot be decoded, evaluated or written is reported to `on_failure` and skipped,
    so one bad check or one throttled write never costs the other checks their alerts: a
    transaction that fails for anything but a lost race is written again one check at a time.
    Counting and `on_failure` happen on the calling thread, so the report is exact.
    """
    started = timer()
    report = SweepReport(at_ms=at_ms)
    pending: dict[Future[Any], list[Owed] | StoredCheck] = {}
    gathered: list[Owed] = []

    def settle(done: Iterable[Future[Any]]) -> None:
        for future in done:
            _count(report, future, pending.pop(future), on_failure)

    with ThreadPoolExecutor(max_workers=write_concurrency, thread_name_prefix="sweep") as pool:

        def submit(task: Callable[[], Any], what: list[Owed] | StoredCheck) -> None:
            if len(pending) >= 2 * write_concurrency:  # a bounded backlog, not one per check
                settle(wait(pending, return_when=FIRST_COMPLETED).done)
            pending[pool.submit(task)] = what

        def send_gathered() -> None:
            batch = list(gathered)
            gathered.clear()
            submit(partial(_write_owed, writer, batch, at_ms), batch)

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
            if evaluation.flip is not None or evaluation.reminder:
                gathered.append(Owed(check, rev, evaluation))
            elif _came_early(entry.alert_at_ms, check, at_ms):
                submit(partial(writer.correct_alert_at, check, rev), entry)
            if gathered and (len(gathered) >= writes_together or all(f.done() for f in pending)):
                send_gathered()
        if gathered:
            send_gathered()
        settle(as_completed(list(pending)))
    report.duration_ms = round((timer() - started) * 1000)
    return report


def _write_owed(writer: SweepWriter, owed: list[Owed], at_ms: int) -> list[bool | BaseException]:
    """Write `owed` together; if that fails for anything but lost races, one at a time, so only
    the check that cannot be written is left out."""
    try:
        return list(writer.write_owed(owed, at_ms))
    except Exception as exc:
        if len(owed) == 1:
            return [exc]
    results: list[bool | BaseException] = []
    for one in owed:
        try:
            results.extend(writer.write_owed([one], at_ms))
        except Exception as exc:  # e.g. an item DynamoDB refuses: the others are written
            results.append(exc)
    return results


def _count(
    report: SweepReport,
    future: Future[Any],
    what: list[Owed] | StoredCheck,
    on_failure: FailureHook,
) -> None:
    """Add one finished task to the report: written flips and reminders, or the correction of a
    check's `alert_at`, whose failure is harmless because the next sweep looks again."""
    error = future.exception()
    if isinstance(what, StoredCheck):
        if error is not None:
            on_failure(what.check.id, "write", error)
        else:
            report.corrected += future.result()
        return
    results: list[bool | BaseException] = (
        [error] * len(what) if error is not None else future.result()
    )
    for owed, result in zip(what, results, strict=True):
        evaluation = owed.evaluation
        if isinstance(result, BaseException):  # e.g. throttled: the others still get theirs
            report.unwritten += 1
            on_failure(owed.check.id, "write", result)
        elif not result:
            report.conflicts += 1
        elif evaluation.flip is not None:
            report.flips += 1
            if evaluation.down_at_ms is not None:
                report.detection_lags_s.append((report.at_ms - evaluation.down_at_ms) / SECOND_MS)
        else:
            report.reminders += 1
