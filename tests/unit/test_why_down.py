"""The dashboard's one-line answer to "why is it down, and since when?", run under node on the
check objects the API returns, for each way a check goes down."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.test_status_words import DASHBOARD, run_node

NEEDED = (
    "pad", "exactTime", "span", "relative", "period", "duration", "displayStatus", "clockText",
    "expectation", "runLimit", "downReason", "whyLine",
)  # fmt: skip


def source(name: str) -> str:
    """A top-level function or arrow constant of the page's script, by name."""
    text = DASHBOARD.read_text()
    found = re.search(rf"\n  (?:async )?function {name}\(.*?\n  }}\n", text, re.S) or re.search(
        rf"\n  const {name} = .*?;\n", text
    )
    assert found is not None, name
    return found[0]


def why(check: dict[str, Any], now: str) -> Any:
    reasons = re.search(r"\n  const REASONS = \{.*?\};\n", DASHBOARD.read_text(), re.S)
    assert reasons is not None
    script = (
        "process.env.TZ = 'UTC';\n"
        + reasons[0]
        + "".join(source(name) for name in NEEDED)
        + f"console.log(JSON.stringify(whyLine({json.dumps(check)}, {_ms(now)})));"
    )
    return run_node(script)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


HOURLY = {"timeout": 3600, "grace": 600}
SINCE = "2026-12-07T03:12:00+00:00"
NOW = "2026-12-07T05:16:00"


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (
            {"status": "down", "status_reason": "fail", "status_since": SINCE,
             "last_exit": 137, "last_duration_ms": 41_000, **HOURLY},
            "Down since 03:12 (2 h 4 min): exited with status 137 after 41.0 s",
        ),
        (
            {"status": "down", "status_reason": "fail", "status_since": SINCE,
             "last_exit": None, **HOURLY},
            "Down since 03:12 (2 h 4 min): reported a failure",
        ),
        (
            {"status": "down", "status_reason": "timeout", "status_since": SINCE,
             "last_ping": "2026-12-07T01:00:00+00:00", **HOURLY},
            "Down since 03:12 (2 h 4 min): no ping since 01:00, expected every 1 h with 10 min "
            "grace",
        ),
        (
            {"status": "down", "status_reason": "timeout", "status_since": SINCE,
             "last_ping": "2026-12-06T01:00:00+00:00", "schedule": "0 1 * * *",
             "schedule_text": "At 01:00", "tz": "Europe/Riga", "grace": 3600},
            "Down since 03:12 (2 h 4 min): no ping since 2026-12-06 01:00, expected At 01:00 "
            "(Europe/Riga), with 1 h grace",
        ),
        (
            {"status": "down", "status_reason": "run_timeout", "started": True,
             "status_since": SINCE, "last_start": "2026-12-07T01:12:00+00:00",
             "max_runtime": 7200, **HOURLY},
            "Down since 03:12 (2 h 4 min): the run started at 01:12 did not finish within 2 h",
        ),
        (
            {"status": "grace", "started": True, "last_start": "2026-12-07T03:06:00+00:00",
             "max_runtime": 3600, **HOURLY},
            "Running 2 h 10 min, longer than the 1 h limit",
        ),
        (
            {"status": "up", "started": True, "last_start": "2026-12-07T05:00:00+00:00", **HOURLY},
            "Running since 05:00 (16 min)",
        ),
    ],
)  # fmt: skip
def test_the_headline_says_why_and_since_when(check: dict[str, Any], text: str) -> None:
    shown = why(check, NOW)
    assert shown["text"] == text
    assert shown["title"]  # the exact moment and how long ago, on hover


def test_an_up_check_needs_no_headline() -> None:
    assert (
        why(
            {"status": "up", "last_ping": "2026-12-07T05:00:00+00:00", **HOURLY},
            "2026-12-07T05:16:00",
        )
        is None
    )
