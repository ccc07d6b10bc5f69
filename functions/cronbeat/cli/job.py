"""Running the wrapped job exactly as cron would, while watching it.

The job runs without a shell, with our stdin. Its stdout and stderr are copied to ours as they
arrive, and the last bytes of both, interleaved, are kept for the finish ping. A hung job is killed
the way coreutils `timeout` kills it, and SIGINT, SIGTERM and SIGHUP are passed on to it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import IO, Any, BinaryIO

from cronbeat.cli.table import duration_text

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TIMED_OUT_STATUS = 124  # what coreutils `timeout` exits with
NOT_EXECUTABLE_STATUS = 126  # what a POSIX shell exits with
NOT_FOUND_STATUS = 127
DRAIN_GRACE_S = 2.0
_READ_CHUNK_BYTES = 65536
_SHELL_LINE = re.compile(r"\s|&&|\|\||[|;<>$`]")
"""What only a shell understands in a program name: spaces, pipes, redirections, `&&`."""
_UTF8_CONTINUATION = range(0x80, 0xC0)

SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
OutputListener = Callable[[int, bytes], None]
"""Called with 1 (stdout) or 2 (stderr) and each chunk, on the thread that copies that stream."""


class OutputTail:
    """The last `limit_bytes` of a job's stdout and stderr, interleaved as they arrived."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self.total_bytes = 0
        self._kept = bytearray()
        self._lock = threading.Lock()

    def append(self, chunk: bytes) -> None:
        with self._lock:
            self.total_bytes += len(chunk)
            self._kept += chunk[-self.limit_bytes :] if self.limit_bytes else b""
            excess = len(self._kept) - self.limit_bytes
            if excess > 0:
                del self._kept[:excess]

    def body(self, limit_bytes: int, notes: Sequence[str] = ()) -> bytes:
        """A ping body of at most `limit_bytes`: a truncation notice, the tail, then `notes`.

        The notes are cronbeat's own lines (the job was killed, or could not start); they are
        kept whole, and the job's output gives way to them.
        """
        footer = notes_text(notes)
        with self._lock:
            kept, total = bytes(self._kept), self.total_bytes
        if footer and kept and not kept.endswith(b"\n"):
            footer = b"\n" + footer
        room = max(0, limit_bytes - len(footer))
        if total <= room and len(kept) == total:
            return (kept + footer)[:limit_bytes]
        notice_width = len(_truncation_notice(total, total))
        tail = _utf8_start(kept[len(kept) - max(0, room - notice_width) :]) if room else b""
        notice = _truncation_notice(len(tail), total) if room >= notice_width else b""
        return (notice + tail + footer)[:limit_bytes]


def notes_text(notes: Sequence[str]) -> bytes:
    """cronbeat's own lines in a ping body, set apart from the job's output."""
    return "".join(f"[cronbeat: {note}]\n" for note in notes).encode()


def _truncation_notice(kept: int, total: int) -> bytes:
    return f"[cronbeat: output truncated: the last {kept:,} of {total:,} bytes]\n".encode()


def _utf8_start(data: bytes) -> bytes:
    """Drop the stray continuation bytes a cut can leave before the first whole character.

    The same rule as `cronbeat.domain.text.utf8_tail`, copied because the CLI stays
    standard-library-only and installable on its own.
    """
    skip = 0
    while skip < min(3, len(data)) and data[skip] in _UTF8_CONTINUATION:
        skip += 1
    return data[skip:]


@dataclass(frozen=True)
class JobResult:
    """How the job ended, as cronbeat reports it and exits with."""

    exit_status: int
    notes: tuple[str, ...] = ()
    timed_out: bool = False
    ran: bool = True
    """False when the command could not be started (126, 127): running it again cannot help."""


