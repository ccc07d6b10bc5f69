"""One status word per check state and one duration rule, in the terminal and the dashboard."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cronbeat.cli.query import shown_status
from cronbeat.domain.durations import format_duration_ms

DASHBOARD = Path(__file__).resolve().parents[2] / "functions/cronbeat/dashboard/index.html"

# (the API's status, its `started`) → the word people read
CASES: list[tuple[str, bool, str]] = [
    ("new", False, "new"),
    ("new", True, "running"),  # only /start so far
    ("up", False, "up"),
    ("up", True, "running"),
    ("grace", False, "late"),
    ("grace", True, "late, running"),
    ("down", False, "down"),
    ("down", True, "down, running"),
    ("paused", False, "paused"),
]


@pytest.mark.parametrize(("status", "started", "word"), CASES)
def test_the_cli_names_each_state_as_the_dashboard_does(
    status: str, started: bool, word: str
) -> None:
    assert shown_status({"status": status, "started": started}) == word


def test_healthchecks_v1_started_status_reads_running() -> None:
    assert shown_status({"status": "started"}) == "running"


def dashboard_function(name: str) -> str:
    """The source of one of the dashboard's top-level functions."""
    found = re.search(rf"function {name}\(\w+\) \{{.*?\n  \}}", DASHBOARD.read_text(), re.S)
    assert found is not None, name
    return found[0]


def run_node(script: str) -> Any:
    node = shutil.which("node")
    assert node is not None, "node is needed (the CDK synth needs it too)"
    completed = subprocess.run([node, "-e", script], capture_output=True, check=True, text=True)
    return json.loads(completed.stdout)


def test_the_dashboard_uses_the_same_words() -> None:
    # Given the dashboard's own status function, run by node on every case
    function = [dashboard_function("displayStatus")]
    checks: list[dict[str, Any]] = [{"status": s, "started": started} for s, started, _ in CASES]
    script = (
        f"{function[0]}\n"
        f"const checks = {json.dumps(checks)};\n"
        # statusEl: the word, plus a `running` note when a run is open and the word is not it
        "console.log(JSON.stringify(checks.map((c) => { const w = displayStatus(c);"
        " return c.started && w !== 'running' ? `${w}, running` : w; })));"
    )
    shown = run_node(script)
    # Then it says what the CLI says
    assert shown == [word for _, _, word in CASES]


DURATIONS_MS = [0, 1, 300, 999, 1000, 1049, 1050, 1250, 1350, 2998, 59_949, 59_950, 60_000,
                90_499, 90_500, 3_599_500, 4_320_000, 86_399_500, 90_061_000]  # fmt: skip


def test_the_dashboard_formats_durations_by_the_same_rule() -> None:
    # Given the dashboard's duration formatter, run by node on milliseconds near every boundary
    script = (
        f"{dashboard_function('period')}\n{dashboard_function('duration')}\n"
        f"console.log(JSON.stringify({json.dumps(DURATIONS_MS)}.map((ms) => duration(ms / 1000))));"
    )
    # Then it reads each as the CLI and the alerts do, halves rounded up in both
    assert run_node(script) == [format_duration_ms(ms) for ms in DURATIONS_MS]
