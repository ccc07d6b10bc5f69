"""The scanner above its fan-out size: segment workers, one sweep time, every check once."""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from cronbeat import runtime
from cronbeat.store.checks import ScannedCheck, StoredCheck
from tests.conftest import Aws
from tests.integration.outbox import (
    HOUR,
    MINUTE,
    FakeContext,
    at,
    outbox,
    put_check,
    scheduled_event,
    simple_check,
)

T = at("2026-03-02 12:00")
CHECKS = 30
PER_SEGMENT = 4
SEGMENTS = 8  # ceil(30 / 4)


@pytest.fixture
def scanner() -> ModuleType:
    from cronbeat.handlers import scanner

    return scanner


@pytest.fixture
def table(aws: Aws) -> dict[str, bool]:
    """30 checks: whether each is overdue (every third one) by id."""
    checks: dict[str, bool] = {}
    for n in range(CHECKS):
        late = n % 3 == 0
        last_ping_ms = T - (2 * HOUR if late else 5 * MINUTE)
        checks[put_check(aws, simple_check(last_ping_ms=last_ping_ms)).id] = late
    return checks


def fan_out_from(monkeypatch: pytest.MonkeyPatch, checks: int) -> None:
    monkeypatch.setenv("CRONBEAT_FAN_OUT_CHECKS", str(checks))
    monkeypatch.setenv("CRONBEAT_CHECKS_PER_SEGMENT", str(PER_SEGMENT))
    runtime.reset()


@dataclass
class Recorded:
    """What the segment workers were given, and what every scan read (segments, total, id)."""

    failing_segment: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    scanned: list[tuple[tuple[int, ...] | None, int | None, str]] = field(default_factory=list)
    due_by: list[int | None] = field(default_factory=list)
    """The `due_by_ms` of every scan: the sweep time its filter on `alert_at` used."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def record(scanner: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Wrap the in-process segment worker and the checks' scan (after the settings are set)."""
    recorded = Recorded()
    worker = scanner.segment_handler

    def recording_worker(event: dict[str, Any], context: Any) -> Any:
        with recorded.lock:
            recorded.events.append(event)
        if event["segment"] == recorded.failing_segment:
            raise RuntimeError("segment worker crashed")
        return worker(event, context)

    monkeypatch.setattr(scanner, "segment_handler", recording_worker)
    repository = runtime.stores().checks
    scan = repository.scan

    def recording_scan(
        due_by_ms: int | None = None,
        segments: Sequence[int] | None = None,
        total_segments: int | None = None,
    ) -> Iterator[ScannedCheck]:
        key = None if segments is None else tuple(segments)
        with recorded.lock:
            recorded.due_by.append(due_by_ms)
        for entry in scan(due_by_ms, segments, total_segments):
            assert isinstance(entry, StoredCheck)
            with recorded.lock:
                recorded.scanned.append((key, total_segments, entry.check.id))
            yield entry

    monkeypatch.setattr(repository, "scan", recording_scan)
    return recorded


def overdue(table: dict[str, bool]) -> list[str]:
    return sorted(check_id for check_id, late in table.items() if late)