@dataclass
class Job:
    """One run of a command; `run()` blocks until it has ended and its output is drained."""

    command: Sequence[str]
    tail: OutputTail
    timeout_s: float | None = None
    kill_after_s: float = 10.0
    stdout: BinaryIO | None = None
    stderr: BinaryIO | None = None
    on_output: OutputListener | None = None
    received: list[int] = field(default_factory=list, init=False)
    """The signals cronbeat got while the job ran (and passed on to it)."""
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _own_group: bool = field(default=False, init=False, repr=False)
    _pending: list[int] = field(default_factory=list, init=False, repr=False)

    def run(self) -> JobResult:
        previous = self._forward_signals()
        try:
            try:
                self._process = self._spawn()
            except OSError as error:
                return self._not_started(error)
            for signum in self._pending:
                self._signal(signum)
            pumps = [
                self._pump(self._process.stdout, self.stdout, 1),
                self._pump(self._process.stderr, self.stderr, 2),
            ]
            result = self._wait()
            if _joined(pumps, DRAIN_GRACE_S):
                return result
            note = "output after exit not captured: a background process kept it open"
            return replace(result, notes=(*result.notes, note))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _spawn(self) -> subprocess.Popen[bytes]:
        # Without a terminal, the job gets its own process group, so that a timeout kills what
        # it started too. With one, it stays in ours, or it could no longer read the terminal.
        self._own_group = not _stdin_is_terminal()
        return subprocess.Popen(  # noqa: S603 (running the user's command is the point)
            list(self.command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0 if self._own_group else None,
        )

    def _not_started(self, error: OSError) -> JobResult:
        program = self.command[0]
        if isinstance(error, FileNotFoundError) and not _exists(program):
            what = "no such file" if os.sep in program else "command not found"
            if _SHELL_LINE.search(program):
                # One argument with spaces or shell syntax is a command line for a shell.
                what += f" (for a shell command line: cronbeat run -- sh -c {shlex.quote(program)})"
            return JobResult(NOT_FOUND_STATUS, (self._complain(f"{program}: {what}"),), ran=False)
        reason = (error.strerror or str(error)).lower()
        if isinstance(error, FileNotFoundError):
            reason = "bad interpreter (the #! line names a program that does not exist)"
        note = self._complain(f"{program}: {reason}")
        return JobResult(NOT_EXECUTABLE_STATUS, (note,), ran=False)

    def _wait(self) -> JobResult:
        process = self._process
        assert process is not None
        if self.timeout_s is None:
            return JobResult(*_exit_status(process.wait()))
        try:
            return JobResult(*_exit_status(process.wait(self.timeout_s)))
        except subprocess.TimeoutExpired:
            pass
        self._signal(signal.SIGTERM)
        how = "SIGTERM"
        try:
            process.wait(self.kill_after_s)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            process.wait()
            how = f"SIGTERM, then SIGKILL {duration_text(self.kill_after_s)} later"
        note = f"killed: timed out after {duration_text(self.timeout_s)} ({how})"
        return JobResult(TIMED_OUT_STATUS, (self._complain(note),), timed_out=True)

    def _complain(self, note: str) -> str:
        """Say on stderr what cronbeat did or saw, as a shell would; return it for the body."""
        say(self.stderr, note)
        return note

    def _pump(
        self, source: IO[bytes] | None, sink: BinaryIO | None, stream: int
    ) -> threading.Thread:
        assert source is not None
        thread = threading.Thread(target=self._copy, args=(source, sink, stream), daemon=True)
        thread.start()
        return thread

    def _copy(self, source: IO[bytes], sink: BinaryIO | None, stream: int) -> None:
        fd = source.fileno()
        try:
            while chunk := os.read(fd, _READ_CHUNK_BYTES):
                self.tail.append(chunk)
                if self.on_output is not None:
                    self.on_output(stream, chunk)
                if sink is not None and not _write(sink, chunk):
                    sink = None  # our reader went away; keep draining so the job never blocks
        finally:
            source.close()

    def _forward_signals(self) -> dict[int, SignalHandler]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, SignalHandler] = {}
        for signum in FORWARDED_SIGNALS:
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        if self._process is None:
            self._pending.append(signum)
        else:
            self._signal(signum)

    def _signal(self, signum: int) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            if self._own_group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
        except ProcessLookupError:
            pass


def _exit_status(returncode: int) -> tuple[int, tuple[str, ...]]:
    """A shell's view: death by signal N is 128 + N, and the body says which signal."""
    if returncode >= 0:
        return returncode, ()
    signum = -returncode
    return 128 + signum, (f"the job was killed by {signal_name(signum)}",)


def signal_name(signum: int) -> str:
    """`SIGTERM`, or `signal 42` for a number without a name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def say(stderr: BinaryIO | None, line: str) -> None:
    """One line of cronbeat's own on stderr; lost without complaint when nobody reads it."""
    _write(stderr, f"cronbeat: {line}\n".encode())


def _joined(threads: Sequence[threading.Thread], grace_s: float) -> bool:
    """Whether every thread finished within `grace_s` in all."""
    deadline = time.monotonic() + grace_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


def _write(sink: BinaryIO | None, data: bytes) -> bool:
    if sink is None:
        return False
    try:
        sink.write(data)
        sink.flush()
    except (OSError, ValueError):
        return False
    return True


def _exists(program: str) -> bool:
    return os.path.exists(program) if os.sep in program else shutil.which(program) is not None


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False
