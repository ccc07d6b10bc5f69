"""The scanner's CPU per check for a whole sweep, through the real handler and botocore.

The stub DynamoDB (another process) holds a table of real-size check items, 1% of them overdue,
and serves Scan pages as DynamoDB does: at most 1 MB of scanned items each, per segment, with
the sweep's FilterExpression honoured when it is sent. The scanner handler sweeps it once; the
figure is this process's CPU (every segment thread included) ÷ the checks in the table. It counts
botocore's HTTP and parsing, decoding, evaluation and the flips' transactions; it leaves out the
network's latency (the stub answers at once) and DynamoDB's own time.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any

from tests.integration.api_requests import LambdaContext

from benchmarks import stub_dynamodb as stub
from benchmarks.harness import median, report, run_module
from cronbeat.local.sweeper import scheduled_event

SIZES = (10_000, 100_000)
REPETITIONS = {10_000: 3, 100_000: 1}
DUE = 0.01


def measure(endpoint: str, checks: int) -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    stub.use_stub(endpoint)
    from cronbeat.handlers import scanner

    event = scheduled_event(stub.SWEEP_AT_MS / 1000)
    samples: list[float] = []
    summary: dict[str, Any] = {}
    for _ in range(REPETITIONS[checks]):
        gc.collect()
        started = time.process_time()
        summary = scanner.handler(event, LambdaContext())
        samples.append((time.process_time() - started) / checks * 1e6)
    calls = stub.counts(endpoint)
    assert summary["checks_failed"] == 0, summary
    return {
        "us_per_check": round(median(samples), 2),
        "evaluated": summary["checks_scanned"],
        "flips": summary["flips_written"],
        "scan_calls": calls.get("Scan", 0),
    }


def main() -> None:
    """Parent: one fresh process per table size, so one sweep's memory does not tax the next."""
    if len(sys.argv) > 1:
        checks = int(sys.argv[1])
        with stub.running("--checks", str(checks), "--due", str(DUE)) as endpoint:
            report(measure(endpoint, checks))
        return
    results = {str(n): run_module("benchmarks.sweep_cpu", str(n)) for n in SIZES}
    report(
        {
            "sweep_cpu_us_per_check": {n: r["us_per_check"] for n, r in results.items()},
            "sweep_cpu_detail": results,
        }
    )


if __name__ == "__main__":
    main()
