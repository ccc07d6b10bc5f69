"""The scanner on moto: a sweep at a fake time writes exactly the flips and reminders it owes."""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cronbeat import runtime
from cronbeat.store.codec import to_item
from tests.conftest import Aws
from tests.integration.outbox import (
    HOUR,
    MINUTE,
    FakeContext,
    at,
    captured_logs,
    emf_values,
    json_lines,
    outbox,
    put_check,
    scheduled_event,
    simple_check,
    stored,
)
from tests.integration.ping_requests import dynamodb_calls

T = at("2026-03-02 12:00")


@pytest.fixture
def scanner() -> ModuleType:
    from cronbeat.handlers import scanner

    return scanner


@pytest.fixture
def logs(scanner: ModuleType) -> Iterator[io.StringIO]:
    """What the scanner logs during the test."""
    with captured_logs(scanner) as buffer:
        yield buffer


def sweep_at(scanner: ModuleType, at_ms: int) -> dict[str, Any]:
    summary: dict[str, Any] = scanner.handler(scheduled_event(at_ms), FakeContext())
    return summary


def test_simple_check_past_its_grace_goes_down_once(aws: Aws, scanner: ModuleType) -> None:
    # Given a check (every 1 h, grace 10 min) last pinged at 10:49, so down from 11:59
    check = put_check(aws, simple_check(last_ping_ms=T - 71 * MINUTE), rev=3)
    # When the scanner sweeps at 12:00
    summary = sweep_at(scanner, T)
    # Then the check is down since the sweep, alerted at the sweep, one revision later
    after, rev, _ = stored(aws, check.id)
    assert (after.status, after.status_since_ms, after.last_alert_ms) == ("down", T, T)
    assert rev == 4
    # And exactly one flip is in the outbox, with a snapshot of the check and the old status' start
    [flip] = outbox(aws, check.id)
    assert flip["type"]["S"] == "flip"
    assert (flip["old"]["S"], flip["new"]["S"], flip["reason"]["S"]) == ("up", "down", "timeout")
    assert flip["sk"]["S"] == f"F#{T:013d}#4"
    assert int(flip["at"]["N"]) == T
    assert int(flip["previous_since"]["N"]) == check.status_since_ms
    assert flip["check"]["M"]["name"] == {"S": "nightly backup"}
    assert flip["check"]["M"]["status"] == {"S": "down"}
    assert summary["flips_written"] == 1
    assert summary["checks_scanned"] == 1


