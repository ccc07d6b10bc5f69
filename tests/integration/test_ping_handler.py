"""What the ping function prints (logs, EMF metrics) and imports, seen from a fresh interpreter.

A fresh interpreter is what Lambda runs, and its stdout is what CloudWatch receives, so these
tests run the handler in a child process on moto and read its output line by line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.ping_requests import CHECK_ID, load_event

ROOT = Path(__file__).resolve().parents[2]

PINGS = [
    f"/ping/{CHECK_ID}",
    f"/ping/{CHECK_ID}/start",
    f"/ping/{CHECK_ID}/fail",
    f"/ping/{CHECK_ID}/0",
    f"/ping/{CHECK_ID}/1",
    f"/ping/{CHECK_ID}/log",
    "/ping/garbage",
    f"/ping/{CHECK_ID}",
]
"""Two failure pings (`/fail`, `/1`) among successes, a start, a log and a refused path."""

RUN_PINGS = """
import json, sys
from moto import mock_aws

with mock_aws():
    import boto3
    from cronbeat.domain.model import Check
    from cronbeat.store.checks import CheckRepository
    from cronbeat.store.tables import create_tables
    from tests.integration.ping_requests import LambdaContext, ping_event

    db = boto3.client("dynamodb")
    create_tables(db, {"Checks": "cronbeat-checks", "Events": "cronbeat-events"})
    CheckRepository(db, "cronbeat-checks").create(Check(id=sys.argv[1]), None)
    from cronbeat.handlers.ping import handler

    codes = [handler(ping_event(path), LambdaContext())["statusCode"] for path in sys.argv[2:]]
    print("CODES " + json.dumps(codes), file=sys.stderr)
"""


def _child_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "CRONBEAT_", "POWERTOOLS_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "functions"), str(ROOT)]),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_SERVICE_NAME="cronbeat",
        PYTHONWARNINGS="default",
    )
    return env


def send_pings(paths: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`paths` sent through the handler in a fresh interpreter on moto."""
    return subprocess.run(
        [sys.executable, "-c", RUN_PINGS, CHECK_ID, *paths],
        cwd=ROOT,
        env={**_child_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def run() -> subprocess.CompletedProcess[str]:
    """The pings above, at the default level."""
    return send_pings(PINGS)


def test_each_ping_logs_one_compact_line(run: subprocess.CompletedProcess[str]) -> None:
    # Given the pings sent at the default level (INFO)
    lines = [line for line in run.stdout.splitlines() if '"message":"ping"' in line]
    # Then each recorded ping wrote one line of at most 150 bytes: kind, status, check, ms
    assert len(lines) == 7
    assert max(len(line.encode()) for line in lines) <= 150
    assert set(json.loads(lines[0])) == {"level", "message", "check_id", "status", "kind", "ms"}


def test_at_warning_a_common_ping_logs_nothing() -> None:
    # Given the stack's WARNING level
    # When two good pings are sent
    done = send_pings(
        [f"/ping/{CHECK_ID}", f"/ping/{CHECK_ID}/start"], POWERTOOLS_LOG_LEVEL="WARNING"
    )
    # Then they were answered and nothing was logged
    assert "CODES [200, 200]" in done.stderr, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("{")] == []


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_the_pings_were_answered(run: subprocess.CompletedProcess[str]) -> None:
    # Given the pings sent in a fresh interpreter
    # When we read the child's report
    assert run.returncode == 0, run.stderr[-3000:]
    codes = json.loads(run.stderr.split("CODES ", 1)[1].splitlines()[0])
    # Then each got its reply
    assert codes == [200, 200, 200, 200, 200, 200, 404, 200]


def test_only_failure_pings_emit_one_failure_metric_each(
    run: subprocess.CompletedProcess[str],
) -> None:
    # Given the pings sent in a fresh interpreter
    # When we collect the EMF documents it printed
    metrics = [line for line in _json_lines(run.stdout) if "_aws" in line]
    # Then there is one FailurePings=1 per failure ping, in the Cronbeat namespace,
    # with no dimension that names a check
    assert len(metrics) == 2
    for emf in metrics:
        [directive] = emf["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Cronbeat"
        assert [m["Name"] for m in directive["Metrics"]] == ["FailurePings"]
        assert all(
            CHECK_ID not in str(emf.get(d)) for dims in directive["Dimensions"] for d in dims
        )
        assert emf["FailurePings"] in (1, 1.0, [1.0])


def test_no_empty_metrics_warning_is_printed(run: subprocess.CompletedProcess[str]) -> None:
    # Given the pings sent with every warning shown
    # When we read the child's stderr
    # Then Powertools never complained about having no metrics to flush
    warnings = [line for line in run.stderr.splitlines() if "warn" in line.lower()]
    assert not [line for line in warnings if "metric" in line.lower()]


def test_ping_logs_carry_the_check_id(run: subprocess.CompletedProcess[str]) -> None:
    # Given the pings sent in a fresh interpreter
    # When we read the structured log lines
    logs = [line for line in _json_lines(run.stdout) if "level" in line]
    recorded = [line for line in logs if line["message"] == "ping"]
    refused = [line for line in logs if line["message"] == "ping refused"]
    # Then every recorded ping names its check, and the refused one names none
    assert len(recorded) == 7
    assert {line["check_id"] for line in recorded} == {CHECK_ID}
    [garbage] = refused
    assert "check_id" not in garbage
    assert garbage["status"] == 404
    # And the refused one logs no part of its path, which can hold a uuid or the ping key
    bad_path = load_event("ping_bad_path")["rawPath"]
    assert "path" not in garbage
    assert not [part for part in bad_path.strip("/").split("/")[1:] if part in json.dumps(garbage)]


def test_the_ping_path_imports_neither_pydantic_nor_the_tracer() -> None:
    # Given a fresh interpreter
    probe = (
        "import sys, json, cronbeat.handlers.ping as m;"
        "print(json.dumps({'modules': sorted(sys.modules), 'names': sorted(vars(m))}))"
    )
    # When it imports the ping handler
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(out.stdout)
    # Then pydantic and the X-Ray SDK stay out, and the handler holds no Tracer
    roots = {name.split(".")[0] for name in loaded["modules"]}
    assert "pydantic" not in roots
    assert "aws_xray_sdk" not in roots
    assert "Tracer" not in loaded["names"]
