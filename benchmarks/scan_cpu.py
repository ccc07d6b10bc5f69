"""The scanner's CPU per evaluated check, without I/O: decode each item with the codec, evaluate.

100,000 synthetic items per kind (simple, cron), shaped like a real table: mostly healthy checks,
some late, some overdue, some down. They run through `sweep()` with a writer that writes nothing,
so the figure is what a sweep spends per check on top of the Scan itself.
Run: `.venv/bin/python -m benchmarks.scan_cpu`.
"""

from __future__ import annotations

import gc
import random
import time
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

from benchmarks.harness import median, report
from cronbeat.domain.model import Check, Flip, Kind
from cronbeat.service.sweep import Stage, sweep
from cronbeat.store.checks import decode
from cronbeat.store.codec import Item, to_item

ITEMS_PER_KIND = 100_000
REPETITIONS = 3
SWEEP_AT_MS = 1_772_452_800_000
"""2026-03-02T12:00:00Z."""
MINUTE_MS = 60_000
CRON_SCHEDULES = ("*/5 * * * *", "0 * * * *", "30 2 * * *", "0 9 * * 1-5", "15 3 1 * *")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")


class NoWrites:
    """Accepts every flip and reminder, so the sweep's bookkeeping runs but nothing is sent."""

    def write_flip(self, before: Check, rev: int, after: Check, flip: Flip, at_ms: int) -> bool:
        return True

    def write_reminder(self, before: Check, rev: int, after: Check, at_ms: int) -> bool:
        return True


def _fire_before(schedule: str, tz: str, at_ms: int) -> int:
    """The schedule's last fire at or before `at_ms`."""
    moment = datetime.fromtimestamp(at_ms / 1000, tz=ZoneInfo(tz))
    return int(next(CronSim(schedule, moment, reverse=True)).timestamp() * 1000)


def _last_ping_ms(kind: Kind, schedule: str, tz: str, healthy: bool, rng: random.Random) -> int:
    """A healthy check pinged after its last due time; an unhealthy one missed it."""
    if kind == "simple":
        minutes_ago = rng.randint(0, 55) if healthy else rng.randint(56, 600)
        return SWEEP_AT_MS - minutes_ago * MINUTE_MS - rng.randint(0, 59_999)
    fire_ms = _fire_before(schedule, tz, SWEEP_AT_MS)
    if not healthy:
        fire_ms = _fire_before(schedule, tz, fire_ms - 1000)
    return min(fire_ms + rng.randint(0, 59_999), SWEEP_AT_MS)


def synthetic_item(kind: Kind, rng: random.Random) -> Item:
    """One check as the scan returns it: 90% healthy, 4% late or overdue, 6% down."""
    roll = rng.random()
    schedule, tz = rng.choice(CRON_SCHEDULES), rng.choice(ZONES)
    check = Check(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        name=f"job {rng.randint(1, 10**6)}",
        tags="prod batch",
        kind=kind,
        timeout_s=3600,
        grace_s=600,
        schedule=schedule,
        tz=tz,
        status="down" if roll >= 0.94 else "up",
        status_since_ms=SWEEP_AT_MS - 30 * 24 * 60 * MINUTE_MS,
        last_ping_ms=_last_ping_ms(kind, schedule, tz, roll < 0.9, rng),
        last_exit=0,
        n_pings=rng.randint(1, 10**5),
        realert_every_s=3600 if roll >= 0.97 else None,
        last_alert_ms=SWEEP_AT_MS - 2 * 60 * MINUTE_MS if roll >= 0.94 else None,
        channels="ch-ops,ch-pager",
    )
    return to_item(check, rev=rng.randint(1, 10**5))


def _skip(check_id: str, stage: Stage, error: BaseException | str) -> None:
    raise AssertionError(f"synthetic check {check_id} failed to {stage}: {error!r}")


def cpu_us_per_check(items: list[Item]) -> tuple[float, dict[str, int]]:
    """Median process CPU per item over REPETITIONS sweeps, and what the last sweep decided."""
    samples: list[float] = []
    decided: dict[str, int] = {}
    for _ in range(REPETITIONS):
        gc.collect()
        started = time.process_time()
        result = sweep(
            (decode(item) for item in items),
            NoWrites(),
            SWEEP_AT_MS,
            timer=time.perf_counter,
            on_failure=_skip,
        )
        samples.append((time.process_time() - started) / len(items) * 1e6)
        decided = {"scanned": result.scanned, "flips": result.flips, "reminders": result.reminders}
    return round(median(samples), 2), decided


def measure() -> dict[str, Any]:
    figures: dict[str, Any] = {"scan_cpu_items_per_kind": ITEMS_PER_KIND}
    for kind in ("simple", "cron"):
        rng = random.Random(f"scan-{kind}")
        items = [synthetic_item(kind, rng) for _ in range(ITEMS_PER_KIND)]
        us, decided = cpu_us_per_check(items)
        figures[f"scan_cpu_us_per_check_{kind}"] = us
        figures[f"scan_cpu_decided_{kind}"] = decided
    return figures


if __name__ == "__main__":
    report(measure())
