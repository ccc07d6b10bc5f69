"""`cronbeat run`: ping at the start, run the job, ping its exit status and output tail at the end.

Monitoring never changes the job: it runs, and its exit status comes through, whatever the monitor
does. A ping that still fails after its retries costs one warning line on stderr, no more.

With `--retries-job N` a failing job runs again, up to N more times, inside the same run: one start
ping, one finish ping, and only the last attempt decides success or failure, so a run that healed
never alerts. The finish body lists every attempt.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import BinaryIO, TextIO

from cronbeat.cli.count import CountLine, count_from_file
from cronbeat.cli.job import (
    FORWARDED_SIGNALS,
    Job,
    JobResult,
    OutputTail,
    notes_text,
    say,
    signal_name,
)
from cronbeat.cli.ping import Pinger, PingFailed, PingReply, PingTarget, backoff_s
from cronbeat.cli.progress import ProgressPings
from cronbeat.cli.signals import SignalEvent
from cronbeat.cli.table import duration_text

DEFAULT_OUTPUT_LIMIT_BYTES = 10_000
DEFAULT_RETRY_DELAY_S = 10.0


@dataclass(frozen=True)
class Wrapping:
    """What `cronbeat run` was asked to do."""

    target: PingTarget
    command: Sequence[str]
    pinger: Pinger = field(default_factory=Pinger)
    timeout_s: float | None = None
    kill_after_s: float = 10.0
    output_limit_bytes: int = DEFAULT_OUTPUT_LIMIT_BYTES
    send_output: bool = True
    start_ping: bool = True
    job_retries: int = 0
    """Runs of the job after a failed first one (`--retries-job`): N + 1 attempts at most."""
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S
    stuck_after_s: float | None = None
    count_from: Path | None = None
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random
    sleep: Callable[[float], object] | None = None
    """Waits out a retry's backoff; by default a wait that a signal to cronbeat cuts short."""

    @property
    def attempts(self) -> int:
        return self.job_retries + 1


class _StartPing(threading.Thread):
    """The start ping goes out beside the job, so a slow or absent monitor never delays it."""

    def __init__(self, pinger: Pinger, url: str) -> None:
        super().__init__(name="cronbeat-start-ping", daemon=True)
        self.pinger, self.url = pinger, url
        self.reply: PingReply | None = None
        self.failure: PingFailed | None = None

    def run(self) -> None:
        try:
            self.reply = self.pinger.send(self.url)
        except PingFailed as failure:
            self.failure = failure


@dataclass(frozen=True)
class Attempt:
    """One run of the job inside the run the monitor sees."""

    result: JobResult
    tail: OutputTail
    duration_s: float
    count: CountLine
    signals: tuple[int, ...]
    """The signals cronbeat passed on to the job while it ran."""


def wrap(
    wrapping: Wrapping, *, stdout: BinaryIO | None = None, stderr: BinaryIO | None = None
) -> int:
    """Run the job under watch; return its (last attempt's) exit status: 124 timed out,
    126/127 not run."""
    stdout = stdout or _binary(sys.stdout)
    stderr = stderr or _binary(sys.stderr)
    # A finish ping with a rid but no start would make the server look for a run that is not open.
    rid = str(uuid.uuid4()) if wrapping.start_ping else None
    start = _StartPing(wrapping.pinger, wrapping.target.url("start", rid)) if rid else None
    if start:
        start.start()
    progress = None
    if wrapping.stuck_after_s is not None:
        # One try each: a progress ping retried late is worth less than the next one.
        quick = Pinger(retries=0, timeout_s=wrapping.pinger.timeout_s)
        url = wrapping.target.url("progress", rid)
        progress = ProgressPings(
            quick, url, wrapping.stuck_after_s, clock=wrapping.clock, after=start
        )
        progress.start()

    attempts, stopped_by = _attempts(wrapping, progress, stdout, stderr)
    if progress:
        progress.stop()

    lost: list[str] = []
    reasons: list[str] = []
    limit = wrapping.output_limit_bytes
    if start:
        start.join()
        if start.failure:
            lost.append("start")
            reasons.append(str(start.failure))
        elif start.reply and start.reply.body_limit_bytes is not None:
            limit = min(limit, start.reply.body_limit_bytes)
    count, notes = _count(wrapping, attempts[-1])
    if progress:
        notes += progress.notes()
    params = {"count": count} if count is not None else {}
    if wrapping.job_retries:
        params |= {"attempt": len(attempts), "attempts": wrapping.attempts}
    body = _body(wrapping, attempts, stopped_by, limit, notes)
    last = attempts[-1].result
    try:
        wrapping.pinger.send(wrapping.target.url(str(last.exit_status), rid, params), body)
    except PingFailed as failure:
        lost.append("finish")
        reasons.append(str(failure))
    if lost:
        pings = " and ".join(lost) + (" pings" if len(lost) > 1 else " ping")
        why = "; ".join(dict.fromkeys(reasons))
        say(stderr, f"warning: {pings} not recorded by {wrapping.target.host}: {why}")
    return last.exit_status


