"""Builders for domain tests: a check in any state, at fixed instants."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cronbeat.domain.model import Check

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""


def make_check(**changes: Any) -> Check:
    """A simple check (timeout 1 h, grace 10 min) with the given fields changed."""
    base = Check(
        id="2f2d8e43-5f0b-4f5c-9d3a-0d7d0d1c0e11", name="backup", timeout_s=3600, grace_s=600
    )
    return replace(base, **changes)


def at(text: str, tz: str = "UTC") -> int:
    """Epoch ms of a wall-clock time ("2026-03-29 02:30") in zone `tz`."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp() * 1000)
