"""Delivery queue batch → one attempt per message, with Powertools' partial batch response.

A message that is to be retried gets its visibility set to the backoff and is reported failed,
so the queue hands it over again after that wait, while the batch's other messages are deleted.
A delivery that failed for good (a 404, or still failing after the last attempt) is recorded
`failed` and put on the dead-letter queue, whose alarm tells a person; its message is deleted
here rather than left to the redrive policy, which stays as the backstop for a worker that
crashes on a message every time.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import runtime
from cronbeat.channels.delivery import attempt
from cronbeat.channels.sns import publish
from cronbeat.clock import now_ms
from cronbeat.service.notify import Deliverer, MalformedAlert, Report
from cronbeat.store.queue import DeliveryQueue

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE)


class RetryLater(Exception):
    """Raised for a message whose visibility now holds its backoff: it stays on the queue."""


def _log(report: Report) -> bool:
    """One line per message; True when a metric was added (a delivery sent or failed)."""
    facts = report.log_fields()
    if report.outcome == "sent":
        metrics.add_metric(name="AlertsSent", unit=MetricUnit.Count, value=1)
        logger.info("alert delivered", extra=facts)
        return True
    if report.outcome == "failed":
        metrics.add_metric(name="AlertsFailed", unit=MetricUnit.Count, value=1)
        logger.warning("alert not delivered", extra=facts)
        return True
    if report.outcome == "retry":
        logger.warning("alert attempt failed, retrying", extra=facts)
    else:
        logger.info("nothing to send", extra=facts)
    return False


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = runtime.settings()
    stores = runtime.stores()
    queue = DeliveryQueue(
        runtime.sqs(),
        queue_url=settings.deliveries_queue_url,
        dead_letter_url=settings.dead_letter_queue_url,
    )
    topic_arn = settings.alerts_topic_arn
    deliverer = Deliverer(
        stores.deliveries,
        stores.channels,
        publish=partial(publish, runtime.sns(), topic_arn) if topic_arn else None,
        attempt=partial(
            attempt,
            deadline_s=settings.delivery_deadline_s,
            allow_private=settings.allow_private_targets,
        ),
        now_ms=now_ms,
        base_url=settings.base_url,
    )

    counted: list[str] = []

    def one(record: SQSRecord) -> None:
        try:
            report = deliverer.handle(record.body)
        except MalformedAlert:
            # Retrying cannot fix it: kept on the dead-letter queue for a person to look at.
            logger.exception("delivery message dropped", extra={"message_id": record.message_id})
            queue.dead_letter(record.body, "malformed message")
            return
        if _log(report):
            counted.append(report.outcome)
        if report.outcome == "failed":
            # Given up or refused for good: the dead-letter queue's alarm tells a person.
            queue.dead_letter(record.body, report.error or "failed")
        if report.retry_in_s is not None:
            queue.retry_later(record.receipt_handle, report.retry_in_s)
            raise RetryLater(report.outcome)

    # One processor per invocation: its bookkeeping is per batch, and local mode runs workers
    # in threads.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=one, processor=processor, context=context
    )
    if counted:
        # Flushed only when a delivery ended: a retry or a skipped copy publishes nothing.
        metrics.flush_metrics()
    return dict(response)
