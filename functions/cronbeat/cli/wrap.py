"""`cronbeat run`: ping at the start, run the job, ping its exit status and output tail at the end.

Monitoring never changes the job: it runs, and its exit status comes through, whatever the monitor
does. A ping that still fails after its retries costs one warning line on stderr, no more.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from cronbeat.cli.job import Job, OutputTail, notes_text
from cronbeat.cli.ping import Pinger, PingFailed, PingReply, PingTarget

DEFAULT_OUTPUT_LIMIT_BYTES = 10_000


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


def wrap(
    wrapping: Wrapping, *, stdout: BinaryIO | None = None, stderr: BinaryIO | None = None
) -> int:
    """Run the job under watch; return its exit status (124 timed out, 126/127 not run)."""
    stdout = stdout or _binary(sys.stdout)
    stderr = stderr or _binary(sys.stderr)
    # A finish ping with a rid but no start would make the server look for a run that is not open.
    rid = str(uuid.uuid4()) if wrapping.start_ping else None
    start = _StartPing(wrapping.pinger, wrapping.target.url("start", rid)) if rid else None
    if start:
        start.start()
    tail = OutputTail(wrapping.output_limit_bytes if wrapping.send_output else 0)
    job = Job(
        wrapping.command,
        tail,
        timeout_s=wrapping.timeout_s,
        kill_after_s=wrapping.kill_after_s,
        stdout=stdout,
        stderr=stderr,
    )
    result = job.run()

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
    # Without output, only cronbeat's own notes go (killed, not found): they hold no job output.
    body = tail.body(limit, result.notes) if wrapping.send_output else notes_text(result.notes)
    try:
        wrapping.pinger.send(wrapping.target.url(str(result.exit_status), rid), body)
    except PingFailed as failure:
        lost.append("finish")
        reasons.append(str(failure))
    if lost:
        pings = " and ".join(lost) + (" pings" if len(lost) > 1 else " ping")
        why = "; ".join(dict.fromkeys(reasons))
        warning = f"cronbeat: warning: {pings} not recorded by {wrapping.target.host}: {why}\n"
        try:
            if stderr is not None:
                stderr.write(warning.encode())
                stderr.flush()
        except (OSError, ValueError):
            pass
    return result.exit_status


def _binary(stream: TextIO | None) -> BinaryIO | None:
    """The bytes under a text stream; None when cron started us with that descriptor closed."""
    return getattr(stream, "buffer", None)
