"""The read-free plans for common pings admit exactly the checks they cannot change."""

from __future__ import annotations

from cronbeat.domain.machine import fast_path
from cronbeat.domain.model import Ping
from tests.unit.checks import T0, make_check


def test_failure_has_a_read_free_plan_only_on_a_check_already_down() -> None:
    plan = fast_path(Ping.fail())
    assert plan is not None
    assert plan.kind == "fail"
    assert plan.admits(make_check(status="down"))
    assert plan.admits(make_check(status="down", last_start_ms=T0))
    assert not plan.admits(make_check(status="down", last_start_ms=T0, last_start_rid="r1"))
    assert not plan.admits(make_check(status="up"))
    assert not plan.admits(make_check(status="paused"))


def test_failure_with_rid_needs_its_own_run_or_none_open() -> None:
    plan = fast_path(Ping.exit_code(3, rid="r1"))
    assert plan is not None
    assert plan.admits(make_check(status="down"))
    assert plan.admits(make_check(status="down", last_start_ms=T0, last_start_rid="r1"))
    assert not plan.admits(make_check(status="down", last_start_ms=T0, last_start_rid="r2"))


def test_plain_success_needs_an_up_check_and_no_run_open_with_a_rid() -> None:
    # A success without a rid ends a run started with one, but measures nothing across runs,
    # which the general path decides.
    plan = fast_path(Ping.success())
    assert plan is not None
    assert plan.kind == "success"
    assert plan.admits(make_check(status="up"))
    assert plan.admits(make_check(status="up", last_start_ms=T0))
    assert not plan.admits(make_check(status="up", last_start_ms=T0, last_start_rid="r1"))
    assert not plan.admits(make_check(status="new"))
    assert not plan.admits(make_check(status="down"))


def test_success_with_rid_needs_the_matching_open_run() -> None:
    plan = fast_path(Ping.exit_code(0, rid="r1"))
    assert plan is not None
    assert plan.admits(make_check(status="up", last_start_ms=T0, last_start_rid="r1"))
    assert not plan.admits(make_check(status="up", last_start_ms=T0, last_start_rid="r2"))
    assert not plan.admits(make_check(status="up"))


def test_method_and_body_filters_send_the_ping_down_the_general_path() -> None:
    get = fast_path(Ping.success(method="GET"))
    post = fast_path(Ping.success(method="POST"))
    assert get is not None
    assert post is not None
    assert not get.admits(make_check(status="up", methods="POST"))
    assert post.admits(make_check(status="up", methods="POST"))
    assert not get.admits(make_check(status="up", filter_http_body=True))


def test_explicit_exit_zero_is_not_subject_to_body_filters() -> None:
    plan = fast_path(Ping.exit_code(0))
    assert plan is not None
    assert plan.admits(make_check(status="up", filter_http_body=True))


def test_start_and_log_need_only_a_check_not_manually_paused() -> None:
    for ping in (Ping.start(rid="r"), Ping.log()):
        plan = fast_path(ping)
        assert plan is not None
        assert plan.admits(make_check(status="down"))
        assert plan.admits(make_check(status="paused"))
        assert not plan.admits(make_check(status="paused", manual_resume=True))
