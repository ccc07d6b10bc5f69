"""An event a signal handler can set without taking a lock.

A Python signal handler runs in the main thread between two bytecodes, so it may interrupt the
main thread while that thread holds a lock. `threading.Event.set()` takes the lock that
`Event.wait()` holds around each wake-up: called from a handler, it deadlocks when the signal
lands there, or when a second signal lands inside the first handler's `set()`. Both happen:
`make` passes SIGTERM on to its child while a process-group kill sends the child its own.
A byte written to a pipe takes no lock, and the wait selects on the pipe.

The kernel may hand a process-directed signal to any thread. Then the main thread's select is
not interrupted, and the Python handler waits for the main thread to run Python code again: the
wait wakes every HANDLER_CHECK_S to let it.
"""

from __future__ import annotations

import contextlib
import os
import select
import time

HANDLER_CHECK_S = 0.5
"""The longest a signal that landed on another thread waits for its handler."""


class SignalEvent:
    """Set once, from a signal handler or any thread; stays set. POSIX only, as signals are."""

    def __init__(self) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._released = False

    def set(self) -> None:
        if self._released:
            return  # the descriptors may belong to another file by now
        # A full pipe holds earlier wake-ups: it is set already.
        with contextlib.suppress(BlockingIOError):
            os.write(self._write_fd, b"\0")

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once set; False when `timeout_s` passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            left = HANDLER_CHECK_S if deadline is None else deadline - time.monotonic()
            readable, _, _ = select.select(
                [self._read_fd], [], [], min(max(left, 0.0), HANDLER_CHECK_S)
            )
            if readable:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def release(self) -> None:
        """Close the pipe, once no handler can call `set()` any more (they are restored)."""
        if not self._released:
            self._released = True
            os.close(self._read_fd)
            os.close(self._write_fd)