def test_sweep_scans_segments_in_parallel_and_flips_in_one_conditional_transaction(
    aws: Aws, scanner: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 3 scan segments configured, ten healthy checks and one overdue check
    monkeypatch.setenv("CRONBEAT_SCAN_SEGMENTS", "3")
    runtime.reset()
    # (stored before `alert_at` existed, so the sweep must read them all)
    for _ in range(10):
        put_check(aws, simple_check(last_ping_ms=T - 5 * MINUTE), legacy=True)
    overdue = put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR), legacy=True)
    # And every segment's first page held until all three have started: a scan that read the
    # segments one after another would break this barrier and fail the sweep
    all_segments_started = threading.Barrier(3, timeout=10)
    readers: set[int] = set()

    def hold_first_pages(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Scan" and "ExclusiveStartKey" not in params:
            readers.add(threading.get_ident())
            all_segments_started.wait()

    client = runtime.dynamodb()
    # When the scanner sweeps
    with dynamodb_calls() as calls:
        client.meta.events.register("provide-client-params.dynamodb.Scan", hold_first_pages)
        try:
            summary = sweep_at(scanner, T)
        finally:
            client.meta.events.unregister("provide-client-params.dynamodb.Scan", hold_first_pages)
    # Then three threads each read one segment, eventually consistent
    scans = [call.params for call in calls if call.operation == "Scan"]
    assert sorted(scan["Segment"] for scan in scans) == [0, 1, 2]
    assert {scan["TotalSegments"] for scan in scans} == {3}
    assert all(scan["ConsistentRead"] is False for scan in scans)
    assert len(readers) == 3
    # And they fetched only the projected attributes: what evaluation and the alert need
    projected = {
        scans[0]["ExpressionAttributeNames"][name.strip()]
        for name in scans[0]["ProjectionExpression"].split(",")
    }
    assert {"id", "status", "last_ping", "timeout", "grace", "last_alert_at", "rev"} <= projected
    assert {"desc", "n_pings", "created"}.isdisjoint(projected)
    # And the sweep saw every check, and flipped the overdue one in one transaction: the check
    # update, conditioned on the revision it read, and the flip item
    assert (summary["checks_scanned"], summary["flips_written"]) == (11, 1)
    after, rev_after, _ = stored(aws, overdue.id)
    assert after.status == "down"
    [write] = [call.params for call in calls if call.operation == "TransactWriteItems"]
    assert [next(iter(item)) for item in write["TransactItems"]] == ["Update", "Put"]
    update = write["TransactItems"][0]["Update"]
    assert update["Key"] == {"id": {"S": overdue.id}}
    assert update["ConditionExpression"] == "attribute_exists(#id) AND #rev = :rev_seen"
    assert update["ExpressionAttributeNames"]["#rev"] == "rev"
    assert update["ExpressionAttributeValues"][":rev_seen"] == {"N": str(rev_after - 1)}
    # And it wrote only what the flip changed, and the two numbers every write keeps, leaving
    # what the scan did not read alone
    written = set(update["ExpressionAttributeNames"].values()) - {"id", "rev"}
    assert written == {"status", "status_since", "why", "last_alert_at", "alert_at", "lead"}


def test_check_within_its_grace_is_left_alone(aws: Aws, scanner: ModuleType) -> None:
    # Given a check that is late (due 11:50) but still within its 10 min grace at 12:00
    check = put_check(aws, simple_check(last_ping_ms=T - 70 * MINUTE + 1))
    # When the scanner sweeps
    summary = sweep_at(scanner, T)
    # Then nothing is written
    after, rev, _ = stored(aws, check.id)
    assert (after.status, rev) == ("up", 3)
    assert outbox(aws) == []
    assert summary["flips_written"] == 0


def test_sweep_keeps_the_attributes_it_does_not_read(aws: Aws, scanner: ModuleType) -> None:
    # Given an overdue check with a description and a ping count, which the scan does not project
    check = put_check(aws, simple_check(last_ping_ms=T - 2 * HOUR, failure_streak=0))
    # When the scanner flips it
    sweep_at(scanner, T)
    # Then the stored check still has them (the update sets only what changed)
    after, _, _ = stored(aws, check.id)
    assert after.desc == "dumps the main database"
    assert after.n_pings == 7
    assert after.status == "down"


def test_cron_check_goes_down_after_the_missed_fire_plus_grace(
    aws: Aws, scanner: ModuleType
) -> None:
    # Given an hourly cron check in New York, last pinged at 10:00 UTC (so due 11:00, grace 10 min)
    check = put_check(
        aws,
        simple_check(
            kind="cron",
            schedule="0 * * * *",
            tz="America/New_York",
            grace_s=600,
            last_ping_ms=at("2026-03-02 10:00"),
        ),
    )
    # When sweeps run at 11:09 and at 11:10
    early = sweep_at(scanner, at("2026-03-02 11:09"))
    late = sweep_at(scanner, at("2026-03-02 11:10"))
    # Then only the second one flips it down, for a timeout
    assert (early["flips_written"], late["flips_written"]) == (0, 1)
    [flip] = outbox(aws, check.id)
    assert flip["reason"]["S"] == "timeout"
    assert stored(aws, check.id)[0].status == "down"


def test_run_that_outlives_max_runtime_goes_down_for_run_timeout(
    aws: Aws, scanner: ModuleType
) -> None:
    # Given a check whose schedule's deadline passed 10 min ago (last ping 80 min ago, timeout
    # 1 h, grace 10 min), with a 20-minute-limit run started 21 min ago: the later deadline
    # is the run's, a minute ago
    check = put_check(
        aws,
        simple_check(
            last_ping_ms=T - 80 * MINUTE,
            last_start_ms=T - 21 * MINUTE,
            last_start_rid="run-1",
            max_runtime_s=1200,
        ),
    )
    # When the scanner sweeps
    sweep_at(scanner, T)
    # Then the check is down with reason run_timeout, and the run is still shown as started
    [flip] = outbox(aws, check.id)
    assert (flip["new"]["S"], flip["reason"]["S"]) == ("down", "run_timeout")
    assert int(flip["check"]["M"]["last_start"]["N"]) == T - 21 * MINUTE
    after, _, _ = stored(aws, check.id)
    assert after.status == "down"
    assert after.last_start_ms == T - 21 * MINUTE


def test_timeouts_ignore_the_failure_threshold(aws: Aws, scanner: ModuleType) -> None:
    # Given a check that tolerates 3 failures, with 1 so far, and a check that is recovering
    # (down, 1 of the 2 successes it needs): both silent for 2 hours
    tolerant = put_check(
        aws,
        simple_check(last_ping_ms=T - 2 * HOUR, failure_threshold=3, failure_streak=1),
    )
    recovering = put_check(
        aws,
        simple_check(
            status="down",
            last_ping_ms=T - 2 * HOUR,
            recovery_threshold=2,
            success_streak=1,
            last_alert_ms=T - 3 * HOUR,
        ),
    )
    # When the scanner sweeps
    summary = sweep_at(scanner, T)
    # Then silence takes the tolerant check down at once, and the down check gets no second flip
    assert [f["reason"]["S"] for f in outbox(aws, tolerant.id)] == ["timeout"]
    assert outbox(aws, recovering.id) == []
    assert stored(aws, recovering.id)[1] == 3
    assert summary["flips_written"] == 1


def test_new_and_paused_checks_never_time_out(aws: Aws, scanner: ModuleType) -> None:
    # Given a new check and a paused one, silent for days
    new = put_check(aws, simple_check(status="new", last_ping_ms=None, status_since_ms=None))
    paused = put_check(aws, simple_check(status="paused", last_ping_ms=T - 72 * HOUR))
    # When the scanner sweeps
    summary = sweep_at(scanner, T)
    # Then neither is flipped
    assert summary["flips_written"] == 0
    assert stored(aws, new.id)[0].status == "new"
    assert stored(aws, paused.id)[0].status == "paused"
    assert outbox(aws) == []


def test_down_check_is_reminded_every_realert_period(aws: Aws, scanner: ModuleType) -> None:
    # Given a check down since 09:00 that re-alerts hourly, last alerted at 10:59
    check = put_check(
        aws,
        simple_check(
            status="down",
            status_since_ms=at("2026-03-02 09:00"),
            last_ping_ms=at("2026-03-02 07:00"),
            realert_every_s=3600,
            last_alert_ms=at("2026-03-02 10:59"),
        ),
    )
    # When sweeps run at 11:58, 11:59, again at 11:59 (a retried invocation) and at 12:30
    counts = [
        sweep_at(scanner, at(moment))["reminders_written"]
        for moment in (
            "2026-03-02 11:58",
            "2026-03-02 11:59",
            "2026-03-02 11:59",
            "2026-03-02 12:30",
        )
    ]
    # Then exactly one reminder is written, at 11:59, and the check remembers it
    assert counts == [0, 1, 0, 0]
    [reminder] = outbox(aws, check.id)
    assert reminder["type"]["S"] == "reminder"
    assert "old" not in reminder
    assert int(reminder["at"]["N"]) == at("2026-03-02 11:59")
    after, rev, _ = stored(aws, check.id)
    assert after.last_alert_ms == at("2026-03-02 11:59")
    assert (after.status, after.status_since_ms) == ("down", at("2026-03-02 09:00"))
    assert rev == 4


def test_retried_sweep_at_the_same_time_writes_nothing_more(aws: Aws, scanner: ModuleType) -> None:
    # Given an overdue check, already flipped by a sweep at 12:00
    check = put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR))
    first = sweep_at(scanner, T)
    # When the same scheduled event is delivered again
    second = sweep_at(scanner, T)
    # Then the retry finds the check down and writes nothing
    assert (first["flips_written"], second["flips_written"]) == (1, 0)
    assert len(outbox(aws, check.id)) == 1


