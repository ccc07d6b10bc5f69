"""One status word per check state, in the terminal and in the dashboard alike."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cronbeat.cli.query import shown_status

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


def test_the_dashboard_uses_the_same_words() -> None:
    # Given the dashboard's own status function, run by node on every case
    node = shutil.which("node")
    assert node is not None, "node is needed (the CDK synth needs it too)"
    source = DASHBOARD.read_text()
    function = re.search(r"function displayStatus\(check\) \{.*?\n  \}", source, re.S)
    assert function is not None
    checks: list[dict[str, Any]] = [{"status": s, "started": started} for s, started, _ in CASES]
    script = (
        f"{function[0]}\n"
        f"const checks = {json.dumps(checks)};\n"
        # statusEl: the word, plus a `running` note when a run is open and the word is not it
        "console.log(JSON.stringify(checks.map((c) => { const w = displayStatus(c);"
        " return c.started && w !== 'running' ? `${w}, running` : w; })));"
    )
    shown = json.loads(
        subprocess.run([node, "-e", script], capture_output=True, check=True, text=True).stdout
    )
    # Then it says what the CLI says
    assert shown == [word for _, _, word in CASES]
