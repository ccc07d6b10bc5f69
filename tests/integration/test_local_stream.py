"""Local mode's events stream: which writes become records, their shape, and the retries."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from cronbeat.domain.model import Check, Flip
from cronbeat.local.console import Console
from cronbeat.local.stream import MAX_RETRIES, EventsStream, stream_record
from cronbeat.store.codec import to_item
from cronbeat.store.history import flip_item
from tests.conftest import REGION, Aws
from tests.integration.outbox import success_ping_item

AT_MS = 1_795_000_000_000
CHECK = Check(id="6f1d2c3b-0000-4000-8000-000000000001", name="backup", status="down")


class Notifier:
    """Stands in for the notifier: records batches, answers from a script of replies."""

    def __init__(self, *replies: Any) -> None:
        self.batches: list[list[str]] = []
        self._replies = list(replies)
        self._changed = threading.Condition()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._changed:
            self.batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
            self.events = [*getattr(self, "events", []), event]
            self._changed.notify_all()
        reply = self._replies.pop(0) if self._replies else {"batchItemFailures": []}
        if isinstance(reply, Exception):
            raise reply
        return reply

    def wait_for_records(self, count: int, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while sum(len(b) for b in self.batches) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"only {self.batches} delivered"
                self._changed.wait(left)


def flip(at_ms: int, rev: int = 1) -> dict[str, Any]:
    return flip_item(
        check=CHECK,
        flip=Flip(old="up", new="down", reason="timeout"),
        at_ms=at_ms,
        rev=rev,
        retention_days=400,
    )


def records(count: int) -> list[dict[str, Any]]:
    return [
        stream_record(flip(AT_MS + n), sequence=n, source_arn="arn:stream", at_s=AT_MS / 1000)
        for n in range(1, count + 1)
    ]


def test_only_successful_puts_of_flips_and_reminders_reach_the_notifier(
    moto_server_aws: Aws,
) -> None:
    # Given the stream watching a session's DynamoDB calls
    notifier = Notifier()
    stream = EventsStream(moto_server_aws.events_table, Console(io.StringIO()), notifier)
    session = boto3.session.Session(region_name=REGION)
    stream.observe(session.events)
    db = session.client("dynamodb")
    table = moto_server_aws.events_table
    stop = threading.Event()
    worker = threading.Thread(target=stream.run, args=(stop,), daemon=True)
    worker.start()

    # When a ping, a flip (PutItem), a check update with a flip (TransactWriteItems), a reminder
    # (BatchWriteItem) and a flip whose condition fails are written
    db.put_item(TableName=table, Item=success_ping_item(CHECK.id, AT_MS))
    db.put_item(TableName=table, Item=flip(AT_MS))
    db.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": moto_server_aws.checks_table, "Item": to_item(CHECK, rev=2)}},
            {"Put": {"TableName": table, "Item": flip(AT_MS + 1, rev=2)}},
        ]
    )
    reminder = flip_item(check=CHECK, flip=None, at_ms=AT_MS + 2, rev=3, retention_days=400)
    db.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": reminder}}]})
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        db.put_item(
            TableName=table, Item=flip(AT_MS), ConditionExpression="attribute_not_exists(pk)"
        )

    # Then the notifier gets exactly the three inserts, in write order, shaped as Lambda delivers
    notifier.wait_for_records(3)
    stop.set()
    worker.join(5)
    delivered = [
        record for event in notifier.events for record in DynamoDBStreamEvent(event).records
    ]
    assert [r.dynamodb.new_image["type"] for r in delivered] == ["flip", "flip", "reminder"]
    first = delivered[0]
    assert (first.event_name.name, first.event_source, first.aws_region) == (
        "INSERT",
        "aws:dynamodb",
        "us-east-1",
    )
    assert first.dynamodb.stream_view_type.name == "NEW_IMAGE"
    assert first.dynamodb.keys == {"pk": CHECK.id, "sk": flip(AT_MS)["sk"]["S"]}
    assert first.dynamodb.new_image["check"]["name"] == "backup"
    assert first.event_source_arn == stream.source_arn
    sequences = [int(r.dynamodb.sequence_number) for r in delivered]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3


def test_binary_values_arrive_base64_encoded_as_in_a_real_stream() -> None:
    item = {**flip(AT_MS), "blob": {"B": b"\x00\xff"}}
    record = stream_record(item, sequence=7, source_arn="arn:stream", at_s=1.0)
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    (parsed,) = DynamoDBStreamEvent(json.loads(json.dumps({"Records": [record]}))).records
    assert base64.b64decode(parsed.dynamodb.new_image["blob"]) == b"\x00\xff"


def test_partial_failure_redelivers_from_the_first_failed_record() -> None:
    # Given a notifier that reports the second of three records failed once
    notifier = Notifier({"batchItemFailures": [{"itemIdentifier": "2"}]})
    stream = EventsStream("events", Console(io.StringIO()), notifier, retry_delay_s=0)
    # When the batch is delivered
    stream.deliver(records(3), threading.Event())
    # Then records 2 and 3 come again, as the mapping's checkpoint does, and then it stops
    assert notifier.batches == [["1", "2", "3"], ["2", "3"]]


def test_a_crashing_batch_is_split_in_two() -> None:
    # Given a notifier that raises once
    notifier = Notifier(RuntimeError("boom"))
    stream = EventsStream(
        "events", Console(io.StringIO(), io.StringIO()), notifier, retry_delay_s=0
    )
    # When a batch of four is delivered
    stream.deliver(records(4), threading.Event())
    # Then it is retried in halves (bisect on error)
    assert notifier.batches == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"]]


def test_retries_are_bounded_and_what_is_dropped_is_said() -> None:
    # Given a notifier that never succeeds
    always = [{"batchItemFailures": [{"itemIdentifier": "1"}]}] * (MAX_RETRIES + 5)
    notifier = Notifier(*always)
    out = io.StringIO()
    stream = EventsStream("events", Console(out), notifier, retry_delay_s=0)
    # When one record is delivered
    stream.deliver(records(1), threading.Event())
    # Then it is tried once plus MAX_RETRIES times, and the console says it was dropped
    assert len(notifier.batches) == 1 + MAX_RETRIES
    assert "gave up on flip: 'backup' up → down (timeout)" in out.getvalue()
