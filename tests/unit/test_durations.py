"""Durations as people read them: two units at most, truncated, never negative."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbeat.domain.durations import format_duration_ms, format_duration_s

SECONDS_IN = {"d": 86400, "h": 3600, "min": 60, "s": 1}


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (59.9, "59 s"),
        (60, "1 min"),
        (90, "1 min 30 s"),
        (3600, "1 h"),
        (4320, "1 h 12 min"),
        (4379, "1 h 12 min"),
        (11100, "3 h 5 min"),
        (86400, "1 d"),
        (3 * 86400 + 2 * 3600 + 59 * 60, "3 d 2 h"),
        (-5, "0 s"),
    ],
)
def test_examples(seconds: float, expected: str) -> None:
    # Given a duration, When formatted, Then it reads as expected
    assert format_duration_s(seconds) == expected


def test_runs_read_in_ms_under_a_second_then_tenths_under_a_minute() -> None:
    # Given runs from sub-second to hours, When formatted from milliseconds
    # Then sub-second runs are in ms, runs under a minute in rounded tenths, longer ones in units
    assert format_duration_ms(300) == "300 ms"
    assert format_duration_ms(999) == "999 ms"
    assert format_duration_ms(2_998) == "3.0 s"
    assert format_duration_ms(12_345) == "12.3 s"
    # A run that rounds up to a minute reads as one, never as "60.0 s" or a truncated "59 s"
    assert format_duration_ms(59_960) == "1 min"
    assert format_duration_ms(4_320_000) == "1 h 12 min"


@given(st.integers(0, 10**9))
def test_the_text_never_overstates_and_loses_less_than_one_smaller_unit(seconds: int) -> None:
    # Given any whole number of seconds, When formatted
    words = format_duration_s(seconds).split()
    # Then it has one or two "<n> <unit>" parts, whose sum is at most the input
    pairs = list(zip(words[::2], words[1::2], strict=True))
    assert 1 <= len(pairs) <= 2
    shown = sum(int(n) * SECONDS_IN[unit] for n, unit in pairs)
    assert shown <= seconds
    # And what is cut off is less than the largest unit's next-smaller unit
    units = list(SECONDS_IN)
    largest = units.index(pairs[0][1])
    smaller = SECONDS_IN[units[min(largest + 1, len(units) - 1)]]
    assert seconds - shown < max(smaller, 1)
