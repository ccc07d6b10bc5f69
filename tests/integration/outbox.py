"""Builders for the scanner, notifier and stream tests: checks in the table, events, contexts."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from cronbeat.domain.model import Check
from cronbeat.local.dynamodb_json import dump_item
from cronbeat.store.checks import check_item
from cronbeat.store.codec import Item, from_item, revision, to_item
from cronbeat.store.events import FLIP_PREFIX
from cronbeat.store.history import ping_item
from tests.conftest import Aws

# `moto_server_aws` applies it to every race test; the ping tests still import it from here.

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def at(text: str) -> int:
    """Epoch ms of a UTC wall-clock time such as "2026-03-02 12:00"."""
    return int(datetime.fromisoformat(f"{text}+00:00").timestamp() * 1000)


@dataclass
class FakeContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "cronbeat-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cronbeat-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def scheduled_event(at_ms: int) -> dict[str, Any]:
    """The sample EventBridge scheduled event, fired at `at_ms`."""
    event = load_event("scheduled.json")
    assert at_ms % SECOND == 0, "scheduled events carry whole seconds"
    event["time"] = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def simple_check(**changes: Any) -> Check:
    """An up check (timeout 1 h, grace 10 min) with a fresh id and the given fields changed."""
    base = Check(
        id=str(uuid.uuid4()),
        name="nightly backup",
        tags="prod db",
        timeout_s=3600,
        grace_s=600,
        status="up",
        status_since_ms=at("2026-03-01 00:00"),
        n_pings=7,
        desc="dumps the main database",
    )
    return replace(base, **changes)


def put_check(aws: Aws, check: Check, rev: int = 3, *, legacy: bool = False) -> Check:
    """Store `check` as the store writes it; `legacy` leaves out what the store derives (an item
    written before `alert_at` existed)."""
    item = to_item(check, rev=rev) if legacy else check_item(check, rev=rev)
    aws.dynamodb.put_item(TableName=aws.checks_table, Item=item)
    return check


def stored(aws: Aws, check_id: str) -> tuple[Check, int, Item]:
    item = aws.dynamodb.get_item(
        TableName=aws.checks_table, Key={"id": {"S": check_id}}, ConsistentRead=True
    )["Item"]
    return from_item(item), revision(item), item


def outbox(aws: Aws, check_id: str | None = None) -> list[Item]:
    """Flip and reminder items, of one check or of all, oldest first per check."""
    if check_id is not None:
        reply = aws.dynamodb.query(
            TableName=aws.events_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :flips)",
            ExpressionAttributeValues={":pk": {"S": check_id}, ":flips": {"S": FLIP_PREFIX}},
            ConsistentRead=True,
        )
        items: list[Item] = reply["Items"]
        return items
    found: list[Item] = []
    request: dict[str, Any] = {"TableName": aws.events_table, "ConsistentRead": True}
    while True:
        page = aws.dynamodb.scan(**request)
        found += [i for i in page["Items"] if i["type"]["S"] in ("flip", "reminder")]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON documents printed one per line (Powertools logs and EMF blobs)."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def emf_values(lines: list[dict[str, Any]], metric: str) -> list[float]:
    """Every value published for `metric` across the EMF blobs in `lines`."""
    values: list[float] = []
    for blob in lines:
        if "_aws" not in blob or metric not in blob:
            continue
        value = blob[metric]
        values += value if isinstance(value, list) else [value]
    return values


@contextmanager
def captured_logs(handler_module: ModuleType) -> Iterator[io.StringIO]:
    """What the handler's Powertools logger writes inside the block (to this buffer instead)."""
    buffer = io.StringIO()
    handler = handler_module.logger.registered_handler
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def success_ping_item(check_id: str, at_ms: int) -> Item:
    """A bodyless success ping's history item: an insert that is not an alert."""
    return ping_item(
        check_id=check_id,
        n=1,
        at_ms=at_ms,
        kind="success",
        method="GET",
        scheme="https",
        remote_addr="192.0.2.1",
        ua="",
        body=b"",
        retention_days=30,
    )


def stream_record(item: Item, sequence_number: str, event_name: str = "INSERT") -> dict[str, Any]:
    """The DynamoDB stream record (NEW_IMAGE) Lambda hands over for an events-table write."""
    image = dump_item(item)
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1772452800,
            "Keys": {"pk": item["pk"], "sk": item["sk"]},
            "NewImage": image,
            "SequenceNumber": sequence_number,
            "SizeBytes": len(json.dumps(image)),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": (
            "arn:aws:dynamodb:us-east-1:123456789012:table/cronbeat-events/stream/"
            "2026-03-01T00:00:00.000"
        ),
    }


@dataclass
class DeliveryQueueDriver:
    """Lambda's SQS event source for the deliverer, driven by the test one message at a time.

    `work()` hands every visible message to the deliverer and deletes those it did not report
    failed, as Lambda does. A retried message stays hidden for the backoff the handler set; the
    test sees that wait in `visibility` and can end it at once with `retry_now()`, so a whole
    retry schedule runs without sleeping through it.
    """

    aws: Aws
    visibility: list[int] = field(default_factory=list)
    """Every visibility timeout the handler set (the backoff of each retry), in order."""
    replies: list[dict[str, Any]] = field(default_factory=list)
    _hidden: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from cronbeat import runtime

        runtime.sqs().meta.events.register(
            "before-parameter-build.sqs.ChangeMessageVisibility", self._seen
        )

    def _seen(self, params: dict[str, Any], **_: Any) -> None:
        self.visibility.append(int(params["VisibilityTimeout"]))

    def work(self, *, limit: int = 100) -> int:
        """Deliver every message visible now; how many the deliverer was handed."""
        from cronbeat.handlers import deliverer
        from cronbeat.local.workers import lambda_record

        url = self.aws.deliveries_queue_url
        arn = self.aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        for handed in range(limit):
            messages = self.aws.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return handed
            [message] = messages
            reply = deliverer.handler({"Records": [lambda_record(message, arn)]}, FakeContext())
            self.replies.append(reply)
            if reply["batchItemFailures"]:
                self._hidden.append(message["ReceiptHandle"])
            else:
                self.aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError(f"the queue still had messages after {limit}")

    def retry_now(self) -> None:
        """End the backoff of every message the deliverer asked to retry."""
        for handle in self._hidden:
            self.aws.sqs.change_message_visibility(
                QueueUrl=self.aws.deliveries_queue_url, ReceiptHandle=handle, VisibilityTimeout=0
            )
        self._hidden.clear()

    def dead_letters(self) -> list[dict[str, Any]]:
        """The bodies on the dead-letter queue (up to 10), left in place."""
        messages = self.aws.sqs.receive_message(
            QueueUrl=self.aws.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]
