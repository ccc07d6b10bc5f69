"""The sweep's filter on `alert_at`: only what may need a look is parsed, and nothing is late.

Each promise is tested where it could break: an item from before the attribute, the read-free
ping path's early estimate for a cron check, and a run opened by a start that leaves `alert_at`
as it was.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from cronbeat.domain.model import Ping, Sender
from tests.conftest import Aws
from tests.integration.outbox import (
    HOUR,
    MINUTE,
    FakeContext,
    at,
    outbox,
    put_check,
    scheduled_event,
    simple_check,
    stored,
)
from tests.integration.ping_requests import dynamodb_calls, ping_service

T = at("2026-03-02 12:00")
SECOND = 1000


@pytest.fixture
def scanner() -> ModuleType:
    from cronbeat.handlers import scanner

    return scanner


def sweep_at(scanner: ModuleType, at_ms: int) -> dict[str, Any]:
    summary: dict[str, Any] = scanner.handler(scheduled_event(at_ms), FakeContext())
    return summary


def test_only_the_overdue_check_is_read_among_healthy_ones(aws: Aws, scanner: ModuleType) -> None:
    # Given 40 healthy checks and one whose deadline passed, all stored as the store writes them
    for _ in range(40):
        put_check(aws, simple_check(last_ping_ms=T - 5 * MINUTE))
    overdue = put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR))
    # When the scanner sweeps
    with dynamodb_calls() as calls:
        summary = sweep_at(scanner, T)
    # Then every segment's scan asked DynamoDB to filter on the sweep's moment, projected
    scans = [call.params for call in calls if call.operation == "Scan"]
    assert scans
    for scan in scans:
        assert scan["ExpressionAttributeValues"][":due_by"] == {"N": str(T)}
        assert "alert_at" in scan["ExpressionAttributeNames"].values()
        assert "ProjectionExpression" in scan
    # And only the overdue check was handed to the sweep, and it went down
    assert (summary["checks_scanned"], summary["flips_written"]) == (1, 1)
    assert stored(aws, overdue.id)[0].status == "down"


def test_an_item_from_before_alert_at_is_read_once_then_filtered(
    aws: Aws, scanner: ModuleType
) -> None:
    # Given a healthy check stored before `alert_at` existed (due at 13:00, down at 13:10)
    check = put_check(aws, simple_check(last_ping_ms=T), legacy=True)
    # When two sweeps run a minute apart
    first = sweep_at(scanner, T + MINUTE)
    second = sweep_at(scanner, T + 2 * MINUTE)
    # Then the first read it and stored its exact moment, and the second did not read it
    assert (first["checks_scanned"], first["alert_at_corrected"]) == (1, 1)
    assert second["checks_scanned"] == 0
    assert stored(aws, check.id)[2]["alert_at"] == {"N": str(T + HOUR + 10 * MINUTE)}
    # And it still goes down at its deadline, not a sweep later
    assert sweep_at(scanner, T + HOUR + 10 * MINUTE - SECOND)["flips_written"] == 0
    assert sweep_at(scanner, T + HOUR + 10 * MINUTE)["flips_written"] == 1


def test_a_cron_checks_early_estimate_is_corrected_and_never_late(
    aws: Aws, scanner: ModuleType
) -> None:
    # Given an hourly cron check (grace 5 min), up, pinged by the read-free path at 12:00:30
    check = put_check(
        aws,
        simple_check(kind="cron", schedule="0 * * * *", grace_s=300, last_ping_ms=T - HOUR),
    )
    ping_service(aws).apply(check.id, Ping.success(), T + 30 * SECOND, Sender())
    # Then the path stored its estimate, the grace after the ping (the general path would have
    # stored the exact moment): early, never late
    assert stored(aws, check.id)[2]["alert_at"] == {"N": str(T + 30 * SECOND + 5 * MINUTE)}
    # When a sweep runs once the estimate has passed
    corrected = sweep_at(scanner, T + 6 * MINUTE)
    # Then it read the check, found nothing due, and stored the exact moment (13:05)
    assert (corrected["checks_scanned"], corrected["flips_written"]) == (1, 0)
    assert stored(aws, check.id)[2]["alert_at"] == {"N": str(T + HOUR + 5 * MINUTE)}
    # And later sweeps leave it unread until then, and flip it down exactly then
    assert sweep_at(scanner, T + 7 * MINUTE)["checks_scanned"] == 0
    assert sweep_at(scanner, T + HOUR + 5 * MINUTE - SECOND)["checks_scanned"] == 0
    assert sweep_at(scanner, T + HOUR + 5 * MINUTE)["flips_written"] == 1


def test_a_run_opened_by_the_read_free_path_is_read_and_times_out_on_time(
    aws: Aws, scanner: ModuleType
) -> None:
    # Given a daily check (stored moment: tomorrow) whose run must not take more than 2 min
    check = put_check(
        aws,
        simple_check(timeout_s=86400, grace_s=3600, last_ping_ms=T, max_duration_s=120),
    )
    # When a start arrives through the read-free path, which leaves `alert_at` as it was
    ping_service(aws).apply(check.id, Ping.start(), T + MINUTE, Sender())
    assert int(stored(aws, check.id)[2]["alert_at"]["N"]) > T + HOUR
    # Then every sweep reads it while the run is open, and it goes down when the run is over
    assert sweep_at(scanner, T + 2 * MINUTE)["checks_scanned"] == 1
    assert sweep_at(scanner, T + 3 * MINUTE - SECOND)["flips_written"] == 0
    assert sweep_at(scanner, T + 3 * MINUTE)["flips_written"] == 1
    [flip] = outbox(aws, check.id)
    assert flip["reason"]["S"] == "too_slow"
