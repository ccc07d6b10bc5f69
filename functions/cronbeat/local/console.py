"""What local mode prints: one timestamped line per request, flip and alert, never interleaved."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Console:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        """A line for the person watching, prefixed with the local time."""
        self.write(f"{time.strftime('%H:%M:%S')}  {text}")

    def write(self, text: str) -> None:
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()

    def error(self, text: str) -> None:
        with self._lock:
            self._err.write(text + "\n")
            self._err.flush()
