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


def test_a_run_healed_by_a_retry_is_one_success_on_the_real_server(
    dev: DevServer, tmp_path: Path
) -> None:
    # Given a check, and a job that fails the first time it runs and succeeds the second
    created = dev.api("POST", "checks/", {"name": "flaky", "timeout": 3600, "grace": 60})
    uuid = created.json()["uuid"]
    marker = tmp_path / "ran-once"
    job = f"if [ -e {marker} ]; then echo second; else touch {marker}; echo first; exit 1; fi"
    # When cronbeat runs it with one retry
    done = cronbeat(
        "run", "--url", dev.base_url, "--uuid", uuid, "--retries-job", "1",
        "--retry-delay", "0.1s", "--", "sh", "-c", job,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Then the server holds one run, a success whose output lists both attempts
    query = ("--url", dev.base_url, "--api-key", dev.read_only_key)
    runs = json.loads(cronbeat("history", "flaky", "--json", *query).stdout)["runs"]
    assert [(run["kind"], run["exit_status"]) for run in runs] == [("success", 0)]
    pings = dev.api("GET", f"checks/{uuid}/pings/").json()["pings"]
    finish = next(ping for ping in pings if ping["type"] == "success")
    body = dev.api("GET", f"checks/{uuid}/pings/{finish['n']}/body").text.splitlines()
    assert body[0] == "[cronbeat: succeeded on attempt 2 of 2]"
    assert [line for line in body if not line.startswith("[")] == ["first", "second"]
    # And the check never went down: no failure reached it
    check = dev.api("GET", f"checks/{uuid}").json()
    assert check["status"] == "up"
    assert check["n_pings"] == 2
