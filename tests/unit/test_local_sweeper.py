"""Local sweeps land on whole-second boundaries, as EventBridge's scheduled events do."""

from __future__ import annotations

from cronbeat.local.sweeper import next_sweep_s, scheduled_event


def test_next_sweep_is_the_following_multiple_of_the_rate() -> None:
    # Given a 10-second rate, When asked mid-interval and exactly on a boundary
    # Then the next sweep is the following multiple, never the present instant
    assert next_sweep_s(1_000.4, 10) == 1_010
    assert next_sweep_s(1_010.0, 10) == 1_020
    assert next_sweep_s(7.9, 1) == 8


def test_a_sweep_on_a_boundary_loses_nothing_to_the_events_whole_seconds() -> None:
    # Given a sweep at a boundary, When its event is built
    event = scheduled_event(next_sweep_s(1_795_435_200.7, 1))
    # Then its time is exactly that boundary
    assert event["time"] == "2026-11-23T12:00:01Z"
    assert event["detail-type"] == "Scheduled Event"
