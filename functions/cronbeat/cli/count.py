"""The run's count: what the job says it did, for the monitor's `min_count` assertion.

A job prints a line `CRONBEAT_COUNT=N` (stdout or stderr; the last one wins), or `--count-from
FILE` names a file holding the number. A bad value is never a crash: it is left out, and the
ping body says why.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

COUNT_VARIABLE = "CRONBEAT_COUNT"
MAX_COUNT_DIGITS = 18
"""Larger numbers are no count a job means (and would not fit the server's 64-bit integer)."""
_MAX_LINE_BYTES = 256
"""A count line is short: a longer unfinished line is not buffered, so huge output costs nothing."""
_VARIABLE = COUNT_VARIABLE.encode() + b"="
_COUNT_LINE = re.compile(rb"^[ \t]*" + _VARIABLE + rb"(.*?)[ \t\r]*$", re.MULTILINE)
_SHOWN_CHARS = 40


def parse_count(text: str) -> int:
    """A count as a job writes it: a whole number, 0 or more; ValueError says what is wrong."""
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"not a whole number of 0 or more: {_shown(value)!r}")
    if len(value) > MAX_COUNT_DIGITS:
        raise ValueError(f"too large: {_shown(value)!r}")
    return int(value)


class CountLine:
    """The last `CRONBEAT_COUNT=N` line of a job's output, read as the output streams past.

    Each stream keeps its own unfinished line, so stdout and stderr chunks never mix into one.
    """

    def __init__(self) -> None:
        self.count: int | None = None
        self.malformed: str | None = None
        """Why the last bad count line was ignored."""
        self._partial: dict[int, bytes] = {}
        self._overlong: set[int] = set()
        self._lock = threading.Lock()

    def feed(self, stream: int, chunk: bytes) -> None:
        with self._lock:
            data = self._partial.get(stream, b"") + chunk
            cut = data.rfind(b"\n") + 1
            complete, rest = data[:cut], data[cut:]
            if complete and stream in self._overlong:
                complete = complete[complete.find(b"\n") + 1 :]  # the end of a line not kept
                self._overlong.discard(stream)
            if _VARIABLE in complete:  # a plain search first: most output never names it
                for match in _COUNT_LINE.finditer(complete):
                    self._take(match.group(1))
            if len(rest) > _MAX_LINE_BYTES or stream in self._overlong:
                self._overlong.add(stream)
                rest = b""
            self._partial[stream] = rest

    def close(self) -> None:
        """The output has ended: a last line without a newline counts too."""
        with self._lock:
            for stream, rest in self._partial.items():
                if stream not in self._overlong and (match := _COUNT_LINE.fullmatch(rest)):
                    self._take(match.group(1))
            self._partial.clear()

    def _take(self, raw: bytes) -> None:
        try:
            self.count = parse_count(raw.decode("utf-8", errors="replace"))
        except ValueError as error:
            self.malformed = f"{COUNT_VARIABLE} ignored: {error}"


def count_from_file(path: Path) -> int:
    """The count a job wrote to `path`; ValueError says why there is none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return parse_count(text)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "..."
