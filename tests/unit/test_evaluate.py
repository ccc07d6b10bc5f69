"""Evaluating a check at sweep time: late, down, run timeouts and reminders."""

from __future__ import annotations

import pytest

from cronbeat.domain.machine import evaluate
from cronbeat.domain.model import Flip
from tests.unit.checks import HOUR, MINUTE, SECOND, T0, at, make_check


def test_up_check_within_its_timeout_is_up() -> None:
    check = make_check(status="up", last_ping_ms=T0)
    result = evaluate(check, T0 + HOUR - SECOND)
    assert result.status == "up"
    assert result.flip is None
    assert result.due_ms == T0 + HOUR
    assert result.down_at_ms == T0 + HOUR + 10 * MINUTE
    assert result.check == check


def test_check_past_due_but_within_grace_is_late_without_a_flip() -> None:
    result = evaluate(make_check(status="up", last_ping_ms=T0), T0 + HOUR)
    assert result.status == "grace"
    assert result.flip is None


def test_check_past_grace_goes_down_with_reason_timeout() -> None:
    # Given an hourly check with 10 minutes of grace, last pinged at T0
    check = make_check(status="up", last_ping_ms=T0, success_streak=4)
    # When the sweep runs exactly when the grace runs out
    sweep = T0 + HOUR + 10 * MINUTE
    result = evaluate(check, sweep)
    # Then it flips down for a timeout, and the check to store says so
    assert result.flip == Flip(old="up", new="down", reason="timeout")
    assert result.status == "down"
    assert result.down_at_ms == sweep
    assert result.check.status == "down"
    assert result.check.status_since_ms == sweep
    assert result.check.last_alert_ms == sweep
    assert result.check.success_streak == 0


def test_one_millisecond_before_the_deadline_is_still_grace() -> None:
    result = evaluate(make_check(status="up", last_ping_ms=T0), T0 + HOUR + 10 * MINUTE - 1)
    assert result.status == "grace"


def test_cron_check_goes_down_after_the_next_fire_plus_grace() -> None:
    # Given a nightly job in New York that ran at 02:00 on 1 March
    check = make_check(
        status="up",
        kind="cron",
        schedule="0 2 * * *",
        tz="America/New_York",
        grace_s=1800,
        last_ping_ms=at("2026-03-01 02:00:05", "America/New_York"),
    )
    # When the sweep runs at 02:29 and 02:30 the next night
    late = evaluate(check, at("2026-03-02 02:29", "America/New_York"))
    down = evaluate(check, at("2026-03-02 02:30", "America/New_York"))
    # Then it is late, then down
    assert late.status == "grace"
    assert down.flip == Flip(old="up", new="down", reason="timeout")


def test_new_and_paused_checks_never_time_out() -> None:
    for status in ("new", "paused"):
        check = make_check(status=status, last_ping_ms=T0)
        result = evaluate(check, T0 + 1000 * HOUR)
        assert result.status == status
        assert result.flip is None
        assert result.due_ms is None


@pytest.mark.parametrize("status", ["new", "up", "paused"])
def test_run_older_than_max_runtime_goes_down_with_reason_run_timeout(status: str) -> None:
    # Given an hourly check (schedule deadline 70 min) allowing runs of 20 minutes, whose run
    # started at 60 min, so start + max_runtime (80 min) is the later deadline
    check = make_check(
        status=status, last_ping_ms=T0, last_start_ms=T0 + 60 * MINUTE, max_runtime_s=1200
    )
    # When the sweep runs at 80 minutes
    result = evaluate(check, T0 + 80 * MINUTE)
    # Then it is down for a run timeout, even when paused, and the run is still shown as started
    assert result.flip == Flip(old=status, new="down", reason="run_timeout")  # type: ignore[arg-type]
    assert result.started
    assert result.down_at_ms == T0 + 80 * MINUTE


def test_run_timeout_defaults_to_the_grace_period() -> None:
    check = make_check(status="up", last_ping_ms=T0, last_start_ms=T0, grace_s=600)
    assert evaluate(check, T0 + 10 * MINUTE - 1).flip is None
    assert evaluate(check, T0 + 10 * MINUTE).flip == Flip("up", "down", "run_timeout")


def test_run_in_progress_within_its_limit_is_started_and_up() -> None:
    check = make_check(status="up", last_ping_ms=T0, last_start_ms=T0 + 5 * MINUTE)
    result = evaluate(check, T0 + 6 * MINUTE)
    assert result.status == "up"
    assert result.started


