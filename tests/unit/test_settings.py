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
