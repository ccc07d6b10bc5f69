"""Due times: simple periods, and cron in IANA zones across DST, as Debian cron runs them."""

from __future__ import annotations

import pytest

from cronbeat.domain.errors import InvalidSchedule, InvalidTimezone
from cronbeat.domain.machine import evaluate
from cronbeat.domain.schedule import (
    due_ms,
    next_fire_ms,
    schedule_kind,
    validate_schedule,
    zone,
)
from tests.unit.checks import HOUR, MINUTE, T0, at, make_check


def test_simple_check_is_due_one_timeout_after_its_last_ping() -> None:
    # Given a check expected every hour with 10 minutes of grace
    check = make_check(status="up", timeout_s=3600, grace_s=600, last_ping_ms=T0)
    # When it last pinged at T0
    # Then it is due an hour later and goes down ten minutes after that
    assert due_ms(check, T0) == T0 + HOUR
    assert evaluate(check, T0).down_at_ms == T0 + HOUR + 10 * MINUTE


def test_cron_check_is_due_at_the_next_fire_in_its_own_zone() -> None:
    # Given a nightly 02:00 job in Riga
    last = at("2026-01-14 02:00:40", "Europe/Riga")
    check = make_check(
        status="up",
        kind="cron",
        schedule="0 2 * * *",
        tz="Europe/Riga",
        grace_s=600,
        last_ping_ms=last,
    )
    # When it last pinged at 02:00:40 local on 14 January
    # Then the next fire is 02:00 local the next day, and down comes after the grace
    assert due_ms(check, last) == at("2026-01-15 02:00", "Europe/Riga")
    assert evaluate(check, last).down_at_ms == at("2026-01-15 02:10", "Europe/Riga")


def test_a_ping_exactly_on_a_fire_time_waits_for_the_following_fire() -> None:
    # Given an every-15-minutes schedule, when the ping lands exactly on a fire time
    fire = at("2026-05-01 10:15")
    # Then the next expected ping is the following fire, strictly later
    assert next_fire_ms("*/15 * * * *", "UTC", fire) == at("2026-05-01 10:30")


@pytest.mark.parametrize(
    ("tz", "expression", "last", "expected_utc"),
    [
        # Riga springs forward 2026-03-29 03:00 → 04:00: 03:30 does not exist, cron runs at 04:00.
        ("Europe/Riga", "30 3 * * *", "2026-03-28 12:00", "2026-03-29 01:00"),
        # Riga falls back 2026-10-25 04:00 → 03:00: 03:30 happens twice, cron runs once (the first).
        ("Europe/Riga", "30 3 * * *", "2026-10-24 12:00", "2026-10-25 00:30"),
        # New York springs forward 2026-03-08 02:00 → 03:00: 02:30 runs at 03:00 EDT.
        ("America/New_York", "30 2 * * *", "2026-03-07 12:00", "2026-03-08 07:00"),
        # New York falls back 2026-11-01 02:00 → 01:00: 01:30 runs once, at 01:30 EDT.
        ("America/New_York", "30 1 * * *", "2026-10-31 12:00", "2026-11-01 05:30"),
    ],
)
def test_cron_on_dst_change_days_fires_once_as_debian_cron_does(
    tz: str, expression: str, last: str, expected_utc: str
) -> None:
    # Given a daily job whose local time is skipped or repeated on a DST change day
    # When the next fire is computed from the day before
    fire = next_fire_ms(expression, tz, at(last, tz))
    # Then it is the single Debian-cron run time
    assert fire == at(expected_utc)


def test_repeated_hour_job_does_not_run_twice_on_fall_back_day() -> None:
    # Given a 01:30 job in New York that ran at the first 01:30 on fall-back day
    first = at("2026-11-01 05:30")
    # When the next fire is computed
    # Then it is 01:30 EST the next day, not the repeated 01:30 an hour later
    assert next_fire_ms("30 1 * * *", "America/New_York", first) == at("2026-11-02 06:30")


def test_hourly_job_fires_every_real_hour_through_fall_back() -> None:
    # Given an hourly job in Riga (hour field is a wildcard, so no Debian fix-up applies)
    # When it fired at 03:00 EEST on fall-back day
    first = at("2026-10-25 00:00")
    # Then the next fire is one real hour later, 03:00 EET
    assert next_fire_ms("0 * * * *", "Europe/Riga", first) == first + HOUR


