"""`cronbeat run` and the query commands against the real server, `cronbeat dev`.

The CLI's own tests use a small fake monitor; this one proves that the real ping endpoint and
management API pair its runs, keep its output and answer its queries the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.devserver import DevServer

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
DEADLINE_S = 60.0


def cronbeat(*arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRONBEAT_")}
    return subprocess.run(
        [sys.executable, "-m", "cronbeat.cli", *arguments],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(FUNCTIONS)},
        timeout=DEADLINE_S,
    )


def test_wrapped_runs_are_recorded_and_answered_by_the_real_server(dev: DevServer) -> None:
    # Given a check made through the management API
    created = dev.api("POST", "checks/", {"name": "backup", "timeout": 3600, "grace": 60})
    uuid = created.json()["uuid"]
    ping = ("--url", dev.base_url, "--uuid", uuid)
    # When a job succeeds, one fails with output, and one hangs past its timeout
    ok = cronbeat("run", *ping, "--", "sh", "-c", "echo fine")
    failed = cronbeat("run", *ping, "--", "sh", "-c", "echo 'disk full' >&2; exit 3")
    hung = cronbeat("run", *ping, "--timeout", "0.5s", "--", "sh", "-c", "echo hang; sleep 30")
    assert (ok.returncode, failed.returncode, hung.returncode) == (0, 3, 124)
    # Then the read-only key sees three paired runs, newest first, with their exit statuses
    query = ("--url", dev.base_url, "--api-key", dev.read_only_key)
    history = cronbeat("history", "backup", "--json", *query)
    assert history.returncode == 0, history.stderr
    runs = json.loads(history.stdout)["runs"]
    assert [(run["kind"], run["exit_status"]) for run in runs] == [
        ("fail", 124),
        ("fail", 3),
        ("success", 0),
    ]
    assert all(run["started"] and run["duration_s"] is not None for run in runs)
    # And the last failure's output is the hung job's, with the kill noted
    last = cronbeat("last-failure", "backup", *query)
    assert last.returncode == 0, last.stderr
    assert last.stdout.splitlines()[1:] == [
        "hang",
        "[cronbeat: killed: timed out after 500 ms (SIGTERM)]",
    ]
    # And the stats count two failures in three runs
    stats = json.loads(cronbeat("stats", "backup", "--json", *query).stdout)
    assert (stats["runs"], stats["failures"], stats["last_failure"]["exit_status"]) == (3, 2, 124)
