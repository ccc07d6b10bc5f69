"""Mutes and maintenance windows: the window math on DST days, and what a muted check records."""

from __future__ import annotations

import pytest

from cronbeat.domain.machine import apply_ping, evaluate, pause
from cronbeat.domain.maintenance import (
    InvalidMaintenance,
    Window,
    encode_windows,
    in_window,
    is_muted,
    mute,
    mute_end_ms,
    next_mute_change_ms,
    unmute,
    validate_window,
    window_end_ms,
    windows,
)
from cronbeat.domain.model import Check, Flip, Ping
from tests.unit.checks import HOUR, MINUTE, SECOND, T0, at, make_check

NY = "America/New_York"


def nightly(schedule: str = "0 2 * * *", duration_s: int = 3600, tz: str = NY) -> Check:
    return make_check(tz=tz, maintenance=encode_windows([Window(schedule, duration_s)]))


# -- window math -----------------------------------------------------------------------------


def test_a_window_covers_from_its_start_up_to_but_not_including_its_end() -> None:
    # Given a nightly window from 02:00 for one hour, New York time
    check = nightly()
    # When asked around it
    # Then it covers 02:00 to 02:59:59.999 and ends at 03:00
    assert not in_window(check, at("2026-01-10 01:59:59", NY))
    assert in_window(check, at("2026-01-10 02:00", NY))
    assert in_window(check, at("2026-01-10 03:00", NY) - 1)
    assert not in_window(check, at("2026-01-10 03:00", NY))
    assert window_end_ms(check, at("2026-01-10 02:20", NY)) == at("2026-01-10 03:00", NY)
    assert window_end_ms(check, at("2026-01-10 03:00", NY)) is None


def test_a_window_at_0230_on_the_spring_forward_day_starts_at_the_end_of_the_gap() -> None:
    # Given a 30-minute window at 02:30, which does not exist on 8 March 2026 in New York
    check = nightly("30 2 * * *", 1800)
    # When asked on that day: it starts at 03:00 EDT (as Debian cron runs it) for 30 minutes
    assert not in_window(check, at("2026-03-08 01:59", NY))
    assert in_window(check, at("2026-03-08 03:10", NY))
    assert window_end_ms(check, at("2026-03-08 03:10", NY)) == at("2026-03-08 03:30", NY)
    assert not in_window(check, at("2026-03-08 03:30", NY))
    # Then the day before and after it is at 02:30 as usual
    assert in_window(check, at("2026-03-07 02:45", NY))
    assert in_window(check, at("2026-03-09 02:45", NY))
    assert not in_window(check, at("2026-03-09 03:00", NY))


def test_a_window_across_the_fall_back_hour_lasts_its_elapsed_duration() -> None:
    # Given a two-hour window from 00:30 on 1 November 2026, when 02:00 EDT becomes 01:00 EST
    check = nightly("30 0 * * *", 7200)
    start = at("2026-11-01 04:30", "UTC")  # 00:30 EDT
    # When asked in the repeated hour and at the end
    # Then it covers both 01:15s and ends after two real hours, at 01:30 EST (06:30 UTC)
    assert in_window(check, at("2026-11-01 05:15", "UTC"))  # 01:15 EDT
    assert in_window(check, at("2026-11-01 06:15", "UTC"))  # 01:15 EST
    assert window_end_ms(check, start) == start + 2 * HOUR
    assert not in_window(check, start + 2 * HOUR)


def test_a_window_in_the_repeated_hour_happens_once() -> None:
    # Given a 10-minute window at 01:30, a time that happens twice on 1 November 2026
    check = nightly("30 1 * * *", 600)
    # Then it covers the first 01:30 (EDT) and not the second (EST)
    assert in_window(check, at("2026-11-01 05:35", "UTC"))
    assert not in_window(check, at("2026-11-01 06:35", "UTC"))


