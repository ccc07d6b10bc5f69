"""Applying a ping: the Healthchecks.io rules, plus thresholds."""

from __future__ import annotations

from cronbeat.domain.machine import apply_ping, classify, keywords, run_durations
from cronbeat.domain.model import Flip, Ping
from cronbeat.store.history import PingRecord
from tests.unit.checks import MINUTE, SECOND, T0, make_check


def test_first_success_brings_a_new_check_up_without_an_alert() -> None:
    # Given a new check
    check = make_check()
    # When its first success arrives
    outcome = apply_ping(check, Ping.success(), T0)
    # Then it is up, the flip says so, and the flip is not alerted
    assert outcome.check.status == "up"
    assert outcome.check.last_ping_ms == T0
    assert outcome.check.status_since_ms == T0
    assert outcome.flip == Flip(old="new", new="up", reason="first_ping")
    assert outcome.flip is not None
    assert not outcome.flip.alerts
    assert outcome.kind == "success"
    assert outcome.check.n_pings == 1


def test_success_on_an_up_check_changes_no_status() -> None:
    check = make_check(status="up", last_ping_ms=T0, n_pings=7, success_streak=3)
    outcome = apply_ping(check, Ping.success(), T0 + MINUTE)
    assert outcome.flip is None
    assert outcome.check.last_ping_ms == T0 + MINUTE
    assert outcome.check.n_pings == 8
    assert outcome.check.success_streak == 4


def test_start_records_the_run_and_changes_no_status() -> None:
    # Given an up check
    check = make_check(status="up", last_ping_ms=T0)
    # When a start with a run id arrives
    outcome = apply_ping(check, Ping.start(rid="r1"), T0 + MINUTE)
    # Then the run is open, last_ping is untouched and nothing flips
    assert outcome.kind == "start"
    assert outcome.check.last_start_ms == T0 + MINUTE
    assert outcome.check.last_start_rid == "r1"
    assert outcome.check.started
    assert outcome.check.last_ping_ms == T0
    assert outcome.flip is None


def test_success_with_the_start_rid_closes_the_run_and_measures_it() -> None:
    check = make_check(status="up", last_start_ms=T0, last_start_rid="r1")
    outcome = apply_ping(check, Ping.success(rid="r1"), T0 + 90 * SECOND)
    assert outcome.duration_ms == 90 * SECOND
    assert outcome.check.last_duration_ms == 90 * SECOND
    assert not outcome.check.started
    assert outcome.check.last_start_rid is None


def test_finish_without_rid_measures_a_run_started_without_one() -> None:
    check = make_check(status="up", last_start_ms=T0)
    outcome = apply_ping(check, Ping.exit_code(0), T0 + 5 * SECOND)
    assert outcome.duration_ms == 5 * SECOND
    assert outcome.check.last_duration_ms == 5 * SECOND
    assert not outcome.check.started


def test_success_without_rid_ends_a_run_started_with_one_but_measures_nothing() -> None:
    # Healthchecks.io: after a start with a rid, a success without one clears last_start and
    # leaves last_duration unset.
    check = make_check(status="up", last_start_ms=T0, last_start_rid="r1", last_duration_ms=9000)
    outcome = apply_ping(check, Ping.exit_code(0), T0 + 5 * SECOND)
    assert not outcome.check.started
    assert outcome.duration_ms is None
    assert outcome.check.last_duration_ms is None


def test_success_with_another_rid_leaves_the_start_open() -> None:
    # Given a run r1 in progress
    check = make_check(status="up", last_start_ms=T0, last_start_rid="r1")
    # When run r2 reports success
    outcome = apply_ping(check, Ping.success(rid="r2"), T0 + MINUTE)
    # Then r1 is still open and no duration is recorded
    assert outcome.check.last_start_ms == T0
    assert outcome.check.last_start_rid == "r1"
    assert outcome.duration_ms is None
    assert outcome.check.last_duration_ms is None


def test_failure_with_another_rid_closes_the_start_without_a_duration() -> None:
    check = make_check(status="up", last_start_ms=T0, last_start_rid="r1")
    outcome = apply_ping(check, Ping.fail(rid="r2"), T0 + MINUTE)
    assert not outcome.check.started
    assert outcome.duration_ms is None


def test_finish_without_an_open_run_clears_the_last_duration() -> None:
    check = make_check(status="up", last_duration_ms=5000)
    outcome = apply_ping(check, Ping.success(), T0)
    assert outcome.check.last_duration_ms is None
    assert outcome.duration_ms is None