@pytest.mark.parametrize(
    ("expression", "last", "expected"),
    [
        ("0 9 L * *", "2026-02-01 00:00", "2026-02-28 09:00"),  # last day of month
        ("0 9 * * 5#2", "2026-05-01 00:00", "2026-05-08 09:00"),  # second Friday
        ("0 9 * * 5L", "2026-05-01 00:00", "2026-05-29 09:00"),  # last Friday
        ("0 9 LW * *", "2026-05-01 00:00", "2026-05-29 09:00"),  # last weekday of May 2026
    ],
)
def test_l_w_and_hash_expressions(expression: str, last: str, expected: str) -> None:
    # Given an expression using L, W or #, when computing the next fire
    # Then it lands on the day the expression names
    assert next_fire_ms(expression, "UTC", at(last)) == at(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 2 * *", "expected 5 fields, got 4"),
        ("0 0 0 2 * *", "expected 5 fields, got 6"),
        ("61 * * * *", "is not a valid cron expression"),
        ("0 0 30 2 *", "is not a valid cron expression"),
        ("* * * * fri#6", "is not a valid cron expression"),
        ("0 9 15W * *", "is not a valid cron expression"),
    ],
)
def test_invalid_expressions_raise_an_actionable_error(expression: str, message: str) -> None:
    # Given a malformed expression, when validating it
    with pytest.raises(InvalidSchedule, match=message) as raised:
        validate_schedule(expression)
    # Then the message quotes the expression so a user can find it
    assert repr(expression) in str(raised.value)


def test_valid_expression_is_returned_unchanged() -> None:
    assert validate_schedule("*/5 * * * 1-5") == "*/5 * * * 1-5"


def test_unknown_time_zone_raises_an_actionable_error() -> None:
    # Given a zone name that is not in the IANA database
    # When it is looked up, Then the error names it
    with pytest.raises(InvalidTimezone, match="'Mars/Olympus' is not a valid IANA time zone"):
        zone("Mars/Olympus")


def test_cron_check_with_a_bad_time_zone_cannot_be_evaluated() -> None:
    check = make_check(kind="cron", schedule="0 2 * * *", tz="Europe/Atlantis")
    with pytest.raises(InvalidTimezone):
        due_ms(check, T0)


def test_expression_that_never_fires_again_is_reported() -> None:
    # Given a leap-day schedule, valid in general
    # When the next fire is asked for after the last leap day the calendar can represent
    # Then the error says it does not fire again
    with pytest.raises(InvalidSchedule, match="does not fire again"):
        next_fire_ms("0 0 29 2 *", "UTC", at("9997-03-01 00:00"))


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("0 2 * * *", "cron"),
        (" 0 2 * * * ", "cron"),
        ("12:34", "oncalendar"),
        ("Mon..Fri 09:00", "oncalendar"),
        ("0 2 * *", "oncalendar"),
        ("0 2 * * *\n0 3 * * *", "oncalendar"),
    ],
)
def test_one_line_of_five_fields_is_cron_and_anything_else_oncalendar(
    expression: str, kind: str
) -> None:
    # Given a schedule, When its kind is told, Then it follows Healthchecks.io's rule
    assert schedule_kind(expression) == kind


def test_oncalendar_check_is_due_at_the_next_weekday_fire_in_its_zone() -> None:
    # Given a weekday 09:00 job in Riga that last pinged on a Friday morning
    last = at("2026-12-04 09:00:20", "Europe/Riga")
    check = make_check(
        status="up",
        kind="oncalendar",
        schedule="Mon..Fri 09:00",
        tz="Europe/Riga",
        last_ping_ms=last,
    )
    # When its next run is due, Then it is Monday 09:00 in Riga, not Saturday
    assert due_ms(check, last) == at("2026-12-07 09:00", "Europe/Riga")


def test_oncalendar_seconds_are_kept() -> None:
    # Given an OnCalendar schedule firing every 15 seconds
    # When the next fire after 12:00:01 is asked for, Then it is 12:00:15
    assert next_fire_ms("*-*-* *:*:00/15", "UTC", at("2026-12-05 12:00:01")) == at(
        "2026-12-05 12:00:15"
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("Mon..Fry 09:00", "is not a valid OnCalendar expression"),
        ("25:00", "is not a valid OnCalendar expression"),
        ("2000-02-30", "is not a valid OnCalendar expression"),
    ],
)
def test_invalid_oncalendar_expressions_are_refused(expression: str, message: str) -> None:
    # Given a malformed or never-firing OnCalendar expression, When validating it
    # Then it is refused, quoting the expression
    with pytest.raises(InvalidSchedule, match=message) as raised:
        validate_schedule(expression)
    assert repr(expression) in str(raised.value)