def test_above_the_size_every_segment_sweeps_at_the_event_time_and_covers_each_check_once(
    aws: Aws, scanner: ModuleType, table: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fan-out from 10 checks, at 4 checks a segment, and a table of 30
    fan_out_from(monkeypatch, 10)
    recorded = record(scanner, monkeypatch)
    # When the scanner runs
    summary = scanner.handler(scheduled_event(T), FakeContext())
    # Then it handed 8 segments to workers, all with the event's time
    assert sorted(event["segment"] for event in recorded.events) == list(range(SEGMENTS))
    assert {event["sweep_at_ms"] for event in recorded.events} == {T}
    assert {event["total_segments"] for event in recorded.events} == {SEGMENTS}
    assert summary["segments_failed"] == 0
    assert set(recorded.due_by) == {T}  # every segment's filter is at the one sweep time
    # And each worker read only its own segment, and together they read every check the filter
    # lets through (the overdue ones) exactly once
    assert {(key, total) for key, total, _ in recorded.scanned} <= {
        ((segment,), SEGMENTS) for segment in range(SEGMENTS)
    }
    assert Counter(check_id for _, _, check_id in recorded.scanned) == Counter(overdue(table))
    # And each overdue check was flipped once, at the event's time, and nothing else
    flips = outbox(aws)
    assert sorted(flip["pk"]["S"] for flip in flips) == overdue(table)
    assert {int(flip["at"]["N"]) for flip in flips} == {T}


def test_a_failing_segment_stops_no_other_and_fails_the_invocation(
    aws: Aws, scanner: ModuleType, table: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fan-out at 4 checks a segment, and a worker that crashes on segment 3
    fan_out_from(monkeypatch, 10)
    recorded = record(scanner, monkeypatch)
    recorded.failing_segment = 3
    # When the scanner runs, then the invocation fails (the scanner's error alarm counts it)
    with pytest.raises(scanner.SweepIncomplete, match="1 segments failed"):
        scanner.handler(scheduled_event(T), FakeContext())
    # And every other segment was swept: their overdue checks are flipped
    assert sorted(event["segment"] for event in recorded.events) == list(range(SEGMENTS))
    swept = {check_id for _, _, check_id in recorded.scanned}
    assert len(swept) < CHECKS
    flipped = sorted(flip["pk"]["S"] for flip in outbox(aws))
    assert flipped == sorted(check_id for check_id in overdue(table) if check_id in swept)
    assert flipped


def test_below_the_size_the_scanner_sweeps_alone(
    aws: Aws, scanner: ModuleType, table: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fan-out only from 31 checks, and a table of 30
    fan_out_from(monkeypatch, CHECKS + 1)
    recorded = record(scanner, monkeypatch)
    # When the scanner runs
    summary = scanner.handler(scheduled_event(T), FakeContext())
    # Then no worker was started and the scanner read the table itself, filtered at the sweep time
    assert recorded.events == []
    assert {(key, total) for key, total, _ in recorded.scanned} == {(None, None)}
    assert set(recorded.due_by) == {T}
    late = len(overdue(table))
    assert (summary["checks_scanned"], summary["flips_written"]) == (late, late)


class FakeLambda:
    """Records the Invoke calls a real `lambda` client would send."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def invoke(self, **request: Any) -> dict[str, Any]:
        with self.lock:
            self.calls.append(request)
        return {"StatusCode": 202}


def test_on_lambda_each_segment_is_one_asynchronous_invocation_of_the_worker(
    aws: Aws, scanner: ModuleType, table: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the deployed settings: a worker function to invoke
    monkeypatch.setenv("CRONBEAT_SEGMENT_FUNCTION", "cronbeat-sweep-segment")
    fan_out_from(monkeypatch, 10)
    client = FakeLambda()
    # cached like the real one, so the runtime's reset after the test still finds cache_clear
    monkeypatch.setattr(runtime, "lambda_client", functools.cache(lambda: client))
    # When the scanner runs
    summary = scanner.handler(scheduled_event(T), FakeContext())
    # Then it sent one Event invocation per segment, with the event's time, and swept nothing
    assert {call["FunctionName"] for call in client.calls} == {"cronbeat-sweep-segment"}
    assert {call["InvocationType"] for call in client.calls} == {"Event"}
    payloads = [json.loads(call["Payload"]) for call in client.calls]
    assert sorted(p["segment"] for p in payloads) == list(range(SEGMENTS))
    assert all(
        p == {"sweep_at_ms": T, "segment": p["segment"], "total_segments": 8} for p in payloads
    )
    assert summary["checks_scanned"] == 0
    assert outbox(aws) == []


def test_a_segment_event_that_is_not_one_is_refused(scanner: ModuleType, aws: Aws) -> None:
    # Given the worker and events that name no segment of a sweep
    from cronbeat.handlers import sweep_segment
    from cronbeat.service.fanout import BadSegmentEvent

    for event in (
        {"sweep_at_ms": T, "segment": 8, "total_segments": 8},
        {"sweep_at_ms": T, "segment": "1", "total_segments": 8},
        {"sweep_at_ms": T, "segment": True, "total_segments": 8},
        {"segment": 0, "total_segments": 1},
    ):
        # Then it sweeps nothing
        with pytest.raises(BadSegmentEvent):
            sweep_segment.handler(event, FakeContext())
