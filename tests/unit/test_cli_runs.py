"""Runs rebuilt from a ping log, and the stats people ask of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbeat.cli.runs import Run, RunKind, percentile, runs_from_pings, summarize

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def ping(n: int, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"n": n, "type": kind, "date": at.isoformat(), **extra}


def test_a_finish_pairs_with_the_start_of_the_same_rid() -> None:
    # Given two overlapping runs, newest first as the API lists them
    pings = [
        ping(4, "success", T0 + timedelta(seconds=30), rid="a", exit_status=0),
        ping(3, "fail", T0 + timedelta(seconds=20), rid="b", exit_status=2, body_url="u"),
        ping(2, "start", T0 + timedelta(seconds=5), rid="b"),
        ping(1, "start", T0, rid="a"),
    ]
    # When runs are rebuilt
    runs = runs_from_pings(pings)
    # Then each finish found its own start, and durations follow
    assert runs == [
        Run("success", T0, T0 + timedelta(seconds=30), 0, 30.0, finish_n=4),
        Run("fail", T0 + timedelta(seconds=5), T0 + timedelta(seconds=20), 2, 15.0, 3, True),
    ]


def test_the_servers_duration_wins_and_places_a_lone_finish() -> None:
    # Given a finish whose start is no longer in the log, but whose duration the server knows
    pings = [ping(9, "success", T0, rid="gone", duration=42.5)]
    # When runs are rebuilt / Then the run's start is worked back from its duration
    (run,) = runs_from_pings(pings)
    assert run.started == T0 - timedelta(seconds=42.5)
    assert run.duration_s == 42.5


def test_without_rids_a_finish_pairs_with_the_last_start() -> None:
    # Given a start that nothing finished, then a start and a success, none with a rid
    pings = [
        ping(3, "success", T0 + timedelta(minutes=2)),
        ping(2, "start", T0 + timedelta(minutes=1)),
        ping(1, "start", T0),
    ]
    # When runs are rebuilt
    runs = runs_from_pings(pings)
    # Then the success took one minute, and the first start is a run that never finished
    assert [(run.kind, run.duration_s) for run in runs] == [("success", 60.0), ("started", None)]
    assert runs[1].started == T0


def test_logs_and_ignored_pings_are_not_runs() -> None:
    # Given a log ping and an ignored ping
    pings = [ping(2, "log", T0), ping(1, "ign", T0)]
    # When runs are rebuilt / Then there are none
    assert runs_from_pings(pings) == []


def test_a_plain_success_has_no_start_and_no_duration() -> None:
    # Given a bare success ping
    (run,) = runs_from_pings([ping(1, "success", T0)])
    # Then the run has an end only
    assert (run.started, run.finished, run.duration_s, run.exit_status) == (None, T0, None, None)


@pytest.mark.parametrize(
    ("p", "expected"), [(0, 1.0), (50, 5.0), (90, 9.0), (95, 10.0), (100, 10.0)]
)
def test_percentiles_are_nearest_rank(p: float, expected: float) -> None:
    # Given 1..10 / When a percentile is taken / Then it is a value from the data, by rank
    assert percentile([float(n) for n in range(1, 11)], p) == expected


def test_no_durations_have_no_percentile() -> None:
    assert percentile([], 50) is None


def test_stats_count_the_window_and_find_the_last_failure_anywhere() -> None:
    # Given an old failure, then three runs in the window (one failed) and one still open
    def finished(kind: RunKind, day: int, seconds: float, status: int) -> Run:
        end = T0 + timedelta(days=day)
        return Run(kind, end - timedelta(seconds=seconds), end, status, seconds)

    old_failure = finished("fail", -30, 500, 3)
    recent_failure = finished("fail", 2, 90, 1)
    runs = [
        Run("started", T0 + timedelta(days=4), None),
        finished("success", 3, 40, 0),
        recent_failure,
        finished("success", 1, 60, 0),
        old_failure,
    ]
    # When stats are taken since T0
    stats = summarize(runs, T0)
    # Then the old run is out of the figures, and the last failure is the recent one
    assert (stats.runs, stats.successes, stats.failures, stats.unfinished) == (3, 2, 1, 1)
    assert stats.success_rate == pytest.approx(2 / 3)
    assert (stats.p50_s, stats.p95_s, stats.max_s) == (60.0, 90.0, 90.0)
    assert stats.last_failure == recent_failure
    # And an empty window has no rate, yet still knows the last failure
    empty = summarize(runs, T0 + timedelta(days=10))
    assert (empty.runs, empty.success_rate, empty.p50_s) == (0, None, None)
    assert empty.last_failure == recent_failure


def test_a_finish_carries_its_count_and_attempts_and_junk_is_ignored() -> None:
    # Given a healed finish with a count, and one from a server that sent odd values
    pings = [
        ping(4, "success", T0 + timedelta(minutes=1), count=0, attempt=2, attempts=3),
        ping(2, "fail", T0, count=True, attempt="2", attempts=None),
    ]
    # When runs are rebuilt
    newer, older = runs_from_pings(pings)
    # Then the figures are the integers sent (0 included), and nothing else is taken for one
    assert (newer.count, newer.attempt, newer.attempts, newer.healed) == (0, 2, 3, True)
    assert (older.count, older.attempt, older.attempts, older.healed) == (None, None, None, False)


def test_stats_count_retried_runs_and_the_ones_a_retry_healed() -> None:
    # Given a run healed on attempt 2, one that failed on all 3, one fine at once, one plain
    def finished(kind: RunKind, hour: int, attempt: int | None) -> Run:
        end = T0 + timedelta(hours=hour)
        return Run(kind, end, end, 0 if kind == "success" else 1, attempt=attempt, attempts=3)

    runs = [
        finished("success", 4, 2),
        finished("fail", 3, 3),
        finished("success", 2, 1),
        finished("success", 1, None),
    ]
    # When stats are taken / Then two runs took a retry, and one of them was healed by it
    stats = summarize(runs, T0)
    assert (stats.runs, stats.retried, stats.healed) == (4, 2, 1)


def test_progress_pings_inside_a_run_leave_its_pairing_alone() -> None:
    # Given a run with progress pings between its start and its finish
    pings = [
        ping(4, "success", T0 + timedelta(minutes=30), rid="r", exit_status=0),
        ping(3, "progress", T0 + timedelta(minutes=20), rid="r"),
        ping(2, "progress", T0 + timedelta(minutes=10), rid="r"),
        ping(1, "start", T0, rid="r"),
    ]
    # When runs are rebuilt / Then there is one run, from the start to the finish
    (run,) = runs_from_pings(pings)
    assert (run.kind, run.started, run.duration_s) == ("success", T0, 1800.0)