def test_without_max_runtime_the_earlier_of_the_two_deadlines_decides_as_on_healthchecks() -> None:
    # Given an hourly check (grace 10 min) whose run started late, at 65 min
    check = make_check(status="up", last_ping_ms=T0, last_start_ms=T0 + 65 * MINUTE)
    # When the schedule's deadline (70 min) passes before start + grace (75 min)
    result = evaluate(check, T0 + 70 * MINUTE)
    # Then the reason is the timeout
    assert result.flip == Flip("up", "down", "timeout")


def test_a_run_with_max_runtime_is_not_cut_short_by_the_schedule() -> None:
    # Given the case: timeout 3 s, grace 2 s, max_runtime 30 s, a run started at 1 s
    check = make_check(
        status="up", timeout_s=3, grace_s=2, max_runtime_s=30, last_ping_ms=T0,
        last_start_ms=T0 + SECOND,
    )  # fmt: skip
    # Then it is not down when the schedule expected a ping (5 s), nor just before 31 s
    assert evaluate(check, T0 + 5 * SECOND).flip is None
    assert evaluate(check, T0 + 31 * SECOND - 1).flip is None
    # And at start + max_runtime it is down for the run
    late = evaluate(check, T0 + 31 * SECOND)
    assert late.flip == Flip("up", "down", "run_timeout")
    assert late.down_at_ms == T0 + 31 * SECOND


def test_a_max_runtime_shorter_than_the_schedule_never_cuts_the_schedule_short() -> None:
    # Given an hourly check (deadline 70 min) with max_runtime 5 min, a run started at 10 min
    check = make_check(
        status="up", max_runtime_s=300, last_ping_ms=T0, last_start_ms=T0 + 10 * MINUTE
    )
    # Then start + max_runtime (15 min) passes without a flip: the later deadline decides
    assert evaluate(check, T0 + 15 * MINUTE).flip is None
    assert evaluate(check, T0 + 70 * MINUTE - 1).flip is None
    assert evaluate(check, T0 + 70 * MINUTE).flip == Flip("up", "down", "timeout")


def test_max_duration_is_the_hard_limit_that_catches_a_hung_run_early() -> None:
    # Given the same run, with max_duration 5 min as well
    check = make_check(
        status="up", max_runtime_s=300, max_duration_s=300, last_ping_ms=T0,
        last_start_ms=T0 + 10 * MINUTE,
    )  # fmt: skip
    # Then it is down at 15 min, long before the schedule's deadline
    result = evaluate(check, T0 + 15 * MINUTE)
    assert result.flip == Flip("up", "down", "too_slow")
    assert result.down_at_ms == T0 + 15 * MINUTE


def test_down_check_stays_down_without_a_reminder_by_default() -> None:
    check = make_check(status="down", last_ping_ms=T0, last_alert_ms=T0)
    result = evaluate(check, T0 + 100 * HOUR)
    assert result.status == "down"
    assert result.flip is None
    assert not result.reminder
    assert result.check == check


def test_down_check_owes_a_reminder_once_realert_every_has_passed() -> None:
    # Given a down check alerted at T0 that re-alerts every hour
    check = make_check(status="down", last_alert_ms=T0, realert_every_s=3600)
    # When sweeps run just before and at the hour
    early = evaluate(check, T0 + HOUR - 1)
    due = evaluate(check, T0 + HOUR)
    # Then only the second yields a reminder, and it moves the last alert time
    assert not early.reminder
    assert due.reminder
    assert due.flip is None
    assert due.check.last_alert_ms == T0 + HOUR
    assert evaluate(due.check, T0 + HOUR + MINUTE).reminder is False


def test_down_check_without_a_recorded_alert_owes_no_reminder() -> None:
    check = make_check(status="down", realert_every_s=60)
    assert not evaluate(check, T0).reminder


def test_up_check_without_a_last_ping_is_treated_as_never_pinged() -> None:
    result = evaluate(make_check(status="up"), T0)
    assert result.status == "up"
    assert result.flip is None
    assert result.due_ms is None


def test_model_helpers_split_tags_and_channels() -> None:
    check = make_check(tags="prod  db", channels="a,,b")
    assert check.tag_list == ["prod", "db"]
    assert check.channel_ids == ["a", "b"]
    assert make_check(grace_s=77).runtime_limit_s == 77
    assert make_check(max_runtime_s=5).runtime_limit_s == 5
