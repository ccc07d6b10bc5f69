"""The delivery queue (SQS): one message per (alert, target), retried through its visibility."""

from __future__ import annotations

from typing import Any

SQS_BATCH = 10
"""SendMessageBatch takes at most 10 entries."""
MAX_VISIBILITY_S = 43_200
"""SQS refuses a visibility timeout beyond 12 hours."""


class DeliveryQueue:
    """Enqueue deliveries, postpone one for a retry, and hand one that gave up to the DLQ."""

    def __init__(self, sqs: Any, *, queue_url: str, dead_letter_url: str = "") -> None:
        self._sqs = sqs
        self._url = queue_url
        self._dead_letter_url = dead_letter_url

    def send(self, bodies: list[str]) -> list[int]:
        """Enqueue every body; the indexes of those SQS did not take (an empty list on success)."""
        failed: list[int] = []
        for start in range(0, len(bodies), SQS_BATCH):
            entries = [
                {"Id": str(index), "MessageBody": body}
                for index, body in enumerate(bodies[start : start + SQS_BATCH], start)
            ]
            try:
                reply = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            except Exception:  # the whole call failed: every entry of it is to be retried
                failed.extend(int(entry["Id"]) for entry in entries)
                continue
            failed.extend(int(entry["Id"]) for entry in reply.get("Failed", []))
        return failed

    def retry_later(self, receipt_handle: str, delay_s: float) -> None:
        """Keep the received message hidden for `delay_s`: that is when it is tried again."""
        self._sqs.change_message_visibility(
            QueueUrl=self._url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(round(delay_s), MAX_VISIBILITY_S)),
        )

    def dead_letter(self, body: str, reason: str) -> None:
        """Put a delivery that gave up on the dead-letter queue, whose depth raises an alarm."""
        if not self._dead_letter_url:
            return
        self._sqs.send_message(
            QueueUrl=self._dead_letter_url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
        )