def _attempts(
    wrapping: Wrapping,
    progress: ProgressPings | None,
    stdout: BinaryIO | None,
    stderr: BinaryIO | None,
) -> tuple[list[Attempt], str | None]:
    """Run the job until it succeeds, cannot start, a signal stops it, or the attempts run out.

    Returns the attempts and, when a signal ended the retries early, its name.
    """
    attempts: list[Attempt] = []
    with _stop_on_signals(enabled=wrapping.job_retries > 0) as stopped:
        while True:
            attempt = _attempt(wrapping, progress, stdout, stderr)
            attempts.append(attempt)
            result = attempt.result
            if result.exit_status == 0 or not result.ran or len(attempts) == wrapping.attempts:
                return attempts, None
            if stopped or attempt.signals:
                return attempts, signal_name((stopped.signals or attempt.signals)[0])
            delay_s = backoff_s(wrapping.retry_delay_s, len(attempts) - 1, wrapping.jitter())
            say(
                stderr,
                f"attempt {len(attempts)} of {wrapping.attempts} failed "
                f"(exit status {result.exit_status}); retrying in {duration_text(delay_s)}",
            )
            if wrapping.sleep is not None:
                wrapping.sleep(delay_s)
            else:
                stopped.wait(delay_s)
            if stopped:
                return attempts, signal_name(stopped.signals[0])
            if progress:
                progress.notice()  # a new attempt is progress, though it has printed nothing yet


def _attempt(
    wrapping: Wrapping,
    progress: ProgressPings | None,
    stdout: BinaryIO | None,
    stderr: BinaryIO | None,
) -> Attempt:
    tail = OutputTail(wrapping.output_limit_bytes if wrapping.send_output else 0)
    count = CountLine()

    def on_output(stream: int, chunk: bytes) -> None:
        count.feed(stream, chunk)
        if progress:
            progress.notice()

    job = Job(
        wrapping.command,
        tail,
        timeout_s=wrapping.timeout_s,
        kill_after_s=wrapping.kill_after_s,
        stdout=stdout,
        stderr=stderr,
        on_output=on_output,
    )
    began_s = wrapping.clock()
    result = job.run()
    count.close()
    return Attempt(result, tail, wrapping.clock() - began_s, count, tuple(job.received))


class _Stop:
    """The signals that came between attempts (or during one): any of them ends the retries."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self._event = SignalEvent()

    def __bool__(self) -> bool:
        return bool(self.signals)

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals.append(signum)
        self._event.set()

    def wait(self, seconds: float) -> None:
        self._event.wait(seconds)

    def release(self) -> None:
        self._event.release()


@contextmanager
def _stop_on_signals(*, enabled: bool) -> Iterator[_Stop]:
    """While retrying, SIGINT, SIGTERM and SIGHUP stop the retries instead of killing cronbeat,
    so the run still gets its finish ping. (While the job runs, `Job` passes them on to it.)"""
    stop = _Stop()
    previous = {}
    if enabled and threading.current_thread() is threading.main_thread():
        previous = {signum: signal.signal(signum, stop.on_signal) for signum in FORWARDED_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stop.release()


def _count(wrapping: Wrapping, last: Attempt) -> tuple[int | None, list[str]]:
    """The run's count (from `--count-from`, else the last attempt's output) and any note."""
    if wrapping.count_from is None:
        found = last.count
        return found.count, [found.malformed] if found.malformed else []
    try:
        return count_from_file(wrapping.count_from), []
    except ValueError as error:
        return None, [f"--count-from ignored: {error}"]


def _body(
    wrapping: Wrapping,
    attempts: Sequence[Attempt],
    stopped_by: str | None,
    limit: int,
    notes: Sequence[str],
) -> bytes:
    """The finish body within `limit`: each attempt's tail and notes, then the run's `notes`.

    With retries it opens with the outcome and gives each attempt a heading; the attempts share
    the room left, and one that needs less leaves the rest to the others.
    """
    if not wrapping.job_retries:
        only = attempts[0]
        return _attempt_body(wrapping, only, limit, [*only.result.notes, *notes])
    headings = [_heading(n, wrapping.attempts, a) for n, a in enumerate(attempts, start=1)]
    summary = notes_text([_outcome(attempts, wrapping.attempts, stopped_by)])
    footer = notes_text(notes)
    room = max(0, limit - len(summary) - len(footer) - sum(len(h) for h in headings))
    needs = [len(_attempt_body(wrapping, a, room, a.result.notes)) for a in attempts]
    shares = [0] * len(attempts)
    for placed, index in enumerate(sorted(range(len(attempts)), key=needs.__getitem__)):
        shares[index] = min(needs[index], room // (len(attempts) - placed))
        room -= shares[index]
    sections = [
        heading + _attempt_body(wrapping, attempt, share, attempt.result.notes)
        for heading, attempt, share in zip(headings, attempts, shares, strict=True)
    ]
    return (summary + b"".join(sections) + footer)[:limit]


def _attempt_body(wrapping: Wrapping, attempt: Attempt, limit: int, notes: Sequence[str]) -> bytes:
    # Without output, only cronbeat's own notes go (killed, not found): they hold no job output.
    if not wrapping.send_output:
        return notes_text(notes)[:limit]
    return attempt.tail.body(limit, notes)


def _outcome(attempts: Sequence[Attempt], most: int, stopped_by: str | None) -> str:
    """The body's first line: how the run ended, in words."""
    last, n = attempts[-1].result, len(attempts)
    if last.exit_status == 0:
        return f"succeeded on attempt {n} of {most}"
    if n == most:
        return f"failed on all {most} attempts"
    if not last.ran:
        return f"failed on attempt {n} of {most}: the command could not start, so no retry"
    return f"failed on attempt {n} of {most}: {stopped_by} stopped the retries"


def _heading(n: int, most: int, attempt: Attempt) -> bytes:
    status = attempt.result.exit_status
    took = duration_text(attempt.duration_s)
    return notes_text([f"attempt {n} of {most}: exit status {status} after {took}"])


def _binary(stream: TextIO | None) -> BinaryIO | None:
    """The bytes under a text stream; None when cron started us with that descriptor closed."""
    return getattr(stream, "buffer", None)