def test_a_check_that_cannot_be_evaluated_is_logged_and_skipped(
    aws: Aws, scanner: ModuleType, logs: io.StringIO
) -> None:
    # Given an overdue check with an unknown time zone, one whose item cannot be decoded,
    # and an ordinary overdue check
    broken = put_check(
        aws,
        simple_check(kind="cron", tz="Mars/Olympus_Mons", last_ping_ms=T - 3 * HOUR),
        legacy=True,
    )
    unreadable_item = to_item(simple_check(last_ping_ms=T - 3 * HOUR), rev=1)
    unreadable_item["timeout"] = {"L": []}
    aws.dynamodb.put_item(TableName=aws.checks_table, Item=unreadable_item)
    healthy = put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR))
    # When the scanner sweeps
    summary = sweep_at(scanner, T)
    # Then the healthy check is flipped, the other two are skipped and logged with their ids
    assert [f["reason"]["S"] for f in outbox(aws, healthy.id)] == ["timeout"]
    assert outbox(aws, broken.id) == []
    assert summary["checks_failed"] == 2
    assert summary["checks_scanned"] == 3
    skipped = {
        line["check_id"] for line in json_lines(logs.getvalue()) if "skipped" in line["message"]
    }
    assert skipped == {broken.id, unreadable_item["id"]["S"]}


