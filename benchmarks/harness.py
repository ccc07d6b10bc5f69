"""Shared pieces of the benchmarks: medians, fresh interpreters, a Lambda context, results."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH_RESULT "
REPETITIONS = 7


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a child interpreter: the package importable, AWS offline."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    env.setdefault("AWS_ACCESS_KEY_ID", "bench")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("POWERTOOLS_SERVICE_NAME", "cronbeat")
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Cronbeat")
    env.update(extra)
    return env


def run_module(module: str, *args: str, **env: str) -> dict[str, Any]:
    """Run `python -m module` in a fresh interpreter and return the result it reports."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=python_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK) :])
            return result
    raise RuntimeError(
        f"{module} reported no result:\n{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
    )


def report(result: dict[str, Any]) -> None:
    """Print a benchmark's result where `run_module` finds it, whatever the code under test logs."""
    print(RESULT_MARK + json.dumps(result), flush=True)


@dataclass(frozen=True)
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "cronbeat-bench"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cronbeat-bench"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/cronbeat-bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_v2_event(path: str, method: str = "GET", body: str = "") -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event, as the ping route receives it."""
    return {
        "version": "2.0",
        "routeKey": "ANY /ping/{proxy+}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-proto": "https",
            "content-length": str(len(body)),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "bench",
            "routeKey": "ANY /ping/{proxy+}",
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795435200000,
        },
        "pathParameters": {"proxy": path.removeprefix("/ping/")},
        "body": body,
        "isBase64Encoded": False,
    }
