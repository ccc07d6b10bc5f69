"""Runs rebuilt from a check's ping log, and the figures people ask of them.

A run is a finish ping (success or fail) paired with its start ping by rid; a start that nothing
finished is a run too (kind `started`), since "did it even finish?" is the first question.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

RunKind = Literal["success", "fail", "started"]
FINISH_KINDS = frozenset({"success", "fail"})


@dataclass(frozen=True)
class Run:
    kind: RunKind
    started: datetime | None
    finished: datetime | None
    exit_status: int | None = None
    duration_s: float | None = None
    finish_n: int | None = None
    has_body: bool = False
    count: int | None = None
    """What the job said it did (`count=N` on its finish ping)."""
    attempt: int | None = None
    """The attempt the run finished on, of at most `attempts` (`cronbeat run --retries-job`)."""
    attempts: int | None = None

    @property
    def healed(self) -> bool:
        """It failed at first, and a retry of the job succeeded."""
        return self.kind == "success" and (self.attempt or 1) > 1

    @property
    def at(self) -> datetime:
        """When the run is placed in time: its end, or its start while it has none."""
        instant = self.finished or self.started
        assert instant is not None
        return instant


def runs_from_pings(pings: Iterable[Mapping[str, Any]]) -> list[Run]:
    """Runs, newest first, from pings in any order (the API gives them newest first).

    A finish pairs with the open start of the same rid; without a rid, with the last start that
    had none, as Healthchecks.io pairs them. The ping's own `duration` wins over our arithmetic.
    """
    ordered = sorted(
        (p for p in pings if _date(p) is not None), key=lambda p: (_date(p), p.get("n", 0))
    )
    open_starts: dict[str | None, Mapping[str, Any]] = {}
    runs: list[Run] = []
    for ping in ordered:
        kind, rid = ping.get("type"), ping.get("rid") or None
        if kind == "start":
            superseded = open_starts.pop(rid, None) if rid is None else None
            if superseded is not None:
                runs.append(_unfinished(superseded))
            open_starts[rid] = ping
        elif kind in FINISH_KINDS:
            runs.append(_finished(ping, open_starts.pop(rid, None)))
    runs.extend(_unfinished(start) for start in open_starts.values())
    return sorted(runs, key=lambda run: run.at, reverse=True)


def _finished(ping: Mapping[str, Any], start: Mapping[str, Any] | None) -> Run:
    finished = _date(ping)
    assert finished is not None
    started = _date(start) if start is not None else None
    duration_s = as_seconds(ping.get("duration"))
    if duration_s is None and started is not None:
        duration_s = max(0.0, (finished - started).total_seconds())
    if started is None and duration_s is not None:
        started = finished - timedelta(seconds=duration_s)
    return Run(
        kind="success" if ping.get("type") == "success" else "fail",
        started=started,
        finished=finished,
        exit_status=_integer(ping.get("exit_status")),
        duration_s=duration_s,
        finish_n=_integer(ping.get("n")),
        has_body=bool(ping.get("body_url")),
        count=_integer(ping.get("count")),
        attempt=_integer(ping.get("attempt")),
        attempts=_integer(ping.get("attempts")),
    )


def _integer(value: object) -> int | None:
    """A JSON integer; None for null, booleans, and what an older server never sends."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unfinished(start: Mapping[str, Any]) -> Run:
    return Run(kind="started", started=_date(start), finished=None)


@dataclass(frozen=True)
class RunStats:
    """Figures over the finished runs in a window; `unfinished` counts starts with no finish."""

    runs: int
    successes: int
    failures: int
    unfinished: int
    retried: int
    """Finished runs that took more than one attempt."""
    healed: int
    """Of those, the ones a retry made a success: failures that never alerted."""
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    last_failure: Run | None

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.runs if self.runs else None


def summarize(runs: Sequence[Run], since: datetime) -> RunStats:
    """Stats of the runs placed at or after `since`; the last failure is sought in all of them.

    Durations count every finished run that has one, failures included: a job that fails fast
    or hangs until killed is part of how long it takes.
    """
    window = [run for run in runs if run.at >= since]
    finished = [run for run in window if run.kind != "started"]
    durations = sorted(run.duration_s for run in finished if run.duration_s is not None)
    failures = [run for run in runs if run.kind == "fail"]
    return RunStats(
        runs=len(finished),
        successes=sum(run.kind == "success" for run in finished),
        failures=sum(run.kind == "fail" for run in finished),
        unfinished=len(window) - len(finished),
        retried=sum((run.attempt or 1) > 1 for run in finished),
        healed=sum(run.healed for run in finished),
        p50_s=percentile(durations, 50),
        p95_s=percentile(durations, 95),
        max_s=durations[-1] if durations else None,
        last_failure=max(failures, key=lambda run: run.at) if failures else None,
    )


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def _date(ping: Mapping[str, Any] | None) -> datetime | None:
    try:
        return parse_time(ping.get("date") if ping is not None else None)
    except ValueError:
        return None


def parse_time(value: object) -> datetime | None:
    """An API timestamp (ISO 8601) as an aware datetime (UTC without an offset); None for null."""
    if not isinstance(value, str) or not value:
        return None
    instant = datetime.fromisoformat(value)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def as_seconds(value: object) -> float | None:
    """A JSON number of seconds; None for null, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
