"""Projected wall time to sweep 1,000,000 checks with the fan-out: one segment measured, scaled.

One segment worker's sweep runs through the real handler (`cronbeat.handlers.sweep_segment`),
botocore's parsing included, against the keep-alive stub (benchmarks.stub_dynamodb) serving
realistic 1 MB Scan pages of `sweepChecksPerSegment` checks, 1% of them overdue (their flips
are written, in parallel), with the sweep's filter on `alert_at`. The segments of a sweep run
at once in separate invocations, so:

    projected = dispatch + segment CPU / CPU share + pages × page latency

- dispatch: the scanner's Invoke calls, DISPATCH_CONCURRENCY at a time, INVOKE_LATENCY_S each;
- segment CPU: measured here (process CPU of the segment's sweep), at the worker's CPU share
  (1769 MB is one vCPU; this machine's core is taken as equal to a Lambda arm64 vCPU);
- page latency: DynamoDB's own time per 1 MB page, which the stub does not have (assumed).
It leaves out cold starts (a fresh worker adds about a second), throttling, and DynamoDB's
latency per flip transaction (the flips of one segment overlap 16 at a time).
Run: `.venv/bin/python -m benchmarks.sweep_fanout`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from infra.config import StackConfig
from infra.scanner import SEGMENT_MEMORY_MB

from benchmarks.harness import report
from benchmarks.stub_dynamodb import SWEEP_AT_MS, counts, running, use_stub
from cronbeat.service.fanout import DISPATCH_CONCURRENCY, MAX_TOTAL_SEGMENTS, total_segments

TABLE_CHECKS = 1_000_000
PAGE_LATENCY_S = 0.08
"""Assumed: an eventually consistent Scan page of 1 MB, as DynamoDB serves it."""
INVOKE_LATENCY_S = 0.03
"""Assumed: one asynchronous Invoke request from inside the region."""
FULL_VCPU_MB = 1769


def measure(endpoint: str, checks_per_segment: int) -> dict[str, Any]:
    from tests.integration.outbox import FakeContext

    from cronbeat.handlers import sweep_segment

    segments = total_segments(
        TABLE_CHECKS,
        fan_out_checks=StackConfig().sweep_fan_out_checks,
        checks_per_segment=checks_per_segment,
    )
    event = {"sweep_at_ms": SWEEP_AT_MS, "segment": 0, "total_segments": segments}
    sweep_segment.handler(event | {"sweep_at_ms": SWEEP_AT_MS - 60_000}, FakeContext())  # warm
    counts(endpoint)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    summary = sweep_segment.handler(event, FakeContext())
    wall_s, cpu_s = time.perf_counter() - started_wall, time.process_time() - started_cpu
    pages = counts(endpoint)["Scan"]
    cpu_share = min(1.0, SEGMENT_MEMORY_MB / FULL_VCPU_MB)
    waves = math.ceil(segments / MAX_TOTAL_SEGMENTS)
    dispatch_s = math.ceil(segments / DISPATCH_CONCURRENCY) * INVOKE_LATENCY_S
    segment_s = cpu_s / cpu_share + pages * PAGE_LATENCY_S
    return {
        "sweep_seconds_1m": round(dispatch_s + waves * segment_s, 2),
        "sweep_fanout": {
            "segments": segments,
            "checks_per_segment": checks_per_segment,
            "checks_scanned": summary["checks_scanned"],
            "flips_written": summary["flips_written"],
            "pages": pages,
            "segment_wall_s_stub": round(wall_s, 2),
            "segment_cpu_s": round(cpu_s, 2),
            "cpu_us_per_check": round(cpu_s / checks_per_segment * 1e6, 1),
            "cpu_share": cpu_share,
            "page_latency_s": PAGE_LATENCY_S,
            "dispatch_s": round(dispatch_s, 2),
        },
    }


def main() -> None:
    checks_per_segment = StackConfig().sweep_checks_per_segment
    with running(
        "--checks", str(checks_per_segment), "--every-segment", "--item-count", str(TABLE_CHECKS)
    ) as endpoint:
        use_stub(endpoint)
        report(measure(endpoint, checks_per_segment))


if __name__ == "__main__":
    main()
