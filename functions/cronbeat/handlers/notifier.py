"""DynamoDB stream batch (events table) → alerts for flips to and from `down`, and reminders.

Records still failing with a retryable error go back in `batchItemFailures`, so the stream hands
them over again; their delivery records keep channels that already have the alert from a second
copy. Permanent failures are recorded and not retried.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import runtime
from cronbeat.channels.delivery import deliver
from cronbeat.channels.sns import publish
from cronbeat.clock import now_ms
from cronbeat.service.notify import (
    DeliveryOutcome,
    MalformedOutboxItem,
    Notifier,
    OutboxEntry,
    outbox_entry,
)

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE)


def _log(outcome: DeliveryOutcome) -> bool:
    """Log one outcome; True when it was an event worth a metric (sent or failed)."""
    facts = {
        "check_id": outcome.check_id,
        "flip": outcome.flip_sk,
        "channel_id": outcome.channel_id,
        "channel_kind": outcome.channel_kind,
        "outcome": outcome.outcome,
        "attempts": outcome.attempts,
        "status_code": outcome.status_code,
        "error": outcome.error,
    }
    if outcome.outcome == "delivered":
        metrics.add_metric(name="AlertsSent", unit=MetricUnit.Count, value=1)
        logger.info("alert delivered", extra=facts)
        return True
    if outcome.outcome == "already-done":
        logger.info("alert already handled by an earlier attempt", extra=facts)
        return False
    metrics.add_metric(name="AlertsFailed", unit=MetricUnit.Count, value=1)
    logger.warning("alert not delivered", extra=facts)
    return True


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = runtime.settings()
    stores = runtime.stores()
    topic_arn = settings.alerts_topic_arn
    notifier = Notifier(
        stores.deliveries,
        stores.channels,
        publish=partial(publish, runtime.sns(), topic_arn) if topic_arn else None,
        deliver=deliver,
        now_ms=now_ms,
    )
    failing: list[str] = []
    pending: list[tuple[str, OutboxEntry]] = []
    for record in event.get("Records", []):
        sequence_number = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
        try:
            entry = outbox_entry(record, base_url=settings.base_url)
        except MalformedOutboxItem:
            # Retrying cannot fix the item, and a stuck record would hold up every later alert.
            logger.exception("outbox item dropped", extra={"sequence_number": sequence_number})
            continue
        except Exception:
            logger.exception("outbox item unread", extra={"sequence_number": sequence_number})
            failing.append(sequence_number)
            continue
        if entry is not None:
            pending.append((sequence_number, entry))
    events = 0
    results = notifier.notify_all([entry for _, entry in pending])
    for (sequence_number, entry), result in zip(pending, results, strict=True):
        if isinstance(result, Exception):
            logger.error(
                "alert failed",
                exc_info=result,
                extra={"check_id": entry.check_id, "flip": entry.flip_sk},
            )
            failing.append(sequence_number)
            continue
        events += sum(_log(outcome) for outcome in result)
        if any(outcome.retry for outcome in result):
            failing.append(sequence_number)
    if events:
        # Flushed only when something was sent or failed: a retried batch publishes nothing.
        metrics.flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failing]}
