"""`--stuck-after`: the job's output is its progress, reported to the monitor as `/progress`.

A check's `stuck_after` sends an open run down when no progress came for that long. The job's
new output moves that deadline: the first output at once, then at most one ping a minute, however
much it prints. The pings go out on their own thread, so a slow or absent monitor never holds up
the job or its output, and a ping that fails is only counted, for a note in the finish body.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cronbeat.cli.ping import Pinger, PingFailed
from cronbeat.cli.table import duration_text

PROGRESS_INTERVAL_S = 60.0
MIN_STUCK_AFTER_S = 2 * PROGRESS_INTERVAL_S
"""Progress reaches the monitor up to a minute late: a shorter `stuck_after` would misfire."""


@dataclass
class ProgressRate:
    """Whether new output at `now` is worth a ping: the first always, then one per interval."""

    interval_s: float = PROGRESS_INTERVAL_S
    _last_s: float | None = None

    def due(self, now_s: float) -> bool:
        if self._last_s is not None and now_s - self._last_s < self.interval_s:
            return False
        self._last_s = now_s
        return True


@dataclass
class ProgressPings:
    """Sends `/progress` pings beside the job, after the start ping (`after`) has gone.

    It also keeps the run's longest silence, so the body can say when the job was quiet for
    longer than `stuck_after_s`: the monitor will have called that run stuck.
    """

    pinger: Pinger
    url: str
    stuck_after_s: float
    clock: Callable[[], float] = time.monotonic
    after: threading.Thread | None = None
    sent: int = 0
    failed: int = 0
    reason: str = ""
    _rate: ProgressRate = field(default_factory=ProgressRate)
    _wanted: threading.Condition = field(default_factory=threading.Condition)
    _pending: bool = False
    _stopped: bool = False
    _thread: threading.Thread | None = None
    _last_progress_s: float = 0.0
    _longest_silence_s: float = 0.0

    def start(self) -> None:
        self._last_progress_s = self.clock()
        self._thread = threading.Thread(target=self._send_loop, name="cronbeat-progress")
        self._thread.daemon = True
        self._thread.start()

    def notice(self) -> None:
        """The job made progress: ask for a ping if one is due. Never blocks on the network."""
        now_s = self.clock()
        with self._wanted:
            self._silence_until(now_s)
            if not self._stopped and self._rate.due(now_s):
                self._pending = True
                self._wanted.notify()

    def on_output(self, _stream: int, _chunk: bytes) -> None:
        self.notice()

    def stop(self) -> None:
        """No more pings: the run is over. Waits at most one ping's timeout for one in flight."""
        now_s = self.clock()
        with self._wanted:
            self._silence_until(now_s)
            self._stopped = True
            self._wanted.notify()
        if self._thread is not None:
            self._thread.join(self.pinger.timeout_s)

    def notes(self) -> list[str]:
        """What the finish body says: progress pings lost, a silence longer than stuck_after."""
        notes = []
        if self.failed:
            tried = self.sent + self.failed
            notes.append(f"{self.failed} of {tried} progress pings not recorded: {self.reason}")
        if self._longest_silence_s > self.stuck_after_s:
            notes.append(
                f"no progress for {duration_text(self._longest_silence_s)}, longer than "
                f"--stuck-after {duration_text(self.stuck_after_s)}: the run may show as stuck"
            )
        return notes

    def _silence_until(self, now_s: float) -> None:
        if not self._stopped:
            silence_s = now_s - self._last_progress_s
            self._longest_silence_s = max(self._longest_silence_s, silence_s)
            self._last_progress_s = now_s

    def _send_loop(self) -> None:
        if self.after is not None:
            self.after.join()  # progress on a run the monitor has not seen start is lost
        while True:
            with self._wanted:
                while not self._pending and not self._stopped:
                    self._wanted.wait()
                if self._stopped:
                    return
                self._pending = False
            try:
                self.pinger.send(self.url)
                self.sent += 1
            except PingFailed as failure:
                self.failed += 1
                self.reason = str(failure)
