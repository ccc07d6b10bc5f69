"""A mass outage: 10,000 checks go down in one sweep. Wall time to write their flips.

The flips go through the real `sweep()` and `SweepWrites` (one TransactWriteItems each: the
check, conditioned on its revision, plus the flip item), with the sweep's bounded parallel
writes, against the keep-alive stub in another process (benchmarks.stub_dynamodb), which accepts
every transaction. DynamoDB's own latency per transaction (a few ms) is not in the figure.
Run: `.venv/bin/python -m benchmarks.mass_flip`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from benchmarks.harness import report
from benchmarks.sizes import typical_check
from benchmarks.stub_dynamodb import SWEEP_AT_MS, running, use_stub
from cronbeat.service.sweep import WRITE_CONCURRENCY, Stage, SweepWrites, sweep
from cronbeat.store.checks import StoredCheck

FLIPS = 10_000
HOUR_MS = 3_600_000


def _unexpected(check_id: str, stage: Stage, error: BaseException | str) -> None:
    raise AssertionError(f"{check_id} failed to {stage}: {error!r}")


def measure() -> dict[str, Any]:
    import random
    from dataclasses import replace

    from cronbeat import runtime

    rng = random.Random("mass-flip")
    checks = [
        StoredCheck(
            replace(
                typical_check(rng, n),
                id=str(uuid.UUID(int=n + 1, version=4)),
                kind="simple",
                last_ping_ms=SWEEP_AT_MS - 2 * HOUR_MS,
            ),
            rev=7,
        )
        for n in range(FLIPS)
    ]
    stores = runtime.stores()
    writes = SweepWrites(stores.checks, stores.history)
    # Warm the client: connections and the operation model, as a warm Lambda has them.
    sweep(checks[:50], writes, SWEEP_AT_MS, timer=time.perf_counter, on_failure=_unexpected)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    result = sweep(checks, writes, SWEEP_AT_MS, timer=time.perf_counter, on_failure=_unexpected)
    wall_s, cpu_s = time.perf_counter() - started_wall, time.process_time() - started_cpu
    assert result.flips == FLIPS, result
    return {
        "mass_flip_seconds": round(wall_s, 2),
        "mass_flip_cpu_seconds": round(cpu_s, 2),
        "mass_flip_write_concurrency": WRITE_CONCURRENCY,
    }


def main() -> None:
    with running() as endpoint:
        use_stub(endpoint)
        report(measure())


if __name__ == "__main__":
    main()
