"""EventBridge schedule → a sweep of every check at the event's time, then one every
`sweep_seconds` to the end of its minute; above a size, each sweep goes to segment workers.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import clock, runtime
from cronbeat.domain.model import SECOND_MS
from cronbeat.handlers.sweep_segment import SweepIncomplete, logger, sweep_and_log
from cronbeat.handlers.sweep_segment import handler as segment_handler
from cronbeat.service.cadence import sweep_each_moment
from cronbeat.service.fanout import CallSegments, SegmentInvoker, fan_out, total_segments
from cronbeat.store.segment_workers import LambdaSegmentWorkers

__all__ = ["SweepIncomplete", "handler", "logger", "sweep_time_ms"]

SUMMED = (
    "checks_scanned",
    "flips_written",
    "reminders_written",
    "conflicts",
    "alert_at_corrected",
    "checks_failed",
    "writes_failed",
    "segments_failed",
)
"""The counts of an invocation's summary: the sums over its sweeps."""


def sweep_time_ms(event: dict[str, Any]) -> int:
    """The scheduled event's `time` (ISO 8601, UTC) in epoch ms: a retry sweeps the same instant."""
    raw = event.get("time")
    if not isinstance(raw, str):
        raise ValueError("scheduled event has no 'time'")
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise ValueError(f"scheduled event time {raw!r} has no time zone")
    return round(moment.timestamp() * SECOND_MS)


def _not_started(segment: int, error: BaseException) -> None:
    logger.error("segment not started", exc_info=error, extra={"segment": segment})


def _workers(context: LambdaContext) -> SegmentInvoker:
    function = runtime.settings().segment_function
    if function:
        return LambdaSegmentWorkers(runtime.lambda_client(), function)
    return CallSegments(lambda event: segment_handler(event, context))


def _sweep_at(at_ms: int, segments: int, context: LambdaContext) -> dict[str, int]:
    if not segments:
        return sweep_and_log(at_ms, runtime.stores().checks.scan(due_by_ms=at_ms))
    report = fan_out(at_ms, segments, _workers(context), on_failure=_not_started)
    summary = {"sweep_at": at_ms, "segments": segments, "segments_failed": len(report.failed)}
    logger.info("sweep handed to segment workers", extra=summary)
    return summary


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    start_ms = sweep_time_ms(event)
    settings = runtime.settings()
    segments = 0
    if settings.fan_out_checks:
        segments = total_segments(
            runtime.stores().checks.item_count(),
            fan_out_checks=settings.fan_out_checks,
            checks_per_segment=settings.checks_per_segment,
        )
    summaries = sweep_each_moment(
        start_ms,
        settings.sweep_seconds,
        lambda at_ms: _sweep_at(at_ms, segments, context),
        now_ms=clock.now_ms,
        sleep=time.sleep,
    )
    totals = {name: sum(s.get(name, 0) for s in summaries) for name in SUMMED}
    if totals["writes_failed"]:
        raise SweepIncomplete(f"{totals['writes_failed']} flips or reminders could not be written")
    if totals["segments_failed"]:
        raise SweepIncomplete(
            f"{totals['segments_failed']} segments failed or could not be started"
        )
    return {"sweep_at": start_ms, "sweeps": [s["sweep_at"] for s in summaries], **totals}