def test_log_changes_nothing_but_the_history_and_the_progress_moment() -> None:
    check = make_check(status="down", last_ping_ms=T0, n_pings=3)
    outcome = apply_ping(check, Ping.log(body=b"note"), T0 + MINUTE)
    assert outcome.kind == "log"
    assert outcome.flip is None
    assert outcome.check == make_check(
        status="down", last_ping_ms=T0, n_pings=4, last_progress_ms=T0 + MINUTE
    )


def test_failure_flips_an_up_check_down_and_marks_the_alert() -> None:
    check = make_check(status="up", last_ping_ms=T0, success_streak=5)
    outcome = apply_ping(check, Ping.fail(), T0 + MINUTE)
    assert outcome.flip == Flip(old="up", new="down", reason="fail")
    assert outcome.flip is not None
    assert outcome.flip.alerts
    assert outcome.check.failure_streak == 1
    assert outcome.check.success_streak == 0
    assert outcome.check.last_alert_ms == T0 + MINUTE
    assert outcome.check.status_since_ms == T0 + MINUTE


def test_nonzero_exit_code_is_a_failure_and_is_recorded() -> None:
    check = make_check(status="up")
    outcome = apply_ping(check, Ping.exit_code(137), T0)
    assert outcome.kind == "fail"
    assert outcome.check.last_exit == 137
    assert outcome.check.status == "down"


def test_exit_code_zero_is_a_success() -> None:
    outcome = apply_ping(make_check(status="up"), Ping.exit_code(0), T0)
    assert outcome.kind == "success"
    assert outcome.check.last_exit == 0


def test_second_consecutive_failure_flips_down_when_threshold_is_two() -> None:
    # Given a check that tolerates one failure
    check = make_check(status="up", failure_threshold=2)
    # When two failures arrive
    first = apply_ping(check, Ping.fail(), T0)
    second = apply_ping(first.check, Ping.fail(), T0 + MINUTE)
    # Then only the second one flips it
    assert first.flip is None
    assert first.check.status == "up"
    assert second.flip == Flip(old="up", new="down", reason="fail")


def test_success_between_failures_resets_the_failure_streak() -> None:
    check = make_check(status="up", failure_threshold=2)
    first = apply_ping(check, Ping.fail(), T0)
    between = apply_ping(first.check, Ping.success(), T0 + MINUTE)
    second = apply_ping(between.check, Ping.fail(), T0 + 2 * MINUTE)
    assert second.check.status == "up"
    assert second.flip is None


def test_tolerated_failure_brings_a_new_check_up() -> None:
    # Given a new check that tolerates one failure, when it first reports a failure
    outcome = apply_ping(make_check(failure_threshold=2), Ping.fail(), T0)
    # Then the job is alive: the check comes up and will time out like any other
    assert outcome.flip == Flip(old="new", new="up", reason="first_ping")


def test_recovery_needs_the_threshold_of_consecutive_successes() -> None:
    # Given a down check that must see two successes in a row to recover
    check = make_check(status="down", recovery_threshold=2, failure_streak=1)
    # When successes arrive one by one
    first = apply_ping(check, Ping.success(), T0)
    second = apply_ping(first.check, Ping.success(), T0 + MINUTE)
    # Then the second brings it back up
    assert first.flip is None
    assert first.check.status == "down"
    assert second.flip == Flip(old="down", new="up", reason="recovered")
    assert second.flip is not None
    assert second.flip.alerts
    assert second.check.status_since_ms == T0 + MINUTE


def test_failure_on_a_down_check_does_not_flip_again() -> None:
    outcome = apply_ping(make_check(status="down", failure_streak=1), Ping.fail(), T0)
    assert outcome.flip is None
    assert outcome.check.failure_streak == 2


def test_paused_check_resumes_on_success() -> None:
    outcome = apply_ping(make_check(status="paused"), Ping.success(), T0)
    assert outcome.flip == Flip(old="paused", new="up", reason="resumed")


def test_paused_check_resumes_on_failure_as_down() -> None:
    outcome = apply_ping(make_check(status="paused"), Ping.fail(), T0)
    assert outcome.flip == Flip(old="paused", new="down", reason="fail")


def test_paused_check_ignores_start_and_log_status_wise() -> None:
    started = apply_ping(make_check(status="paused"), Ping.start(), T0)
    assert started.check.status == "paused"
    assert started.flip is None


def test_manual_resume_ignores_every_ping_while_paused() -> None:
    # Given a paused check that only a person may resume
    check = make_check(status="paused", manual_resume=True)
    for ping in (Ping.success(), Ping.fail(), Ping.start(rid="r"), Ping.log()):
        # When any ping arrives
        outcome = apply_ping(check, ping, T0)
        # Then it is recorded as ignored and the check stays paused and unchanged but for the count
        assert outcome.kind == "ign"
        assert outcome.flip is None
        assert outcome.check == make_check(status="paused", manual_resume=True, n_pings=1)


