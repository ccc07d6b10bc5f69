"""Pausing and resuming by hand: each returns the check and the flip, like every transition."""

from __future__ import annotations

import pytest

from cronbeat.domain.machine import down_since, pause, resume
from cronbeat.domain.model import Flip
from tests.unit.checks import HOUR, T0, make_check


@pytest.mark.parametrize("status", ["new", "up", "down"])
def test_pausing_drops_the_open_run_and_flips_to_paused(status: str) -> None:
    # Given a check in any status but paused, with a run open
    check = make_check(status=status, last_start_ms=T0 - HOUR, last_start_rid="run-1")
    # When it is paused
    paused, flip = pause(check, T0)
    # Then it is paused since now, its run is gone, and the flip says so
    assert flip == Flip(old=status, new="paused", reason="paused")
    assert (paused.status, paused.status_since_ms) == ("paused", T0)
    assert (paused.last_start_ms, paused.last_start_rid) == (None, None)
    assert paused.last_ping_ms == check.last_ping_ms


def test_pausing_a_paused_check_changes_nothing() -> None:
    # Given a paused check
    check = make_check(status="paused", status_since_ms=T0 - HOUR)
    # When it is paused again, Then it is unchanged and nothing flips
    assert pause(check, T0) == (check, None)


def test_resuming_starts_the_check_afresh_as_new() -> None:
    # Given a paused check with a failure streak and an alert history
    check = make_check(status="paused", failure_streak=3, success_streak=0, last_alert_ms=T0 - HOUR)
    # When it is resumed
    resumed, flip = resume(check, T0)
    # Then it waits for its next ping, as new, with nothing carried over
    assert flip == Flip(old="paused", new="new", reason="resumed")
    assert (resumed.status, resumed.status_since_ms, resumed.last_ping_ms) == ("new", T0, None)
    assert (resumed.failure_streak, resumed.success_streak, resumed.last_alert_ms) == (0, 0, None)


@pytest.mark.parametrize("status", ["new", "up", "down"])
def test_resuming_a_check_that_is_not_paused_changes_nothing(status: str) -> None:
    # Given a check that is not paused
    check = make_check(status=status)
    # When it is resumed, Then it is unchanged and nothing flips
    assert resume(check, T0) == (check, None)


def test_down_since_is_the_current_down_time_or_the_one_a_recovery_ended() -> None:
    # Given a check down since T0, and one that recovered from a down time begun at T0
    down = make_check(status="down", status_since_ms=T0)
    up = make_check(status="up", status_since_ms=T0 + HOUR)
    recovery = Flip(old="down", new="up", reason="recovered")
    # When the rule is asked, Then a down check (flip or reminder) counts from its own status,
    # a recovery from the status it left, and anything else has no down time
    assert down_since(down, Flip(old="up", new="down", reason="timeout"), T0 - HOUR) == T0
    assert down_since(down, None, None) == T0
    assert down_since(up, recovery, T0) == T0
    assert down_since(up, Flip(old="new", new="up", reason="first_ping"), T0) is None