def test_sweep_logs_one_summary_line(aws: Aws, scanner: ModuleType, logs: io.StringIO) -> None:
    # Given one overdue check and one healthy check, the second from before `alert_at` existed
    put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR))
    put_check(aws, simple_check(last_ping_ms=T - 5 * MINUTE), legacy=True)
    # When the scanner sweeps
    sweep_at(scanner, T)
    # Then exactly one structured line sums the sweep up: both read (the healthy one for want
    # of its moment, which the sweep then stores)
    [line] = [line for line in json_lines(logs.getvalue()) if line["message"] == "sweep finished"]
    assert line["checks_scanned"] == 2
    assert line["alert_at_corrected"] == 1
    assert line["flips_written"] == 1
    assert line["reminders_written"] == 0
    assert line["conflicts"] == 0
    assert isinstance(line["sweep_duration_ms"], int)
    assert line["sweep_duration_ms"] >= 0


def test_metrics_are_published_only_for_flips(
    aws: Aws, scanner: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two checks that went down 30 s and 90 s before the sweep, and one healthy check
    put_check(aws, simple_check(last_ping_ms=T - 70 * MINUTE - 30_000))
    put_check(aws, simple_check(last_ping_ms=T - 70 * MINUTE - 90_000))
    put_check(aws, simple_check(last_ping_ms=T - 5 * MINUTE))
    # When a sweep flips them, and a second sweep a minute later finds nothing new
    sweep_at(scanner, T)
    first = json_lines(capsys.readouterr().out)
    sweep_at(scanner, T + MINUTE)
    second = json_lines(capsys.readouterr().out)
    # Then the first publishes one Flips count and one DetectionLag value per flip
    assert emf_values(first, "Flips") == [1, 1]
    assert sorted(emf_values(first, "DetectionLag")) == [30.0, 90.0]
    [blob] = [b for b in first if "_aws" in b]
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Cronbeat"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Flips": "Count",
        "DetectionLag": "Seconds",
    }
    assert "check_id" not in {d for dims in directive["Dimensions"] for d in dims}
    # And the quiet sweep publishes no metric at all
    assert [b for b in second if "_aws" in b] == []