def test_windows_that_touch_and_a_mute_over_a_window_make_one_stretch() -> None:
    # Given a window 02:00-03:00 and another 03:00-03:30, UTC
    two = make_check(
        maintenance=encode_windows([Window("0 2 * * *", 3600), Window("0 3 * * *", 1800)])
    )
    # Then a moment in the first ends with the second
    assert window_end_ms(two, at("2026-01-10 02:10")) == at("2026-01-10 03:30")
    # Given a mute until 02:30 before a window 02:00-03:00
    muted = mute(nightly(tz="UTC"), at("2026-01-10 01:30"), 3600)
    # Then the mute and the window are one stretch, from 01:30 to 03:00
    assert mute_end_ms(muted, at("2026-01-10 01:40")) == at("2026-01-10 03:00")
    # And a mute lasting past the window ends the stretch at its own end
    longer = mute(nightly(tz="UTC"), at("2026-01-10 02:10"), 80 * 60)
    assert mute_end_ms(longer, at("2026-01-10 02:20")) == at("2026-01-10 03:30")
    # And unmuting leaves the window in force
    assert is_muted(unmute(longer), at("2026-01-10 02:20"))
    assert not is_muted(unmute(longer), at("2026-01-10 03:10"))


def test_a_mute_ends_at_its_last_millisecond() -> None:
    check = mute(make_check(), T0, 60)
    assert is_muted(check, T0 + MINUTE - 1)
    assert not is_muted(check, T0 + MINUTE)
    assert mute_end_ms(check, T0) == T0 + MINUTE


@pytest.mark.parametrize(
    ("schedule", "duration_s", "says"),
    [
        ("61 * * * *", 600, "not a valid cron expression"),
        ("Mon..Fri 09:00", 600, "not a 5-field cron expression"),
        ("0 2 * * *", 59, "duration 59 is out of range"),
        ("0 2 * * 0", 7 * 86400 + 1, "is out of range"),
        ("*/5 * * * *", 300, "not shorter than the 5 min between starts"),
        ("0 9,10 * * *", 3600, "not shorter than the 1 h between starts"),
    ],
)
def test_a_window_that_cannot_work_is_refused_saying_why(
    schedule: str, duration_s: int, says: str
) -> None:
    with pytest.raises(InvalidMaintenance, match=says):
        validate_window(schedule, duration_s)


def test_windows_round_trip_through_the_compact_form() -> None:
    given = [Window("*/30 2-4 * * 1-5", 600), Window("0 0 1 * *", 7 * 86400)]
    encoded = encode_windows(given)
    assert encoded == "*/30 2-4 * * 1-5=600;0 0 1 * *=604800"
    assert windows(encoded) == tuple(given)
    assert windows("") == ()
    assert validate_window("0 2 * * *", 3599) == Window("0 2 * * *", 3599)


def test_a_mute_longer_than_31_days_or_shorter_than_a_second_is_refused() -> None:
    with pytest.raises(InvalidMaintenance):
        mute(make_check(), T0, 31 * 86400 + 1)
    with pytest.raises(InvalidMaintenance):
        mute(make_check(), T0, 0)


# -- what a muted check records and owes ------------------------------------------------------

DOWN_AT = T0 + HOUR + 10 * MINUTE
"""When `make_check`'s hourly check with 10 minutes of grace, last pinged at T0, goes down."""


