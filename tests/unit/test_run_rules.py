"""Run rules: slower than usual, count assertions, stuck runs, and which deadline of an open
run comes first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.domain.machine import apply_ping, evaluate, fit_window, slower_than_usual_after
from cronbeat.domain.model import Check, Flip, FlipReason, Ping
from tests.unit.checks import HOUR, MINUTE, SECOND, T0, make_check

# --- helpers ---------------------------------------------------------------------------------


def up_check(**changes: object) -> Check:
    """An up check (timeout 1 h, grace 10 min) last pinged at T0, its window fitted as the
    service fits it when the settings change."""
    return fit_window(make_check(status="up", last_ping_ms=T0, **changes))


def run(check: Check, took_ms: int, *, at_ms: int = T0) -> tuple[Check, FlipReason | None]:
    """Start a run at `at_ms`, finish it `took_ms` later: the check after, and the flip reason
    (None without a flip)."""
    started = apply_ping(check, Ping.start(rid="r"), at_ms).check
    outcome = apply_ping(started, Ping.success(rid="r"), at_ms + took_ms)
    return outcome.check, outcome.flip.reason if outcome.flip else None


def runs(check: Check, *durations_ms: int) -> Check:
    """The check after runs of these durations, each asserted to flip nothing."""
    for n, took_ms in enumerate(durations_ms):
        check, reason = run(check, took_ms, at_ms=T0 + n * HOUR)
        assert reason is None, (n, took_ms, reason)
    return check


def finish(check: Check, ping: Ping, at_ms: int = T0 + MINUTE) -> tuple[Check, Flip | None]:
    outcome = apply_ping(check, ping, at_ms)
    return outcome.check, outcome.flip


def counted(count: int | None) -> Ping:
    return replace(Ping.success(), count=count)


def down_flip(reason: FlipReason) -> Flip:
    return Flip(old="up", new="down", reason=reason)


# --- slower than usual -----------------------------------------------------------------------


def test_a_slow_run_is_not_judged_while_fewer_than_five_runs_are_known() -> None:
    # Given a check with slow_factor 2 that knows 4 runs of 10 s
    check = runs(up_check(slow_factor=2.0), *[10 * SECOND] * 4)
    assert check.usual_p95_ms(check.recent_durations_ms) is None
    # When a run takes 100 times as long
    after, reason = run(check, 1000 * SECOND, at_ms=T0 + 10 * HOUR)
    # Then it is a plain success, and its duration joins the window
    assert (after.status, reason, after.success_streak) == ("up", None, 5)
    assert after.recent_durations_ms[-5:] == (*[10 * SECOND] * 4, 1000 * SECOND)


def test_finishes_without_a_run_are_unknown_and_do_not_make_up_the_five() -> None:
    # Given a check that knows 4 runs of 10 s and then had 3 successes that closed no run
    check = runs(up_check(slow_factor=2.0), *[10 * SECOND] * 4)
    for n in range(3):
        check = apply_ping(check, Ping.success(), T0 + (20 + n) * HOUR).check
    assert check.recent_durations_ms[-3:] == (0, 0, 0)
    # When a run takes far longer than usual
    after, reason = run(check, 1000 * SECOND, at_ms=T0 + 30 * HOUR)
    # Then it is still not judged: only 4 durations are known
    assert (after.status, reason) == ("up", None)


def test_with_exactly_five_runs_known_a_slow_run_goes_down() -> None:
    # Given a check with slow_factor 2 that knows exactly 5 runs of 10 s
    check = runs(up_check(slow_factor=2.0), *[10 * SECOND] * 5)
    assert check.usual_p95_ms(check.recent_durations_ms) == 10 * SECOND
    # When a run takes 25 s
    after, reason = run(check, 25 * SECOND, at_ms=T0 + 10 * HOUR)
    # Then it is a failure: slower than usual, and the alert says by how much
    assert (after.status, reason) == ("down", "slower_than_usual")
    assert (after.failure_streak, after.success_streak) == (1, 0)
    assert after.recent_durations_ms[-1] == 25 * SECOND
    alert = Alert(after, down_flip("slower_than_usual"), T0 + 10 * HOUR + 25 * SECOND)
    assert message.what_happened(alert) == "took 25.0 s, 2.5× its usual p95 of 10.0 s"


def test_a_run_of_exactly_factor_times_p95_passes_and_one_just_over_fails() -> None:
    # Given a check with slow_factor 1.5 that knows 5 runs of 10 s
    check = runs(up_check(slow_factor=1.5), *[10 * SECOND] * 5)
    # When a run takes exactly 15 s, or 1 ms more
    exact, exact_reason = run(check, 15 * SECOND, at_ms=T0 + 10 * HOUR)
    over, over_reason = run(check, 15 * SECOND + 1, at_ms=T0 + 10 * HOUR)
    # Then only the longer one is slower than usual
    assert (exact.status, exact_reason) == ("up", None)
    assert (over.status, over_reason) == ("down", "slower_than_usual")


def test_the_p95_is_the_nearest_rank_over_the_known_durations_of_the_window() -> None:
    # Given a check that ran 20 times, taking 1 s, 2 s, ... 20 s
    check = runs(up_check(slow_factor=2.0), *[n * SECOND for n in range(1, 21)])
    # Then its usual p95 is the 19th of the 20 sorted durations
    assert check.usual_p95_ms(check.recent_durations_ms) == 19 * SECOND
    # And a run of twice that passes, and one 1 ms longer fails
    assert run(check, 38 * SECOND, at_ms=T0 + 30 * HOUR)[1] is None
    assert run(check, 38 * SECOND + 1, at_ms=T0 + 30 * HOUR)[1] == "slower_than_usual"


def test_the_window_keeps_slow_window_runs_and_old_ones_leave_it() -> None:
    # Given a check with a window of 5 that ran 5 times for 100 s
    check = runs(up_check(slow_factor=2.0, slow_window=5), *[100 * SECOND] * 5)
    # Then it keeps the window and the run being judged: 6 durations
    assert len(check.recent_durations_ms) == 6
    # When it then runs 4 times for 10 s
    check = runs(check, *[10 * SECOND] * 4)
    # Then while one 100 s run is still in the window a 25 s run is fine
    assert check.usual_p95_ms(check.recent_durations_ms) == 100 * SECOND
    assert run(check, 25 * SECOND, at_ms=T0 + 20 * HOUR)[1] is None
    # When a fifth 10 s run pushes the last 100 s one out of the window
    check = runs(check, 10 * SECOND)
    # Then the same run is slower than usual
    assert check.recent_durations_ms == (100 * SECOND, *[10 * SECOND] * 5)
    assert check.usual_p95_ms(check.recent_durations_ms) == 10 * SECOND
    assert run(check, 25 * SECOND, at_ms=T0 + 20 * HOUR)[1] == "slower_than_usual"


def test_without_a_slow_factor_no_run_is_slower_than_usual() -> None:
    # Given a check without slow_factor that ran 5 times for 10 s
    check = runs(up_check(), *[10 * SECOND] * 5)
    # When a run takes 100 times as long
    after, reason = run(check, 1000 * SECOND, at_ms=T0 + 10 * HOUR)
    # Then it is a success, and only the last duration is kept
    assert (after.status, reason) == ("up", None)
    assert after.recent_durations_ms == (1000 * SECOND,)


def test_the_read_free_judgement_agrees_with_the_general_path() -> None:
    # Given a check that knows 5 runs of 10 s
    check = runs(up_check(slow_factor=2.0), *[10 * SECOND] * 5)
    # When a 20 s run and a 21 s run are applied
    fine, fine_reason = run(check, 20 * SECOND, at_ms=T0 + 10 * HOUR)
    slow, slow_reason = run(check, 21 * SECOND, at_ms=T0 + 10 * HOUR)
    # Then judging the last entry against the ones before it gives the same answer
    assert (fine_reason, slower_than_usual_after(fine)) == (None, False)
    assert (slow_reason, slower_than_usual_after(slow)) == ("slower_than_usual", True)


# --- count assertions ------------------------------------------------------------------------


def test_a_count_below_min_count_fails_as_an_assertion() -> None:
    # Given a check that expects at least 10 items
    check = up_check(min_count=10)
    # When a finish reports 9
    after, flip = finish(check, counted(9))
    # Then the check is down for the assertion, and keeps the count for the alert
    assert flip == down_flip("assertion")
    assert (after.status, after.last_count, after.failure_streak) == ("down", 9, 1)
    alert = Alert(after, flip, T0 + MINUTE)
    assert message.what_happened(alert) == "count was 9, expected at least 10"


@pytest.mark.parametrize("count", [10, 11, 10**12])
def test_a_count_at_or_above_min_count_passes(count: int) -> None:
    # Given a check that expects at least 10 items
    # When a finish reports as many or more
    after, flip = finish(up_check(min_count=10), counted(count))
    # Then it is a success that records the count
    assert (after.status, flip, after.last_count, after.success_streak) == ("up", None, count, 1)


def test_a_finish_without_a_count_is_not_judged() -> None:
    # Given a check that expects at least 1 item, down from a count of 0
    down, _ = finish(up_check(min_count=1), counted(0))
    assert down.status == "down"
    # When a finish reports no count
    after, flip = finish(down, Ping.success(), T0 + 2 * MINUTE)
    # Then it is a success that recovers the check, and the last count is cleared
    assert flip == Flip(old="down", new="up", reason="recovered")
    assert (after.status, after.last_count) == ("up", None)


def test_without_min_count_a_count_of_zero_is_only_recorded() -> None:
    after, flip = finish(up_check(), counted(0))
    assert (after.status, flip, after.last_count) == ("up", None, 0)


def test_a_low_count_on_a_failure_is_a_failure_not_an_assertion() -> None:
    after, flip = finish(up_check(min_count=5), replace(Ping.fail(), count=0))
    assert flip == down_flip("fail")
    assert after.last_count == 0


def test_low_counts_are_failures_the_failure_threshold_counts() -> None:
    # Given a check that goes down after 2 failures in a row and expects at least 1 item
    check = up_check(min_count=1, failure_threshold=2)
    # When one finish counts 0, then one counts 1, then two count 0
    once, flip = finish(check, counted(0))
    assert (once.status, flip, once.failure_streak) == ("up", None, 1)
    healed, _ = finish(once, counted(1), T0 + 2 * MINUTE)
    first, _ = finish(healed, counted(0), T0 + 3 * MINUTE)
    second, flip = finish(first, counted(0), T0 + 4 * MINUTE)
    # Then only the second in a row flips it
    assert healed.failure_streak == 0
    assert (first.status, second.status, flip) == ("up", "down", down_flip("assertion"))


def test_a_run_out_of_its_duration_bounds_is_judged_before_its_count() -> None:
    # Given a check with a 10 min max duration that expects at least 1 item
    check = up_check(min_count=1, max_duration_s=600)
    started = apply_ping(check, Ping.start(), T0).check
    # When a run takes 11 min and counts 0
    outcome = apply_ping(started, counted(0), T0 + 11 * MINUTE)
    # Then it is down as too slow
    assert outcome.flip == down_flip("too_slow")


# --- stuck runs and the deadlines of an open run ---------------------------------------------


def open_run(start_ms: int, **changes: object) -> Check:
    """An up check last pinged at T0 (timeout 1 h, grace 10 min: due at T0 + 70 min) with a run
    started at `start_ms`."""
    return apply_ping(up_check(**changes), Ping.start(), start_ms).check


def assert_down_at(check: Check, down_ms: int, reason: FlipReason) -> None:
    """Nothing flips a millisecond before `down_ms`; at `down_ms` it goes down for `reason`."""
    before = evaluate(check, down_ms - 1)
    assert (before.flip, before.down_at_ms) == (None, down_ms)
    assert before.status in ("up", "grace")
    at = evaluate(check, down_ms)
    assert (at.status, at.flip) == ("down", down_flip(reason))
    assert at.check.status_reason == reason


def test_stuck_first_goes_down_as_stuck() -> None:
    # Given a run started 1 min after the last ping, stuck after 5 min, with 30 min of runtime,
    # a 20 min max duration, and the schedule's deadline at T0 + 70 min
    check = open_run(
        T0 + MINUTE, stuck_after_s=5 * 60, max_runtime_s=30 * 60, max_duration_s=20 * 60
    )
    # Then it is down as stuck 5 min after its start
    assert_down_at(check, T0 + 6 * MINUTE, "stuck")


def test_max_duration_first_goes_down_as_too_slow() -> None:
    check = open_run(
        T0 + MINUTE, stuck_after_s=10 * 60, max_runtime_s=30 * 60, max_duration_s=5 * 60
    )
    assert_down_at(check, T0 + 6 * MINUTE, "too_slow")


def test_max_runtime_past_the_schedule_deadline_goes_down_as_a_run_timeout() -> None:
    # Given a run started at T0 + 50 min with 30 min of runtime: past the schedule's deadline
    # (T0 + 70 min), before its stuck deadline (T0 + 110 min) and max duration (T0 + 95 min)
    check = open_run(
        T0 + 50 * MINUTE, max_runtime_s=30 * 60, stuck_after_s=60 * 60, max_duration_s=45 * 60
    )
    # Then the run has its runtime whatever the schedule says
    assert_down_at(check, T0 + 80 * MINUTE, "run_timeout")


def test_a_max_runtime_shorter_than_the_schedule_leaves_the_stuck_deadline_first() -> None:
    # Given a run started at T0 + 1 min with 5 min of runtime, stuck after 20 min: the schedule's
    # deadline (T0 + 70 min) is the later of the run's two, so the stuck one (T0 + 21 min) is first
    check = open_run(T0 + MINUTE, max_runtime_s=5 * 60, stuck_after_s=20 * 60)
    # Then it is not down when its runtime is over, but when it has been stuck
    assert evaluate(check, T0 + 6 * MINUTE).flip is None
    assert_down_at(check, T0 + 21 * MINUTE, "stuck")


def test_without_max_runtime_the_grace_first_goes_down_as_a_run_timeout() -> None:
    # Given a run started at T0 + 30 min, so its grace ends at T0 + 40 min, before the schedule's
    # deadline (T0 + 70 min), its max duration (T0 + 45 min) and stuck deadline (T0 + 50 min)
    check = open_run(T0 + 30 * MINUTE, stuck_after_s=20 * 60, max_duration_s=15 * 60)
    assert_down_at(check, T0 + 40 * MINUTE, "run_timeout")


def test_without_max_runtime_the_schedule_first_goes_down_as_a_timeout() -> None:
    # Given a run started at T0 + 65 min, so the schedule's deadline (T0 + 70 min) comes before
    # its grace (T0 + 75 min), its max duration (T0 + 73 min) and stuck deadline (T0 + 75 min)
    check = open_run(T0 + 65 * MINUTE, stuck_after_s=10 * 60, max_duration_s=8 * 60)
    assert_down_at(check, T0 + 70 * MINUTE, "timeout")


def test_a_stuck_deadline_equal_to_the_run_deadline_is_a_run_timeout() -> None:
    check = open_run(T0 + MINUTE, stuck_after_s=10 * 60)
    assert_down_at(check, T0 + 11 * MINUTE, "run_timeout")


def test_a_max_duration_equal_to_the_stuck_deadline_is_stuck() -> None:
    check = open_run(T0 + MINUTE, stuck_after_s=5 * 60, max_duration_s=5 * 60)
    assert_down_at(check, T0 + 6 * MINUTE, "stuck")


@pytest.mark.parametrize("progress", [Ping.progress, Ping.log])
def test_progress_on_an_open_run_moves_its_stuck_deadline(progress: Callable[[], Ping]) -> None:
    # Given a run started at T0 + 1 min, stuck after 5 min, with an hour of runtime
    check = open_run(T0 + MINUTE, stuck_after_s=5 * 60, max_runtime_s=HOUR // SECOND)
    # When a progress ping arrives at T0 + 4 min
    moved = apply_ping(check, progress(), T0 + 4 * MINUTE)
    # Then it is recorded, changes neither the status nor the last ping, and flips nothing
    assert (moved.kind, moved.flip) == (progress().action, None)
    assert moved.check.last_progress_ms == T0 + 4 * MINUTE
    assert (moved.check.status, moved.check.last_ping_ms) == ("up", T0)
    # And the run is not stuck at its old deadline but 5 min after the progress
    assert evaluate(moved.check, T0 + 6 * MINUTE).flip is None
    assert_down_at(moved.check, T0 + 9 * MINUTE, "stuck")


def test_the_stuck_alert_names_the_run_time_the_silence_and_the_limit() -> None:
    # Given a run started at T0 + 1 min with progress at T0 + 4 min, stuck after 5 min
    check = open_run(T0 + MINUTE, stuck_after_s=5 * 60, max_runtime_s=HOUR // SECOND)
    check = apply_ping(check, Ping.progress(), T0 + 4 * MINUTE).check
    # When it is found stuck at T0 + 9 min
    swept = evaluate(check, T0 + 9 * MINUTE)
    assert swept.flip is not None
    # Then the alert says how long it ran, how long it was silent, and the limit
    text = message.what_happened(Alert(swept.check, swept.flip, T0 + 9 * MINUTE))
    assert text == "started 8 min ago, no progress for 5 min (limit 5 min)"


def test_a_start_clears_earlier_progress() -> None:
    # Given a check with progress recorded before a run and during one
    check = up_check(stuck_after_s=5 * 60, max_runtime_s=HOUR // SECOND)
    early = apply_ping(check, Ping.progress(), T0 + MINUTE).check
    assert early.last_progress_ms == T0 + MINUTE
    first = apply_ping(early, Ping.start(), T0 + 2 * MINUTE).check
    assert first.last_progress_ms is None
    first = apply_ping(first, Ping.progress(), T0 + 4 * MINUTE).check
    # When a new run starts
    second = apply_ping(first, Ping.start(), T0 + 5 * MINUTE).check
    # Then its progress is cleared, and it is stuck 5 min after its own start
    assert (second.last_start_ms, second.last_progress_ms) == (T0 + 5 * MINUTE, None)
    assert second.stuck_at_ms() == T0 + 10 * MINUTE
    assert_down_at(second, T0 + 10 * MINUTE, "stuck")


def test_a_finish_ends_the_run_its_progress_and_its_stuck_deadline() -> None:
    # Given a run with progress, stuck after 5 min
    check = open_run(T0 + MINUTE, stuck_after_s=5 * 60, max_runtime_s=HOUR // SECOND)
    check = apply_ping(check, Ping.progress(), T0 + 2 * MINUTE).check
    # When it finishes
    after = apply_ping(check, Ping.success(), T0 + 3 * MINUTE).check
    # Then no run is open, no progress is kept, and only the schedule's deadline is left
    assert (after.started, after.last_progress_ms, after.stuck_at_ms()) == (False, None, None)
    swept = evaluate(after, T0 + 30 * MINUTE)
    assert (swept.status, swept.flip) == ("up", None)
    assert swept.down_at_ms == T0 + 3 * MINUTE + HOUR + 10 * MINUTE


def test_progress_without_an_open_run_sets_no_stuck_deadline() -> None:
    # Given an up check with stuck_after and no open run
    check = up_check(stuck_after_s=5 * 60)
    # When a progress ping arrives
    after = apply_ping(check, Ping.progress(), T0 + MINUTE).check
    # Then it is not stuck later on: only the schedule's deadline counts
    assert after.stuck_at_ms() is None
    assert evaluate(after, T0 + 30 * MINUTE).flip is None
    assert evaluate(after, T0 + 70 * MINUTE).flip == down_flip("timeout")
