"""Cold import of each handler module in a fresh interpreter, against `import boto3` alone."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from benchmarks.harness import REPETITIONS, median, python_env, report

MODULES = {
    "boto3": "boto3",
    "ping": "cronbeat.handlers.ping",
    "api": "cronbeat.handlers.api",
    "scanner": "cronbeat.handlers.scanner",
    "notifier": "cronbeat.handlers.notifier",
    "deliverer": "cronbeat.handlers.deliverer",
}
TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", TIMER.format(module=module)],
        env=python_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def measure() -> dict[str, Any]:
    samples: dict[str, list[float]] = {name: [] for name in MODULES}
    for _ in range(REPETITIONS):  # interleaved, so drift in machine load hits every module alike
        for name, module in MODULES.items():
            samples[name].append(import_seconds(module))
    ms = {name: median(values) * 1000 for name, values in samples.items()}
    return {
        "boto3_import_ms": round(ms["boto3"], 1),
        "ping_import_ms": round(ms["ping"], 1),
        "ping_import_ratio": round(ms["ping"] / ms["boto3"], 3),
        "api_import_ms": round(ms["api"], 1),
        "scanner_import_ms": round(ms["scanner"], 1),
        "notifier_import_ms": round(ms["notifier"], 1),
        "deliverer_import_ms": round(ms["deliverer"], 1),
    }


if __name__ == "__main__":
    report(measure())
