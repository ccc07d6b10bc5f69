"""Duration bounds: a run that took too long or too little counts as a failure, in words."""

from __future__ import annotations

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.domain.machine import apply_ping, evaluate, fast_path
from cronbeat.domain.model import Check, Flip, FlipReason, Ping
from tests.unit.checks import MINUTE, SECOND, T0, make_check


def finish_run(check: Check, took_ms: int) -> tuple[Check, str | None]:
    """Start a run at T0 and finish it `took_ms` later; the check after, and the flip reason."""
    started = apply_ping(check, Ping.start(rid="r1"), T0).check
    outcome = apply_ping(started, Ping.success(rid="r1"), T0 + took_ms)
    return outcome.check, outcome.flip.reason if outcome.flip else None


def _flip(reason: FlipReason) -> Flip:
    return Flip(old="up", new="down", reason=reason)


def bounded(**changes: object) -> Check:
    return make_check(status="up", last_ping_ms=T0 - MINUTE, min_duration_s=60, **changes)


def test_a_run_longer_than_max_duration_goes_down_as_too_slow() -> None:
    check = bounded(max_duration_s=600)
    after, reason = finish_run(check, 14 * MINUTE + 2 * SECOND)
    assert (after.status, reason) == ("down", "too_slow")
    assert after.last_duration_ms == 14 * MINUTE + 2 * SECOND
    assert (after.failure_streak, after.success_streak) == (1, 0)


def test_a_run_shorter_than_min_duration_goes_down_as_too_fast() -> None:
    after, reason = finish_run(bounded(), 300)
    assert (after.status, reason) == ("down", "too_fast")


def test_a_run_inside_the_bounds_is_a_success() -> None:
    after, reason = finish_run(bounded(max_duration_s=600), 5 * MINUTE)
    assert (after.status, reason, after.success_streak) == ("up", None, 1)


def test_the_bounds_are_inclusive() -> None:
    check = bounded(max_duration_s=600)
    assert finish_run(check, 60 * SECOND)[0].status == "up"
    assert finish_run(check, 600 * SECOND)[0].status == "up"
    assert finish_run(check, 600 * SECOND + 1)[0].status == "down"


def test_a_success_without_a_run_has_no_duration_to_judge() -> None:
    outcome = apply_ping(bounded(), Ping.success(), T0)
    assert (outcome.check.status, outcome.flip) == ("up", None)


def test_a_failure_threshold_counts_slow_runs_as_failures() -> None:
    # Given a check that goes down after 2 failures in a row
    check = bounded(max_duration_s=600, failure_threshold=2)
    # When one run is too slow, then one is fine, then two are too slow
    once, reason = finish_run(check, 11 * MINUTE)
    assert (once.status, reason, once.failure_streak) == ("up", None, 1)
    healed, _ = finish_run(once, 5 * MINUTE)
    assert healed.failure_streak == 0
    first, _ = finish_run(healed, 11 * MINUTE)
    second, reason = finish_run(first, 12 * MINUTE)
    # Then only the second in a row flips it
    assert (first.status, second.status, reason) == ("up", "down", "too_slow")


def test_an_open_run_past_max_duration_is_down_at_once_before_the_runtime_limit() -> None:
    # Given a run started at T0 on a check allowed 30 min of runtime but 10 min of duration
    check = apply_ping(bounded(max_duration_s=600, max_runtime_s=1800), Ping.start(), T0).check
    # Then it is still up at 10 min, and down as too slow just after
    assert evaluate(check, T0 + 10 * MINUTE - 1).flip is None
    late = evaluate(check, T0 + 10 * MINUTE)
    assert late.flip is not None
    assert (late.status, late.flip.reason) == ("down", "too_slow")


def test_a_runtime_limit_shorter_than_max_duration_stays_a_run_timeout() -> None:
    # Given a run started 66 min after the last ping: start + max_runtime (76 min) is later than
    # the schedule's deadline (70 min), and earlier than start + max_duration (126 min)
    started_ms = T0 + 65 * MINUTE
    check = bounded(max_duration_s=3600, max_runtime_s=600)
    check = apply_ping(check, Ping.start(), started_ms).check
    # Then the run's limit decides, as a run timeout
    assert evaluate(check, started_ms + 10 * MINUTE - 1).flip is None
    late = evaluate(check, started_ms + 10 * MINUTE)
    assert late.flip is not None
    assert late.flip.reason == "run_timeout"


def test_a_bounded_check_takes_the_general_path_for_successes() -> None:
    plan = fast_path(Ping.success(rid="r1"))
    assert plan is not None
    started = apply_ping(bounded(), Ping.start(rid="r1"), T0).check
    assert not plan.admits(started)
    assert plan.admits(make_check(status="up", last_start_ms=T0, last_start_rid="r1"))


def test_alerts_name_the_duration_and_the_bound() -> None:
    slow, _ = finish_run(bounded(max_duration_s=600), 14 * MINUTE + 2 * SECOND)
    fast, _ = finish_run(bounded(), 300)
    down_at = T0 + 15 * MINUTE
    assert message.what_happened(Alert(slow, _flip("too_slow"), down_at)) == (
        "took 14 min 2 s, longer than its max duration of 10 min"
    )
    assert message.what_happened(Alert(fast, _flip("too_fast"), down_at)) == (
        "finished in 300 ms, shorter than its min duration of 1 min"
    )
    running = apply_ping(bounded(max_duration_s=600), Ping.start(), T0).check
    assert message.what_happened(Alert(running, _flip("too_slow"), T0 + 10 * MINUTE)) == (
        "still running after 10 min, longer than its max duration of 10 min"
    )
