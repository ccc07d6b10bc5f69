"""How query results read on a terminal: aligned columns, local times with their offset."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cronbeat.domain.durations import format_duration_ms

NONE = "-"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns two spaces apart, each as wide as its widest cell; no trailing blanks."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *rows]
    ]
    return "\n".join(lines) + "\n"


def render_fields(fields: Sequence[tuple[str, str]]) -> str:
    """`label  value` lines with the values aligned."""
    width = max(len(label) for label, _ in fields)
    return "".join(f"{label.ljust(width)}  {value}\n" for label, value in fields)


def local_time(instant: datetime | None) -> str:
    """`2026-03-01 02:00:04 +01:00`: the reader's clock, and the offset that makes it exact."""
    if instant is None:
        return NONE
    local = instant.astimezone()
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def iso_time(instant: datetime | None) -> str | None:
    return instant.astimezone().isoformat(timespec="seconds") if instant is not None else None


def duration_text(seconds: float | None) -> str:
    """`1 h 12 min`, `350 ms`; `-` when unknown."""
    return format_duration_ms(round(seconds * 1000)) if seconds is not None else NONE