def test_post_only_check_ignores_other_methods() -> None:
    check = make_check(status="up", methods="POST", last_ping_ms=T0)
    ignored = apply_ping(check, Ping.fail(method="GET"), T0 + MINUTE)
    counted = apply_ping(check, Ping.fail(method="POST"), T0 + MINUTE)
    assert ignored.kind == "ign"
    assert ignored.check.status == "up"
    assert ignored.check.last_ping_ms == T0
    assert counted.kind == "fail"


def test_body_filter_tries_failure_then_success_then_start_keywords() -> None:
    check = make_check(
        status="up",
        filter_http_body=True,
        failure_kw="ERROR, FATAL",
        success_kw="done",
        start_kw="begin",
    )
    assert classify(check, Ping.success(body=b"all done, no ERROR")) == "fail"
    assert classify(check, Ping.success(body=b"all done")) == "success"
    assert classify(check, Ping.success(body=b"begin backup")) == "start"
    assert classify(check, Ping.success(body=b"unrelated")) == "ign"


def test_body_filter_is_case_sensitive_and_survives_invalid_utf8() -> None:
    check = make_check(status="up", filter_http_body=True, failure_kw="ERROR")
    assert classify(check, Ping.success(body=b"error")) == "ign"
    assert classify(check, Ping.success(body=b"\xff\xfeERROR\xc3")) == "fail"


def test_body_filter_without_a_match_fails_when_default_fail_is_set() -> None:
    check = make_check(
        status="up", filter_http_body=True, success_kw="ok", filter_default_fail=True
    )
    outcome = apply_ping(check, Ping.success(body=b"nothing"), T0)
    assert outcome.kind == "fail"
    assert outcome.check.status == "down"


def test_body_filter_does_not_override_an_explicit_outcome() -> None:
    check = make_check(status="up", filter_http_body=True, success_kw="ok")
    assert classify(check, Ping.fail(body=b"ok")) == "fail"
    assert classify(check, Ping.exit_code(0, body=b"nothing")) == "success"


def test_body_filter_start_keyword_opens_a_run() -> None:
    check = make_check(status="up", filter_http_body=True, start_kw="begin")
    outcome = apply_ping(check, Ping.success(body=b"begin", rid="r9"), T0)
    assert outcome.kind == "start"
    assert outcome.check.last_start_rid == "r9"


def test_keyword_list_ignores_blanks_and_spaces() -> None:
    assert keywords(" a, ,b ,") == ["a", "b"]
    assert keywords("") == []


def _listed(*pings: tuple[str, str | None, int]) -> list[PingRecord]:
    """History records, newest first, from (kind, rid, seconds after T0) given oldest first."""
    records = [
        PingRecord(n=n, at_ms=T0 + s * SECOND, kind=k, rid=r)
        for n, (k, r, s) in enumerate(pings, 1)
    ]
    return records[::-1]


def test_overlapping_runs_each_get_their_duration_from_their_own_start() -> None:
    # Given two runs that overlap: a starts, b starts, a finishes, b finishes
    listed = _listed(("start", "a", 0), ("start", "b", 10), ("success", "a", 30), ("fail", "b", 45))
    # When the listing pairs finishes with starts by rid
    durations = run_durations(listed)
    # Then each finish measures from its own start (positions are newest first)
    assert durations == {0: 35 * SECOND, 1: 30 * SECOND}


def test_a_finish_pairs_only_with_a_start_no_earlier_finish_of_its_rid_closed() -> None:
    listed = _listed(("start", None, 0), ("success", None, 5), ("success", None, 60))
    assert run_durations(listed) == {1: 5 * SECOND, 0: None}


def test_a_finish_without_rid_does_not_pair_with_a_start_that_had_one() -> None:
    listed = _listed(("start", "a", 0), ("success", None, 5), ("log", None, 6), ("ign", "a", 7))
    assert run_durations(listed) == {}


def test_a_finish_whose_start_is_not_listed_keeps_its_stored_duration() -> None:
    listed = _listed(("success", "a", 5), ("start", "b", 6))
    assert 1 not in run_durations(listed)


def test_a_run_longer_than_72_hours_is_not_measured() -> None:
    hours = 3600
    listed = _listed(("start", "a", 0), ("success", "a", 72 * hours))
    assert run_durations(listed) == {0: None}
    almost = _listed(("start", "a", 0), ("success", "a", 72 * hours - 1))
    assert run_durations(almost) == {0: (72 * hours - 1) * SECOND}
