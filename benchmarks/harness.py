"""Shared pieces of the benchmarks: medians, fresh interpreters, results."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
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
