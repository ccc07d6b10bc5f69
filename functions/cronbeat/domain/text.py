"""Text rules shared by every place that shows a job's output."""

from __future__ import annotations

OUTPUT_TAIL_BYTES = 1000
"""How much of a ping body an alert carries and shows."""


def utf8_tail(data: bytes, limit: int) -> bytes:
    """The last `limit` bytes of `data`, without the piece of a character the cut leaves first.

    A cut inside a UTF-8 character leaves at most three continuation bytes (0x80-0xBF) in front.
    """
    if len(data) <= limit:
        return data
    tail = data[len(data) - limit :] if limit > 0 else b""
    skip = 0
    while skip < min(3, len(tail)) and 0x80 <= tail[skip] < 0xC0:
        skip += 1
    return tail[skip:]
