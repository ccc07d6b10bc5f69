"""Settings fail loudly, with one line naming the variable, instead of falling back."""

from __future__ import annotations

import pytest

from cronbeat.settings import InvalidSettings, Settings


def test_the_environment_sets_every_number() -> None:
    # Given an environment with each number set, When read, Then each is taken as given
    settings = Settings.from_env(
        {
            "CRONBEAT_PING_BODY_LIMIT": "16",
            "CRONBEAT_PING_RETENTION_DAYS": "7",
            "CRONBEAT_FLIP_RETENTION_DAYS": "90",
            "CRONBEAT_MIN_PERIOD": "1",
            "CRONBEAT_SCAN_SEGMENTS": "3",
        }
    )
    assert (settings.ping_body_limit_bytes, settings.ping_retention_days) == (16, 7)
    assert (settings.flip_retention_days, settings.min_period_s, settings.scan_segments) == (
        90,
        1,
        3,
    )


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("CRONBEAT_PING_BODY_LIMIT", "10k", "CRONBEAT_PING_BODY_LIMIT='10k' is not a whole number"),
        ("CRONBEAT_PING_BODY_LIMIT", "-5", "CRONBEAT_PING_BODY_LIMIT='-5' is below 0"),
        ("CRONBEAT_SCAN_SEGMENTS", "0", "CRONBEAT_SCAN_SEGMENTS='0' is below 1"),
        (
            "CRONBEAT_PING_RETENTION_DAYS",
            "",
            "CRONBEAT_PING_RETENTION_DAYS='' is not a whole number",
        ),
        ("CRONBEAT_MIN_PERIOD", "0", "CRONBEAT_MIN_PERIOD='0' is below 1"),
    ],
)
def test_a_bad_number_is_refused_with_one_line_naming_it(name: str, raw: str, says: str) -> None:
    # Given an environment with one bad number, When read, Then it fails with that one line
    with pytest.raises(InvalidSettings) as refused:
        Settings.from_env({name: raw})
    assert str(refused.value) == says


def test_the_sweep_settings_are_read_and_default_to_one_sweep_a_minute_alone() -> None:
    # Given no sweep settings, Then one sweep a minute with no fan-out
    default = Settings.from_env({})
    assert (default.sweep_seconds, default.fan_out_checks, default.segment_function) == (60, 0, "")
    # Given the stack's sweep settings, When read, Then each is taken as given
    settings = Settings.from_env(
        {
            "CRONBEAT_SWEEP_SECONDS": "10",
            "CRONBEAT_FAN_OUT_CHECKS": "25000",
            "CRONBEAT_CHECKS_PER_SEGMENT": "5000",
            "CRONBEAT_SEGMENT_FUNCTION": "cronbeat-sweep-segment",
        }
    )
    assert (settings.sweep_seconds, settings.fan_out_checks) == (10, 25_000)
    assert (settings.checks_per_segment, settings.segment_function) == (
        5000,
        "cronbeat-sweep-segment",
    )


@pytest.mark.parametrize("raw", ["7", "0", "90", "ten"])
def test_a_sweep_period_that_does_not_divide_the_minute_is_refused(raw: str) -> None:
    # Given a sweep period outside the allowed ones, When read, Then one line names the variable
    with pytest.raises(InvalidSettings, match=r"^CRONBEAT_SWEEP_SECONDS="):
        Settings.from_env({"CRONBEAT_SWEEP_SECONDS": raw})
