"""Check item sizes and the read units one sweep costs, by DynamoDB's size rules."""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

from benchmarks.harness import report
from cronbeat.domain.model import Check
from cronbeat.store.codec import Item, to_item
from cronbeat.store.history import ping_item
from cronbeat.store.sizing import READ_UNIT_BYTES, item_bytes

SCAN_PAGE_BYTES = 1024 * 1024
"""A Scan request reads at most 1 MB of items before it returns a page."""
CHECKS_PER_SWEEP = 100_000
SEGMENTS = 4
PING_KEY = "k" * 22
T0 = 1_795_435_200_000
OUTPUT_TAIL = b"2026-11-22 03:00:01 backup: copied 1843 files\n" * 217
"""The README's finish ping: `tail -c 10000` of a job's log as the body (9,982 bytes here)."""
CHANNEL_IDS = [f"{i:08x}-8a0e-4a43-9d7e-6b2d3f7c9e10" for i in range(8)]


def typical_check(rng: random.Random, index: int) -> Check:
    """A check as people create them: a short name and slug, a few tags, one or two channels."""
    name = rng.choice(["backup", "nightly db dump", "sync invoices", "cert renew", "etl"])
    cron = rng.random() < 0.5
    return Check(
        id=f"{index:08x}-5f0b-4f5c-9d3a-0d7d0d1c0e11",
        name=f"{name} {index}",
        slug=f"{name.replace(' ', '-')}-{index}",
        tags=" ".join(rng.sample(["prod", "staging", "db", "billing", "infra"], rng.randint(0, 3))),
        kind="cron" if cron else "simple",
        schedule="0 2 * * *" if cron else "* * * * *",
        tz="Europe/Riga" if cron else "UTC",
        timeout_s=3600,
        grace_s=600,
        status="up",
        status_since_ms=T0 - rng.randint(0, 10**9),
        last_ping_ms=T0 - rng.randint(0, 3_600_000),
        last_exit=0,
        last_duration_ms=rng.randint(100, 3_600_000),
        n_pings=rng.randint(1, 500_000),
        success_streak=rng.randint(1, 10_000),
        channels=",".join(CHANNEL_IDS[: rng.randint(1, 2)]),
        created_ms=T0 - 10**10,
        last_request="CZbq5gKqIAMEVDw=",  # the shape of an API Gateway request id
    )


def with_full_window(check: Check, rng: random.Random) -> Check:
    """`check` judged for slowness (`slow_factor`), its default window of durations full: a
    nightly job of about a minute that varies by a few seconds."""
    judged = dataclasses.replace(check, slow_factor=3.0)
    durations = tuple(rng.randint(55_000, 65_000) for _ in range(judged.window_length))
    return dataclasses.replace(judged, recent_durations_ms=durations)


def largest_check() -> Check:
    """Every field at the longest value the management API accepts."""
    return Check(
        id="2f2d8e43-5f0b-4f5c-9d3a-0d7d0d1c0e11",
        name="n" * 100,
        slug="s" * 100,
        tags=" ".join(["t" * 49] * 10),
        desc="d" * 1000,
        kind="cron",
        schedule="0,5,10,15,20,25,30,35,40,45,50,55 0-23 1-31 1-12 1-7",
        tz="America/Argentina/ComodRivadavia",
        timeout_s=31_536_000,
        grace_s=31_536_000,
        status="down",
        status_since_ms=T0,
        last_ping_ms=T0,
        last_start_ms=T0,
        last_start_rid="b7a7c7d2-1e7e-4a8d-9d4e-2b8d0f7c6a11",
        last_request="b7a7c7d2-1e7e-4a8d-9d4e-2b8d0f7c6a11",  # local mode's are uuids
        last_exit=255,
        last_duration_ms=31_536_000_000,
        n_pings=10**12,
        failure_streak=10**9,
        success_streak=10**9,
        max_runtime_s=31_536_000,
        failure_threshold=100,
        recovery_threshold=100,
        realert_every_s=31_536_000,
        last_alert_ms=T0,
        manual_resume=True,
        methods="POST",
        filter_http_body=True,
        success_kw="k" * 200,
        failure_kw="k" * 200,
        start_kw="k" * 200,
        filter_default_fail=True,
        channels=",".join(CHANNEL_IDS),
        created_ms=T0,
        muted_until_ms=T0,
        alert_held=True,
        maintenance=";".join(["0,5,10,15,20,25,30,35,40,45,50,55 0-23 1-31 1-12 1-7=240"] * 10),
        min_duration_s=31_536_000 - 1,
        max_duration_s=31_536_000,
        slow_factor=99.99,
        slow_window=50,
        recent_durations_ms=(31_536_000_000,) * 51,
        min_count=10**15,
        last_count=10**15,
        stuck_after_s=31_536_000,
        last_progress_ms=T0,
    )


def sweep_read_units(items: list[Item], segments: int) -> float:
    """Read units of a parallel, eventually consistent Scan over `items`.

    Each Scan request sums the sizes of the items it reads, rounds up to 4 KB, and an eventually
    consistent read costs half a unit per 4 KB; a request stops at 1 MB.
    """
    units = 0.0
    for segment in range(segments):
        page = 0
        for item in items[segment::segments]:
            size = item_bytes(item)
            if page + size > SCAN_PAGE_BYTES:
                units += math.ceil(page / READ_UNIT_BYTES) / 2
                page = 0
            page += size
        units += math.ceil(page / READ_UNIT_BYTES) / 2
    return units


def history_ping(check_id: str, body: bytes) -> Item:
    """A curl ping's history item, as the ping path stores it."""
    return ping_item(
        check_id=check_id,
        n=123_456,
        at_ms=T0,
        kind="success",
        method="POST" if body else "GET",
        scheme="https",
        remote_addr="203.0.113.7",
        ua="curl/8.5.0",
        body=body,
        retention_days=30,
    )


def measure() -> dict[str, Any]:
    rng = random.Random(42)
    items = [
        to_item(typical_check(rng, i), rev=rng.randint(1, 500_000), ping_key=PING_KEY)
        for i in range(CHECKS_PER_SWEEP)
    ]
    sizes = sorted(item_bytes(item) for item in items)
    full_window = sorted(
        item_bytes(
            to_item(with_full_window(typical_check(rng, i), rng), rev=500_000, ping_key=PING_KEY)
        )
        for i in range(1000)
    )
    total = sum(sizes)
    ideal = total / (2 * READ_UNIT_BYTES)
    units = sweep_read_units(items, SEGMENTS)
    check_id = typical_check(rng, 0).id
    bodyless_ping, output_ping = (history_ping(check_id, body) for body in (b"", OUTPUT_TAIL))
    return {
        "check_item_bytes": {
            "typical_median": sizes[len(sizes) // 2],
            "typical_max": sizes[-1],
            "typical_full_window_median": full_window[len(full_window) // 2],
            "typical_full_window_max": full_window[-1],
            "largest_allowed": item_bytes(to_item(largest_check(), rev=10**12, ping_key=PING_KEY)),
        },
        "ping_item_bytes": item_bytes(bodyless_ping),
        "ping_item_bytes_with_output": item_bytes(output_ping),
        "scan_rru_per_sweep": {
            "checks": CHECKS_PER_SWEEP,
            "read_units": round(units, 1),
            "ideal": round(ideal, 1),
            "ratio": round(units / ideal, 4),
        },
    }


if __name__ == "__main__":
    report(measure())