def muted_up_check(until_ms: int) -> Check:
    return mute(make_check(status="up", last_ping_ms=T0), T0, (until_ms - T0) // SECOND)


def test_a_down_that_lasts_past_the_mute_alerts_exactly_once_when_it_ends() -> None:
    # Given a check muted until two hours after its last ping
    check = muted_up_check(T0 + 2 * HOUR)
    # When the sweep finds it down inside the mute
    down = evaluate(check, DOWN_AT)
    # Then the flip is recorded as muted, and the alert is held
    assert down.flip == Flip(old="up", new="down", reason="timeout", muted=True)
    assert down.check.alert_held
    # And a sweep later in the mute owes nothing
    inside = evaluate(down.check, T0 + 2 * HOUR - 1)
    assert (inside.flip, inside.reminder) == (None, False)
    # When the first sweep after the mute's end runs
    after = evaluate(down.check, T0 + 2 * HOUR)
    # Then it owes one alert, about the down during the mute
    assert after.reminder
    assert after.after_mute
    assert not after.check.alert_held
    assert after.check.last_alert_ms == T0 + 2 * HOUR
    # And the sweep after that owes nothing more
    again = evaluate(after.check, T0 + 2 * HOUR + MINUTE)
    assert (again.flip, again.reminder) == (None, False)


def test_a_down_that_recovers_inside_the_mute_owes_nothing() -> None:
    # Given a check that went down while muted
    down = evaluate(muted_up_check(T0 + 2 * HOUR), DOWN_AT)
    # When a success arrives inside the mute
    back = apply_ping(down.check, Ping.success(), DOWN_AT + 30 * MINUTE)
    # Then the recovery is recorded as muted too
    assert back.flip == Flip(old="down", new="up", reason="recovered", muted=True)
    assert not back.check.alert_held
    # And after the mute nothing is owed
    after = evaluate(back.check, T0 + 2 * HOUR)
    assert after.status == "up"
    assert (after.flip, after.reminder) == (None, False)


def test_a_recovery_after_the_mute_of_a_down_never_told_tells_no_one() -> None:
    # Given a check that went down while muted, the mute over but not yet swept
    down = evaluate(muted_up_check(T0 + 2 * HOUR), DOWN_AT)
    # When a success arrives after the mute's end
    back = apply_ping(down.check, Ping.success(), T0 + 2 * HOUR + SECOND)
    # Then its recovery is muted: nobody heard of the down
    assert back.flip is not None
    assert back.flip.muted
    assert next_mute_change_ms(back.check, T0 + 2 * HOUR + SECOND) is None


def test_a_failure_ping_inside_a_maintenance_window_flips_muted() -> None:
    # Given an up check with a maintenance window 02:00-03:00 UTC
    check = make_check(
        status="up", last_ping_ms=at("2026-01-10 01:00"), maintenance="0 2 * * *=3600"
    )
    # When it fails at 02:15, and again outside the window after a recovery
    down = apply_ping(check, Ping.fail(), at("2026-01-10 02:15"))
    up = apply_ping(down.check, Ping.success(), at("2026-01-10 02:20"))
    later = apply_ping(up.check, Ping.fail(), at("2026-01-10 03:15"))
    # Then only the flip inside the window is muted
    assert down.flip is not None
    assert down.flip.muted
    assert down.check.alert_held
    assert later.flip == Flip(old="up", new="down", reason="fail")
    assert not later.check.alert_held


def test_a_check_down_before_the_mute_keeps_its_reminders_for_after_it() -> None:
    # Given a check down and alerted at DOWN_AT, re-alerting hourly, then muted for 3 hours
    down = evaluate(make_check(status="up", last_ping_ms=T0, realert_every_s=3600), DOWN_AT)
    assert down.flip is not None
    assert not down.flip.muted
    muted = mute(down.check, DOWN_AT + MINUTE, 3 * 3600)
    # When the sweep runs when the reminder falls due, inside the mute
    inside = evaluate(muted, DOWN_AT + HOUR)
    # Then it waits, and the moment it waits for is the mute's end
    assert not inside.reminder
    assert next_mute_change_ms(muted, DOWN_AT + HOUR) == DOWN_AT + MINUTE + 3 * HOUR
    # And after the mute the reminder is an ordinary one
    after = evaluate(muted, DOWN_AT + MINUTE + 3 * HOUR)
    assert after.reminder
    assert not after.after_mute


def test_next_mute_change_is_the_mute_end_while_an_alert_is_held_and_now_after() -> None:
    # Given a check that went down while muted until T0 + 2 h
    down = evaluate(muted_up_check(T0 + 2 * HOUR), DOWN_AT).check
    # Then inside the mute the sweep is next owed at its end, and after it at once
    assert next_mute_change_ms(down, DOWN_AT) == T0 + 2 * HOUR
    assert next_mute_change_ms(down, T0 + 5 * HOUR) == T0 + 5 * HOUR
    # And a muted up check, or a down one that was told, owes nothing for the mute
    assert next_mute_change_ms(muted_up_check(T0 + 2 * HOUR), DOWN_AT) is None
    told = evaluate(make_check(status="up", last_ping_ms=T0), DOWN_AT).check
    assert next_mute_change_ms(mute(told, DOWN_AT, 600), DOWN_AT) is None


def test_pausing_a_down_check_while_muted_or_never_told_tells_no_one() -> None:
    # Given a check that went down while muted, and one that went down and was told
    held = evaluate(muted_up_check(T0 + 2 * HOUR), DOWN_AT).check
    told = evaluate(make_check(status="up", last_ping_ms=T0), DOWN_AT).check
    # When each is paused after the mute's end
    _, held_flip = pause(held, T0 + 3 * HOUR)
    _, told_flip = pause(told, T0 + 3 * HOUR)
    # Then only the pause of the down people heard of is alerted ("paused while down")
    assert held_flip == Flip(old="down", new="paused", reason="paused", muted=True)
    assert told_flip == Flip(old="down", new="paused", reason="paused")
