"""Alert texts: what each reason says, how long a recovery took, and texts that always fit."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from cronbeat.channels import discord, message, slack
from cronbeat.channels.alert import Alert
from cronbeat.domain.model import Check, Flip, FlipReason

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""

UP_TO_DOWN_TIMEOUT = Flip(old="up", new="down", reason="timeout")


def down_check(**changes: object) -> Check:
    """An hourly check (grace 10 min) that last pinged at T0 and is now down."""
    base = Check(
        id="5a1d2c3e-0000-4000-8000-000000000001",
        name="nightly-backup",
        slug="nightly-backup",
        timeout_s=3600,
        grace_s=600,
        status="down",
        last_ping_ms=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def flip_alert(check: Check, reason: FlipReason, at_ms: int, **changes: object) -> Alert:
    return Alert(check, Flip(old="up", new="down", reason=reason), at_ms, **changes)  # type: ignore[arg-type]


def test_timeout_on_a_simple_check_says_how_long_it_was_silent_and_what_was_expected() -> None:
    # Given an hourly check with 10 min grace, last pinged at T0
    alert = flip_alert(down_check(), "timeout", T0 + HOUR + 12 * MINUTE)
    # When the alert is worded
    text = message.what_happened(alert)
    # Then it says how long it has been silent and what was expected
    assert text == "no ping for 1 h 12 min, expected every 1 h, grace 10 min"


def test_timeout_on_a_cron_check_names_the_expected_local_time_and_the_expression() -> None:
    # Given a daily 02:00 cron check in Riga whose last run reported at 02:03 local on Jan 1
    check = down_check(
        kind="cron", schedule="0 2 * * *", tz="Europe/Riga", last_ping_ms=T0 + 3 * MINUTE
    )
    # When it goes down after the next run was due (Jan 2, 02:00 Riga = 00:00 UTC) plus grace
    alert = flip_alert(check, "timeout", T0 + 24 * HOUR + 12 * MINUTE)
    text = message.what_happened(alert)
    # Then the text gives the expected wall-clock time in the check's zone and the cron line
    assert text == (
        "no ping for 1 d, expected at 02:00 Europe/Riga (cron `0 2 * * *`), grace 10 min"
    )


def test_a_cron_check_with_a_broken_snapshot_still_gets_a_message() -> None:
    # Given a cron check whose stored zone is no longer valid
    check = down_check(kind="cron", schedule="0 2 * * *", tz="Mars/Olympus_Mons")
    # When it is worded
    alert = flip_alert(check, "timeout", T0 + 25 * HOUR)
    # Then the text falls back to the expression instead of raising
    assert "expected by cron `0 2 * * *`" in message.what_happened(alert)
    assert "Mars/Olympus_Mons" in message.email_text(alert)


def test_timeout_on_an_oncalendar_check_names_the_expected_time_and_the_timer_expression() -> None:
    # Given a weekday 09:00 OnCalendar check in Riga that last reported on Friday 2026-01-02
    check = down_check(
        kind="oncalendar",
        schedule="Mon..Fri 09:00",
        tz="Europe/Riga",
        last_ping_ms=T0 + 24 * HOUR + 7 * HOUR + 5 * MINUTE,
    )
    # When it goes down on Monday after 09:00 Riga (07:00 UTC) plus grace
    alert = flip_alert(check, "timeout", T0 + 4 * 24 * HOUR + 7 * HOUR + 12 * MINUTE)
    # Then the text gives Monday's 09:00 (the weekend skipped: 3 days silent, due today) and
    # names the expression
    assert message.what_happened(alert) == (
        "no ping for 3 d, expected at 09:00 Europe/Riga (OnCalendar `Mon..Fri 09:00`), grace 10 min"
    )
    # And the schedule line says it is an OnCalendar schedule
    assert message.schedule_text(check) == (
        "OnCalendar `Mon..Fri 09:00` (Europe/Riga), grace 10 min"
    )


def test_failure_with_an_exit_status_names_the_status_and_the_likely_signal() -> None:
    # Given a job that was killed (exit status 137) after a 42 s run
    check = down_check(last_exit=137, last_duration_ms=42 * SECOND)
    # When the fail flip is worded
    text = message.what_happened(flip_alert(check, "fail", T0))
    # Then the status, the signal and the run's duration are all there
    assert text == "exited with status 137 (killed by SIGKILL?) after 42.0 s"


def test_failure_without_an_exit_status_just_says_failed() -> None:
    # Given a job that reported /fail
    check = down_check(last_exit=None)
    # When worded, Then it says "failed"
    assert message.what_happened(flip_alert(check, "fail", T0)) == "failed"


def test_failure_under_a_threshold_counts_the_consecutive_failures() -> None:
    # Given a check that goes down only on the 3rd failure in a row
    check = down_check(last_exit=1, failure_threshold=3, failure_streak=3)
    # When worded, Then the count is included
    text = message.what_happened(flip_alert(check, "fail", T0))
    assert text == "exited with status 1 (3 failures in a row)"


def test_run_timeout_says_when_the_run_started_and_that_it_never_finished() -> None:
    # Given a run that started 2 h ago with a 1 h limit
    check = down_check(last_start_ms=T0, max_runtime_s=3600)
    # When worded
    text = message.what_happened(flip_alert(check, "run_timeout", T0 + 2 * HOUR))
    # Then
    assert text == "started 2 h ago and never finished (limit 1 h)"


def test_reminder_says_since_when_the_check_has_been_down() -> None:
    # Given a check down since 01:10 UTC, reminded at 04:15
    check = down_check(status_since_ms=T0 + HOUR + 10 * MINUTE)
    alert = Alert(check, None, T0 + 4 * HOUR + 15 * MINUTE)
    # When worded
    text = message.what_happened(alert)
    # Then it is a "still down" with the start and the length of the outage
    assert text == "still down since 2026-01-01 01:10 UTC (3 h 5 min)"
    assert message.sms_text(alert).startswith("DOWN nightly-backup: still down since")
    assert "Down since" in message.email_text(alert)


def test_the_alert_after_a_mute_says_when_the_check_went_down_in_its_zone() -> None:
    # Given a Riga check that went down at 01:10 UTC (03:10 there) while muted
    check = down_check(tz="Europe/Riga", status_since_ms=T0 + HOUR + 10 * MINUTE)
    # When the alert owed after the mute is worded, the same day and two days later
    alert = Alert(check, None, T0 + 4 * HOUR, after_mute=True)
    later = Alert(check, None, T0 + 48 * HOUR, after_mute=True)
    # Then it says when it went down, during maintenance, and that it still is
    assert message.what_happened(alert) == (
        "went down at 03:10 Europe/Riga during maintenance and is still down"
    )
    assert message.what_happened(later) == (
        "went down at 2026-01-01 03:10 Europe/Riga during maintenance and is still down"
    )
    assert message.sms_text(alert).startswith("DOWN nightly-backup: went down at 03:10")


def test_recovery_says_how_long_the_check_was_down() -> None:
    # Given a check that went down at T0 and came back 3 h 5 min later
    check = down_check(status="up", last_ping_ms=T0 + 3 * HOUR + 5 * MINUTE)
    alert = Alert(
        check,
        Flip(old="down", new="up", reason="recovered"),
        T0 + 3 * HOUR + 5 * MINUTE,
        previous_since_ms=T0,
    )
    # When worded
    # Then the outage's length is given, and the short texts say UP
    assert message.what_happened(alert) == "back up after being down for 3 h 5 min"
    assert message.sms_text(alert) == "UP nightly-backup: back up after being down for 3 h 5 min"
    assert message.subject(alert) == message.sms_text(alert)


def test_email_text_has_the_last_ping_time_the_link_and_the_output_tail() -> None:
    # Given a down check with some output and a dashboard link
    alert = flip_alert(
        down_check(last_exit=0, tags="prod db"),
        "timeout",
        T0 + HOUR + 12 * MINUTE,
        last_output=b"copying...\n\x1b[31merror: disk full\x1b[0m\n",
        dashboard_url="https://cronbeat.example/checks/5a1d",
    )
    # When the full text is made
    text = message.email_text(alert)
    # Then it leads with the name and what happened, and carries the facts and the tail
    assert text.startswith("nightly-backup is DOWN: no ping for 1 h 12 min")
    lines = text.splitlines()
    assert "Last ping    2026-01-01 00:00:00 UTC, 1 h 12 min before this alert" in lines
    assert "Exit status  0" in lines
    assert "Tags         prod db" in lines
    assert "https://cronbeat.example/checks/5a1d" in text
    assert "    error: disk full\n" in text
    assert "\x1b" not in text


def test_output_tail_keeps_the_last_1000_bytes_and_replaces_invalid_utf8() -> None:
    # Given 3,001 bytes of output ending in an invalid byte, with a 2-byte character at the cut
    output = b"a" * 2000 + "é".encode() + b"b" * 998 + b"\xff"
    alert = flip_alert(down_check(), "timeout", T0 + 2 * HOUR, last_output=output)
    # When the tail is taken
    tail = message.output_tail(alert)
    # Then it is the end of the output, the half character is dropped, the bad byte replaced,
    # and one more "b" is dropped so the 3-byte replacement character keeps it within 1,000 bytes
    assert tail == "b" * 997 + "\ufffd"
    assert len(tail.encode()) == 1000


def test_output_tail_of_binary_output_stays_within_1000_bytes_as_utf8() -> None:
    # Given 1,500 bytes of output that are not UTF-8 at all
    alert = flip_alert(down_check(), "timeout", T0 + 2 * HOUR, last_output=b"\xff" * 1500)
    # When the tail is taken
    tail = message.output_tail(alert)
    # Then the replacement characters fill at most 1,000 bytes, and no character is cut
    assert tail == "\ufffd" * 333
    assert len(tail.encode()) <= message.OUTPUT_TAIL_BYTES


def test_slack_and_discord_colour_each_alert_by_its_status() -> None:
    # Given a down flip, a recovery, a pause while down, and a reminder
    check = down_check()
    alerts = {
        "down": flip_alert(check, "timeout", T0 + 2 * HOUR),
        "up": Alert(replace(check, status="up"), Flip("down", "up", "recovered"), T0 + 3 * HOUR),
        "paused": Alert(
            replace(check, status="paused"), Flip("down", "paused", "paused"), T0 + 3 * HOUR
        ),
        "reminder": Alert(check, None, T0 + 3 * HOUR),
    }
    # When their Slack and Discord payloads are made
    slack_colours = {
        name: slack.payload(a)["attachments"][0]["color"] for name, a in alerts.items()
    }
    discord_colours = {name: discord.payload(a)["embeds"][0]["color"] for name, a in alerts.items()}
    # Then down is red, up green, paused grey and a reminder amber, the same on both
    assert slack_colours == {
        "down": "#e01e5a",
        "up": "#2eb67d",
        "paused": "#8d8d8d",
        "reminder": "#ecb22e",
    }
    assert {name: f"#{value:06x}" for name, value in discord_colours.items()} == slack_colours


def test_a_name_with_newlines_stays_on_one_line_in_the_subject() -> None:
    # Given a check named across two lines
    alert = flip_alert(down_check(name="backup\nof the\tdatabase"), "timeout", T0 + 2 * HOUR)
    # When the subject is made, Then it is one line
    assert message.subject(alert).startswith("DOWN backup of the database: no ping for 2 h")


def test_a_check_without_a_name_is_called_by_its_slug_then_its_id() -> None:
    # Given checks without a name
    by_slug = down_check(name="")
    by_id = down_check(name="", slug="")
    # When named, Then the slug, then the id, stands in
    assert message.display_name(by_slug) == "nightly-backup"
    assert message.display_name(by_id) == by_id.id


def test_a_long_name_is_cut_so_the_sms_keeps_what_happened() -> None:
    # Given a check with a 300-character name
    alert = flip_alert(down_check(name="x" * 300), "timeout", T0 + HOUR + 12 * MINUTE)
    # When the SMS is made
    sms = message.sms_text(alert)
    # Then it fits, and what happened survives the cut
    assert len(sms) <= message.SMS_LIMIT
    assert sms.endswith("no ping for 1 h 12 min, expected every 1 h, grace 10 min")
    assert "x" * 30 + "..." in sms


REASONS: list[tuple[str, str, FlipReason]] = [
    ("up", "down", "timeout"),
    ("up", "down", "fail"),
    ("up", "down", "run_timeout"),
    ("down", "up", "recovered"),
    ("down", "paused", "paused"),
]


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    """Any alert a notifier can meet: long and odd names, tags, exit codes, schedules, reminders."""
    name = draw(st.text(max_size=400))
    kind = draw(st.sampled_from(["simple", "cron"]))
    check = down_check(
        name=name,
        slug=draw(st.text(alphabet="abcdefghij-", max_size=80)),
        tags=" ".join(draw(st.lists(st.text(alphabet="abcxyz", min_size=1), max_size=5))),
        kind=kind,
        schedule=draw(st.sampled_from(["0 2 * * *", "*/5 * * * *", "not a cron"])),
        tz=draw(st.sampled_from(["UTC", "Europe/Riga", "America/St_Johns", "Bad/Zone"])),
        timeout_s=draw(st.integers(1, 365 * 86400)),
        grace_s=draw(st.integers(1, 365 * 86400)),
        last_ping_ms=draw(st.none() | st.integers(0, T0)),
        last_start_ms=draw(st.none() | st.integers(0, T0)),
        last_exit=draw(st.none() | st.integers(0, 255)),
        last_duration_ms=draw(st.none() | st.integers(0, 10**10)),
        failure_threshold=draw(st.integers(1, 1000)),
        failure_streak=draw(st.integers(0, 10**6)),
        status_since_ms=draw(st.none() | st.integers(0, T0)),
    )
    transition = draw(st.none() | st.sampled_from(REASONS))
    flip = Flip(*transition) if transition is not None else None  # type: ignore[arg-type]
    return Alert(
        check,
        flip,
        T0 + draw(st.integers(0, 10**11)),
        previous_since_ms=draw(st.none() | st.integers(0, T0)),
        last_output=draw(st.binary(max_size=3000)),
    )


@given(alerts())
def test_sms_is_never_longer_than_160_characters(alert: Alert) -> None:
    # Given any alert, When the SMS text is made
    sms = message.sms_text(alert)
    # Then it fits one SMS, on one line, and leads with the status
    assert len(sms) <= message.SMS_LIMIT
    assert "\n" not in sms
    assert sms.startswith(message.label(alert))


@given(alerts())
def test_subject_is_one_line_under_100_characters(alert: Alert) -> None:
    # Given any alert, When the subject is made
    subject = message.subject(alert)
    # Then it meets SNS's rule: under 100 characters, no line breaks or control characters
    assert 0 < len(subject) < 100
    assert subject.isprintable()
    assert subject[0].isalnum()


@given(alerts())
def test_email_text_always_renders_with_the_name_and_a_bounded_tail(alert: Alert) -> None:
    # Given any alert, When the full text is made
    text = message.email_text(alert)
    # Then it names the check, and the tail is at most 1,000 bytes of the output's end
    assert message.display_name(alert.check) in text
    tail = message.output_tail(alert)
    assert len(tail.encode()) <= message.OUTPUT_TAIL_BYTES
    assert tail in text.replace("\n    ", "\n")
