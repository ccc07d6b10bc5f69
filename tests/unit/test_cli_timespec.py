"""Durations and window starts as typed on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cronbeat.cli.timespec import parse_duration_s, parse_since

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("0.5s", 0.5),
        ("250ms", 0.25),
        ("15m", 900),
        ("15min", 900),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("7d", 604800),
        ("1w", 604800),
        (" 2H ", 7200),
    ],
)
def test_durations_add_up_their_parts(text: str, seconds: float) -> None:
    # Given a duration as a person types it / When it is parsed / Then it is that many seconds
    assert parse_duration_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "h", "2x", "1h-5m", "-5s", "ten", "5s!"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    # Given text that is no duration / When it is parsed / Then the error names it
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_s(text)


def test_since_a_duration_counts_back_from_now() -> None:
    # Given "24h" / When it is a window start / Then it is a day before now
    assert parse_since("24h", NOW) == NOW - timedelta(days=1)


def test_since_a_date_with_an_offset_is_that_instant() -> None:
    # Given an ISO time with an offset / When it is a window start / Then it is that instant
    assert parse_since("2026-03-01T02:00:00+01:00", NOW) == datetime(2026, 3, 1, 1, tzinfo=UTC)


def test_since_a_bare_date_is_local_midnight() -> None:
    # Given a bare date / When it is a window start / Then it is midnight, local time, made aware
    since = parse_since("2026-03-01", NOW)
    assert since.tzinfo is not None
    assert since.astimezone().replace(tzinfo=None) == datetime(2026, 3, 1)


def test_since_rejects_what_is_neither() -> None:
    # Given nonsense / When it is a window start / Then the error says what would do
    with pytest.raises(ValueError, match="not a duration or a date"):
        parse_since("last tuesday", NOW)
