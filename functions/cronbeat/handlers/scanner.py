"""EventBridge schedule → one sweep of every check at the event's time.

Per-sweep figures go to one log line; EMF metrics are published only for events (flips and their
detection lag), because every custom metric stream published in a month costs $0.30.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import runtime
from cronbeat.domain.model import SECOND_MS
from cronbeat.service.sweep import Stage, SweepWrites, sweep

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE)


def sweep_time_ms(event: dict[str, Any]) -> int:
    """The scheduled event's `time` (ISO 8601, UTC) in epoch ms: a retry sweeps the same instant."""
    raw = event.get("time")
    if not isinstance(raw, str):
        raise ValueError("scheduled event has no 'time'")
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise ValueError(f"scheduled event time {raw!r} has no time zone")
    return round(moment.timestamp() * SECOND_MS)


class SweepIncomplete(Exception):
    """Some flips or reminders could not be written: failing the invocation makes Lambda retry it
    (with the same event time, so the same decisions) and shows on the scanner's error alarm."""


def _skipped(check_id: str, stage: Stage, error: BaseException | str) -> None:
    facts = {"check_id": check_id, "stage": stage}
    if isinstance(error, BaseException):
        logger.error(f"check skipped: {stage} failed", exc_info=error, extra=facts)
    else:
        logger.error(f"check skipped: {stage} failed", extra=facts | {"error": error})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    at_ms = sweep_time_ms(event)
    stores = runtime.stores()
    writes = SweepWrites(stores.checks, stores.history)
    report = sweep(
        stores.checks.scan(due_by_ms=at_ms),
        writes,
        at_ms,
        timer=time.perf_counter,
        on_failure=_skipped,
    )
    for _ in range(report.flips):
        metrics.add_metric(name="Flips", unit=MetricUnit.Count, value=1)
    for lag_s in report.detection_lags_s:
        metrics.add_metric(name="DetectionLag", unit=MetricUnit.Seconds, value=lag_s)
    summary = {
        "sweep_at": at_ms,
        "checks_scanned": report.scanned,
        "flips_written": report.flips,
        "reminders_written": report.reminders,
        "conflicts": report.conflicts,
        "alert_at_corrected": report.corrected,
        "checks_failed": report.failed,
        "writes_failed": report.unwritten,
        "sweep_duration_ms": report.duration_ms,
    }
    logger.info("sweep finished", extra=summary)
    if report.flips:
        # Flushed only when there are events: most sweeps flip nothing and publish nothing.
        metrics.flush_metrics()
    if report.unwritten:
        raise SweepIncomplete(f"{report.unwritten} flips or reminders could not be written")
    return summary
