"""Races on the moto server: overlapping scanners flip once, and a late ping beats the scanner."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import boto3
import pytest

from cronbeat import runtime
from cronbeat.domain.model import Ping, Sender
from cronbeat.service.ping import PingService
from cronbeat.service.sweep import Owed, Stage, SweepReport, SweepWrites, sweep
from cronbeat.store.checks import ScannedCheck
from cronbeat.stores import Stores, build_stores
from tests.conftest import REGION, Aws
from tests.integration.outbox import (
    HOUR,
    MINUTE,
    at,
    outbox,
    put_check,
    simple_check,
    stored,
)

T = at("2026-03-02 12:00")
JOIN_TIMEOUT_S = 120


def own_client(aws: Aws) -> Any:
    """A client of its own, as a second Lambda container would have."""
    return boto3.client("dynamodb", region_name=REGION, endpoint_url=aws.endpoint_url)


def own_stores(aws: Aws, segments: int) -> Stores:
    """The stores of a second Lambda container, scanning in `segments` parallel segments."""
    return build_stores(replace(runtime.settings(), scan_segments=segments), own_client(aws))


class Scanner(SweepWrites):
    """One scanner: its own client, and the repository it scans."""

    def __init__(self, aws: Aws, segments: int = 3) -> None:
        self.stores = own_stores(aws, segments)
        super().__init__(self.stores.checks, self.stores.history)

    def scan(self) -> list[ScannedCheck]:
        return list(self.stores.checks.scan())


def sweep_store(aws: Aws) -> Scanner:
    return Scanner(aws)


def not_expected(check_id: str, stage: Stage, error: BaseException | str) -> None:
    raise AssertionError(f"check {check_id} failed to {stage}: {error!r}")


def run_sweep(
    store: Scanner, checks: list[ScannedCheck] | None = None, at_ms: int = T
) -> SweepReport:
    scanned = store.scan() if checks is None else checks
    return sweep(scanned, store, at_ms, timer=time.perf_counter, on_failure=not_expected)


def sweep_together(aws: Aws, times: tuple[int, int] = (T, T)) -> list[SweepReport]:
    """Two scanners, each with its own client, both read every check, then both write at once."""
    stores = [(sweep_store(aws), at_ms) for at_ms in times]
    both_read = threading.Barrier(2, timeout=JOIN_TIMEOUT_S)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []

    def scanner(store: Scanner, at_ms: int) -> None:
        try:
            scanned = store.scan()
            both_read.wait()
            reports.append(run_sweep(store, scanned, at_ms))
        except BaseException as exc:
            errors.append(exc)
            both_read.abort()

    threads = [threading.Thread(target=scanner, args=pair) for pair in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    assert errors == []
    assert len(reports) == 2
    return reports


@pytest.mark.parametrize(
    "times", [(T, T), (T, T + MINUTE)], ids=["same-sweep-time", "overlapping-sweeps"]
)
def test_two_scanners_at_the_same_sweep_time_flip_each_check_once(
    moto_server_aws: Aws, times: tuple[int, int]
) -> None:
    # Given 30 overdue checks and 30 healthy ones
    aws = moto_server_aws
    due = {put_check(aws, simple_check(last_ping_ms=T - 2 * HOUR)).id for _ in range(30)}
    for _ in range(30):
        put_check(aws, simple_check(last_ping_ms=T - 5 * MINUTE))
    # When two scanners (at the same sweep time, or the sweeps of 12:00 and 12:01) both read
    # every check, and only then both write, concurrently
    reports = sweep_together(aws, times)
    # Then each overdue check has exactly one flip, and every second attempt counted as a conflict
    flips = outbox(aws)
    assert sorted(f["pk"]["S"] for f in flips) == sorted(due)
    assert sum(r.flips for r in reports) == 30
    assert sum(r.conflicts for r in reports) == 30
    for check_id in due:
        after, rev, _ = stored(aws, check_id)
        assert (after.status, rev) == ("down", 4)


def test_overlapping_scanners_remind_each_check_once(moto_server_aws: Aws) -> None:
    # Given 10 down checks owed their hourly reminder (last alerted 61 min ago)
    aws = moto_server_aws
    owed = {
        put_check(
            aws,
            simple_check(
                status="down",
                last_ping_ms=T - 5 * HOUR,
                realert_every_s=3600,
                last_alert_ms=T - 61 * MINUTE,
            ),
        ).id
        for _ in range(10)
    }
    # When the sweeps of 12:00 and 12:01 overlap: both read every check, then both write
    # (different sweep times, so their reminder items have different keys)
    reports = sweep_together(aws, (T, T + MINUTE))
    # Then the last_alert_at condition lets exactly one reminder per check through
    reminders = outbox(aws)
    assert sorted(r["pk"]["S"] for r in reminders) == sorted(owed)
    assert {r["type"]["S"] for r in reminders} == {"reminder"}
    assert sum(r.reminders for r in reports) == 10
    assert sum(r.conflicts for r in reports) == 10
    for reminder in reminders:
        after, rev, _ = stored(aws, reminder["pk"]["S"])
        assert (after.status, after.last_alert_ms, rev) == ("down", int(reminder["at"]["N"]), 4)


def test_overlapping_scanners_send_the_alert_held_by_a_mute_once(moto_server_aws: Aws) -> None:
    # Given 10 checks that went down while muted, the mute over since 11:59
    aws = moto_server_aws
    held = {
        put_check(
            aws,
            simple_check(
                status="down",
                status_since_ms=T - HOUR,
                last_ping_ms=T - 5 * HOUR,
                last_alert_ms=T - HOUR,
                muted_until_ms=T - MINUTE,
                alert_held=True,
            ),
        ).id
        for _ in range(10)
    }
    # When the sweeps of 12:00 and 12:01 overlap
    reports = sweep_together(aws, (T, T + MINUTE))
    # Then each check gets exactly one alert about its down during the mute
    owed = outbox(aws)
    assert sorted(r["pk"]["S"] for r in owed) == sorted(held)
    assert {(r["type"]["S"], r["after_mute"]["BOOL"]) for r in owed} == {("reminder", True)}
    assert sum(r.conflicts for r in reports) == 10
    for check_id in held:
        after, _, _ = stored(aws, check_id)
        assert not after.alert_held


class PingLandsBeforeWrite(Scanner):
    """A scanner where a ping arrives after the scan read the check, before the write."""

    def __init__(self, aws: Aws, ping: Ping, ping_at_ms: int) -> None:
        super().__init__(aws, segments=2)
        built = self.stores
        self._pings = PingService(built.checks, built.history, built.project, built.channels)
        self._ping = ping
        self._ping_at_ms = ping_at_ms
        self.pinged: list[Any] = []

    def _land(self, check_id: str) -> None:
        self.pinged.append(self._pings.apply(check_id, self._ping, self._ping_at_ms, Sender()))

    def write_owed(self, owed: Sequence[Owed], at_ms: int) -> list[bool]:
        for one in owed:
            self._land(one.check.id)
        return super().write_owed(owed, at_ms)


def test_ping_between_read_and_write_wins_over_the_timeout(moto_server_aws: Aws) -> None:
    # Given an overdue check, and a success ping that lands after the scan read it
    aws = moto_server_aws
    check = put_check(aws, simple_check(last_ping_ms=T - 2 * HOUR))
    store = PingLandsBeforeWrite(aws, Ping.success(), T + 2000)
    # When the scanner sweeps
    report = run_sweep(store)
    # Then the ping was recorded, the flip lost its condition, and the check is up with no flip
    assert len(store.pinged) == 1
    assert (report.flips, report.conflicts) == (0, 1)
    after, _, _ = stored(aws, check.id)
    assert (after.status, after.last_ping_ms) == ("up", T + 2000)
    assert outbox(aws, check.id) == []


def test_finish_between_read_and_write_wins_over_the_run_timeout(moto_server_aws: Aws) -> None:
    # Given a run open for 25 min (limit 20) on a check whose schedule's deadline passed 10 min
    # ago, and the run's finish landing after the scan read the check
    aws = moto_server_aws
    check = put_check(
        aws,
        simple_check(
            last_ping_ms=T - 80 * MINUTE,
            last_start_ms=T - 25 * MINUTE,
            last_start_rid="run-7",
            max_runtime_s=1200,
        ),
    )
    store = PingLandsBeforeWrite(aws, Ping.success(rid="run-7"), T + 1000)
    # When the scanner sweeps
    report = run_sweep(store)
    # Then no run_timeout is written: the run closed and the check stays up
    assert (report.flips, report.conflicts) == (0, 1)
    after, _, _ = stored(aws, check.id)
    assert after.status == "up"
    assert after.last_start_ms is None
    assert after.last_duration_ms == 25 * MINUTE + 1000
    assert outbox(aws, check.id) == []


def test_recovery_between_read_and_write_cancels_the_reminder(moto_server_aws: Aws) -> None:
    # Given a down check owed an hourly reminder, and a success that lands after the scan read it
    aws = moto_server_aws
    check = put_check(
        aws,
        simple_check(
            status="down",
            last_ping_ms=T - 5 * HOUR,
            realert_every_s=3600,
            last_alert_ms=T - 61 * MINUTE,
        ),
    )
    store = PingLandsBeforeWrite(aws, Ping.success(), T + 1000)
    # When the scanner sweeps
    report = run_sweep(store)
    # Then the recovery flip is the only outbox item: no reminder for a check that is back up
    assert (report.reminders, report.conflicts) == (0, 1)
    after, _, _ = stored(aws, check.id)
    assert after.status == "up"
    assert [(f["type"]["S"], f["reason"]["S"]) for f in outbox(aws, check.id)] == [
        ("flip", "recovered")
    ]


def test_scanner_after_the_ping_sees_it_and_writes_nothing(moto_server_aws: Aws) -> None:
    # Given an overdue check whose ping arrives before the scanner reads it
    aws = moto_server_aws
    check = put_check(aws, simple_check(last_ping_ms=T - 2 * HOUR))
    pings = own_stores(aws, 1)
    PingService(pings.checks, pings.history, pings.project, pings.channels).apply(
        check.id, Ping.success(), T - 1000, Sender()
    )
    # When the scanner sweeps
    report = run_sweep(sweep_store(aws))
    # Then it neither flips nor conflicts
    assert (report.flips, report.conflicts, report.scanned) == (0, 0, 1)
    assert stored(aws, check.id)[0] == replace(
        check, last_ping_ms=T - 1000, n_pings=8, success_streak=1
    )