def test_thousand_check_sweep_writes_only_the_flips_it_should(
    aws: Aws, scanner: ModuleType
) -> None:
    # Given 1,000 checks: simple and cron, up, late, overdue, started, new, paused and down
    rng = random.Random(4)
    expected_down: set[str] = set()
    requests = []
    for n in range(1000):
        shape = n % 30  # one in ten due: moto copies both tables on every transaction
        check = simple_check(last_ping_ms=T - rng.randint(0, 65) * MINUTE)
        if shape == 0:
            check = replace(check, last_ping_ms=T - rng.randint(71, 300) * MINUTE)
            expected_down.add(check.id)
        elif shape in (1, 11, 21):
            check = replace(check, kind="cron", schedule="*/15 * * * *", grace_s=300)
            check = replace(check, last_ping_ms=T - rng.randint(0, 14) * MINUTE)
        elif shape == 2:
            # last fire 11:45 missed (pinged 11:30 or earlier), grace 5 min is over
            check = replace(check, kind="cron", schedule="*/15 * * * *", grace_s=300)
            check = replace(check, last_ping_ms=at("2026-03-02 11:30") - rng.randint(0, 600) * 1000)
            expected_down.add(check.id)
        elif shape == 3:
            check = replace(check, last_start_ms=T - 11 * MINUTE, last_ping_ms=T - 30 * MINUTE)
            expected_down.add(check.id)
        elif shape == 4:
            check = replace(check, status="new", last_ping_ms=None)
        elif shape == 5:
            check = replace(check, status="paused", last_ping_ms=T - 48 * HOUR)
        elif shape == 6:
            check = replace(
                check, status="down", last_ping_ms=T - 48 * HOUR, last_alert_ms=T - HOUR
            )
        requests.append({"PutRequest": {"Item": to_item(check, rev=2)}})
    for start in range(0, len(requests), 25):
        aws.dynamodb.batch_write_item(RequestItems={aws.checks_table: requests[start : start + 25]})
    # When the scanner sweeps all of them
    summary = sweep_at(scanner, T)
    # Then exactly the overdue, missed-fire and over-long-run checks were flipped, once each
    flips = outbox(aws)
    assert sorted(f["pk"]["S"] for f in flips) == sorted(expected_down)
    assert all(f["new"]["S"] == "down" for f in flips)
    assert summary["checks_scanned"] == 1000
    assert summary["flips_written"] == len(expected_down) == 102
    assert summary["conflicts"] == 0
    assert summary["checks_failed"] == 0


def test_failed_write_skips_one_check_and_fails_the_invocation_for_a_retry(
    aws: Aws, scanner: ModuleType, logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two overdue checks, and DynamoDB throttling the first write of one of them
    throttled = put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR))
    other = put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR))

    pending_throttles = {throttled.id}

    def throttle_once(params: dict[str, Any], **_: Any) -> None:
        written = {
            item["Update"]["Key"]["id"]["S"] for item in params["TransactItems"] if "Update" in item
        }
        if written & pending_throttles:
            pending_throttles.difference_update(written)
            error: Any = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise ClientError(error, "TransactWriteItems")

    runtime.dynamodb().meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems", throttle_once
    )
    # When the scanner sweeps
    with pytest.raises(scanner.SweepIncomplete):
        sweep_at(scanner, T)
    # Then the other check was flipped, the throttled one was logged and left for the retry
    assert len(outbox(aws, other.id)) == 1
    assert outbox(aws, throttled.id) == []
    lines = json_lines(logs.getvalue())
    [skipped] = [line for line in lines if line["message"] == "check skipped: write failed"]
    assert skipped["check_id"] == throttled.id
    [summary] = [line for line in lines if line["message"] == "sweep finished"]
    assert (summary["flips_written"], summary["writes_failed"]) == (1, 1)
    # When Lambda retries the same event
    retry = sweep_at(scanner, T)
    # Then the retry writes the missing flip, and only that one
    assert (retry["flips_written"], retry["writes_failed"]) == (1, 0)
    assert len(outbox(aws, throttled.id)) == 1
    assert len(outbox(aws, other.id)) == 1
