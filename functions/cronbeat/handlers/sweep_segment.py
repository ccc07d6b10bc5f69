"""The scanner's segment worker: `{sweep_at_ms, segment, total_segments}` → one segment swept.

The scanner invokes one per segment when the table is above its fan-out size. Every worker of a
sweep gets the same `sweep_at_ms`, so together they decide exactly what one sweep would.
Per-sweep figures go to one log line; EMF metrics are published only for events (flips and their
detection lag), because every custom metric stream published in a month costs $0.30.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import runtime
from cronbeat.service.fanout import SegmentTask
from cronbeat.service.sweep import Stage, SweepWrites, sweep
from cronbeat.store.checks import ScannedCheck

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE)


class SweepIncomplete(Exception):
    """Flips or reminders could not be written, or segments not started: failing the invocation
    makes Lambda retry it (with the same event, so the same sweep time and decisions) and shows
    on the scanner's error alarm."""


def _skipped(check_id: str, stage: Stage, error: BaseException | str) -> None:
    facts = {"check_id": check_id, "stage": stage}
    if isinstance(error, BaseException):
        logger.error(f"check skipped: {stage} failed", exc_info=error, extra=facts)
    else:
        logger.error(f"check skipped: {stage} failed", extra=facts | {"error": error})


def sweep_and_log(at_ms: int, scanned: Iterable[ScannedCheck]) -> dict[str, int]:
    """Sweep `scanned` at `at_ms`, publish its event metrics and log its one summary line."""
    stores = runtime.stores()
    writes = SweepWrites(stores.checks, stores.history)
    report = sweep(scanned, writes, at_ms, timer=time.perf_counter, on_failure=_skipped)
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
    return summary


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = SegmentTask.from_event(event)
    scanned = runtime.stores().checks.scan(
        due_by_ms=task.sweep_at_ms, segments=[task.segment], total_segments=task.total_segments
    )
    summary: dict[str, Any] = sweep_and_log(task.sweep_at_ms, scanned)
    summary |= {"segment": task.segment, "total_segments": task.total_segments}
    if summary["writes_failed"]:
        raise SweepIncomplete(f"{summary['writes_failed']} flips or reminders could not be written")
    return summary
