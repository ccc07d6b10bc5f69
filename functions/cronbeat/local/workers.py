"""The delivery queue's event source mapping, emulated: a small pool of workers on moto's SQS.

Each worker long-polls one message at a time and invokes the deliverer with it, shaped as Lambda
hands SQS messages over; messages the handler did not report failed are deleted, as Lambda
deletes them. A failed one stays on the queue with the visibility the handler gave it, so its
retry comes back after the backoff. Several workers mean one slow receiver holds one worker.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from cronbeat.local.console import Console
from cronbeat.local.functions import DELIVERER, REGION, Invocable

WORKERS = 8
"""Messages in flight at once: the stack's maximum concurrency of the worker, scaled down."""


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """The record Lambda's SQS event source gives the function for one received message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueueWorkers:
    """Poll the delivery queue and invoke the deliverer, `size` messages at a time."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        console: Console,
        deliverer: Invocable = DELIVERER,
        size: int = WORKERS,
    ) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._console = console
        self._deliverer = deliverer
        self.size = size
        self._arn: str = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._busy = 0
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """One worker's loop, until `stop` is set (the message in hand is finished first)."""
        while not stop.is_set():
            try:
                reply = self._sqs.receive_message(
                    QueueUrl=self._url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception as error:  # the backend is going away at shutdown
                if not stop.is_set():
                    self._console.error(f"delivery queue: {error}")
                    stop.wait(1)
                continue
            for message in reply.get("Messages", []):
                with self._lock:
                    self._busy += 1
                try:
                    self._handle(message)
                finally:
                    with self._lock:
                        self._busy -= 1

    def _handle(self, message: dict[str, Any]) -> None:
        try:
            result = self._deliverer.invoke({"Records": [lambda_record(message, self._arn)]})
        except Exception as error:  # as on Lambda: the message comes back after its visibility
            self._console.error(f"deliverer: {type(error).__name__}: {error}")
            return
        failures = result.get("batchItemFailures", []) if isinstance(result, dict) else []
        if any(f.get("itemIdentifier") == message["MessageId"] for f in failures):
            return
        self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])

    def busy(self) -> int:
        """Messages being handled right now (for tests and shutdown)."""
        with self._lock:
            return self._busy
