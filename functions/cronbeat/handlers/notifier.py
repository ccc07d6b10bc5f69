"""DynamoDB stream batch (events table) → one delivery-queue message per alert and target.

The notifier only fans out: it never sends an alert itself, so no receiver can slow it. A record
whose fan-out failed goes back in `batchItemFailures` and is handed over again; its targets'
delivery records keep a second copy of a message from sending twice.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import runtime
from cronbeat.clock import now_ms
from cronbeat.service.notify import FanOut, MalformedAlert, OutboxEntry, outbox_entry
from cronbeat.store.queue import DeliveryQueue

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = runtime.settings()
    stores = runtime.stores()
    fan_out = FanOut(
        stores.deliveries,
        stores.channels,
        DeliveryQueue(runtime.sqs(), queue_url=settings.deliveries_queue_url),
        has_topic=bool(settings.alerts_topic_arn),
        now_ms=now_ms,
    )
    failing: list[str] = []
    pending: list[tuple[str, OutboxEntry]] = []
    for record in event.get("Records", []):
        sequence_number = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
        try:
            entry = outbox_entry(record, base_url=settings.base_url)
        except MalformedAlert:
            # Retrying cannot fix the item, and a stuck record would hold up every later alert.
            logger.exception("outbox item dropped", extra={"sequence_number": sequence_number})
            continue
        if entry is not None:
            pending.append((sequence_number, entry))
    results = fan_out.fan_out([entry for _, entry in pending])
    for (sequence_number, entry), result in zip(pending, results, strict=True):
        facts = {"check_id": entry.check_id, "flip": entry.flip_sk}
        if isinstance(result, Exception):
            logger.error("alert not queued", exc_info=result, extra=facts)
            failing.append(sequence_number)
        else:
            logger.info("alert queued", extra={**facts, "targets": len(result)})
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failing]}
