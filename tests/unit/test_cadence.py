"""Sub-minute sweeps on a fake clock: exact moments, no drift, overruns skip, never overlap."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cronbeat.service.cadence import SWEEP_SECONDS, sweep_each_moment, sweep_moments
from tests.unit.checks import MINUTE, SECOND, T0


@dataclass
class FakeClock:
    """Wall-clock milliseconds that move only when slept on or when a sweep spends time."""

    now: int
    slept: list[float] = field(default_factory=list)

    def now_ms(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += round(seconds * 1000)


@dataclass
class Sweeps:
    """A sweep that records when it was asked to decide and when it started, and takes time."""

    clock: FakeClock
    durations_ms: list[int]
    decided_at: list[int] = field(default_factory=list)
    started_at: list[int] = field(default_factory=list)
    ended_at: list[int] = field(default_factory=list)

    def __call__(self, at_ms: int) -> int:
        self.decided_at.append(at_ms)
        self.started_at.append(self.clock.now)
        self.clock.now += self.durations_ms[len(self.decided_at) - 1]
        self.ended_at.append(self.clock.now)
        return at_ms


def run(every_s: int, durations_ms: list[int], starts_late_ms: int = 700) -> Sweeps:
    clock = FakeClock(now=T0 + starts_late_ms)
    sweeps = Sweeps(clock, durations_ms)
    results = sweep_each_moment(T0, every_s, sweeps, now_ms=clock.now_ms, sleep=clock.sleep)
    assert results == sweeps.decided_at
    return sweeps


def test_every_ten_seconds_sweeps_six_times_at_exact_moments_without_drift() -> None:
    # Given an invocation that starts 0.7 s after its event's time, and sweeps of 1.3 s each
    sweeps = run(10, [1300] * 6)
    # Then it decides at the event time and every 10 s after it, exactly, never at "now"
    assert sweeps.decided_at == [T0 + k * 10 * SECOND for k in range(6)]
    # And each later sweep starts at its moment on the wall clock: no drift across the minute
    assert sweeps.started_at[1:] == sweeps.decided_at[1:]
    # And the last one ends before the next minute's invocation starts
    assert sweeps.ended_at[-1] < T0 + MINUTE


def test_a_sweep_that_overruns_skips_the_moments_already_past() -> None:
    # Given sweeps every 10 s, of which the second takes 25 s
    sweeps = run(10, [1000, 25_000, 1000, 1000, 1000])
    # Then the moments at +20 s and +30 s are skipped, not made up in a backlog
    assert sweeps.decided_at == [T0 + s * SECOND for s in (0, 10, 40, 50)]
    # And no sweep started before the one before it had ended
    assert all(
        start >= end for start, end in zip(sweeps.started_at[1:], sweeps.ended_at, strict=False)
    )


def test_a_sweep_ending_exactly_on_the_next_moment_runs_it() -> None:
    # Given a first sweep that ends exactly at +10 s
    sweeps = run(10, [10_000 - 700, 1000, 1000, 1000, 1000, 1000])
    # Then the +10 s moment is not lost
    assert sweeps.decided_at == [T0 + k * 10 * SECOND for k in range(6)]


def test_sixty_seconds_means_one_sweep_at_the_event_time() -> None:
    # Given the default period and an invocation that starts 3 s late
    clock_sweeps = run(60, [2000], starts_late_ms=3000)
    # Then it sweeps once, at the event's time, and does not wait for anything
    assert clock_sweeps.decided_at == [T0]
    assert clock_sweeps.clock.slept == []


def test_a_retry_minutes_late_sweeps_only_the_event_time() -> None:
    # Given an invocation retried by Lambda two minutes after its event
    sweeps = run(10, [1000], starts_late_ms=2 * MINUTE)
    # Then it decides at the event's time, as the first attempt would, and skips the rest
    assert sweeps.decided_at == [T0]


def test_an_invocation_that_starts_before_its_event_time_sweeps_it_at_once() -> None:
    # Given an invocation whose clock is 1.5 s behind its event's time (or a replayed event)
    sweeps = run(10, [1000] * 6, starts_late_ms=-1500)
    # Then the first sweep decides at the event's time without waiting on the clock
    assert sweeps.started_at[0] == T0 - 1500
    assert sweeps.decided_at[0] == T0
    # And the later ones still wait for their own moments
    assert sweeps.started_at[1:] == [T0 + k * 10 * SECOND for k in range(1, 6)]


@pytest.mark.parametrize("every_s", [0, 7, 9, 25, 45, 61, 120])
def test_a_period_that_does_not_divide_the_minute_is_refused(every_s: int) -> None:
    # Given a period outside 10-60 s or not a divisor of 60
    # Then no moments are computed
    with pytest.raises(ValueError, match="does not divide the minute"):
        sweep_moments(T0, every_s)


def test_every_allowed_period_fills_the_minute_evenly() -> None:
    for every_s in SWEEP_SECONDS:
        moments = sweep_moments(T0, every_s)
        assert len(moments) * every_s == 60
        assert moments[-1] + every_s * SECOND == T0 + MINUTE
