"""The events table's stream and the notifier's event source mapping, emulated in-process.

moto's DynamoDB Streams keep every record and every shard iterator for the life of the process,
so polling them would grow without bound. Instead, every successful write that the handlers make
through boto3 is observed as it completes (a botocore `after-call` hook on the default session),
and each flip or reminder it put becomes a stream record in the shape Lambda delivers:
INSERT, NEW_IMAGE, binary values in base64. The stack's filter passes only those items.

Delivery follows the event source mapping: batches of up to `BATCH_SIZE` in write order, one
batch at a time; records named in `batchItemFailures` are delivered again from the first failed
one; a batch whose invocation raises is split in two (bisect on error); after `MAX_RETRIES`
retries the records are dropped, where the stack would send them to its dead-letter queue.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from collections import deque
from typing import Any

from cronbeat.local.console import Console
from cronbeat.local.dynamodb_json import Item, dump_item
from cronbeat.local.functions import ACCOUNT_ID, NOTIFIER, REGION, Invocable
from cronbeat.store.tables import ALERTING_ITEM_TYPES

BATCH_SIZE = 10
MAX_RETRIES = 3
_FIRST_SEQUENCE = 10**20


def stream_arn(table_name: str, label: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table_name}/stream/{label}"


class EventsStream:
    """Feeds the notifier every flip and reminder written to the events table."""

    def __init__(
        self,
        events_table: str,
        console: Console,
        notifier: Invocable = NOTIFIER,
        retry_delay_s: float = 1.0,
    ) -> None:
        self._table = events_table
        self.source_arn = stream_arn(
            events_table, time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())
        )
        self._console = console
        self._notifier = notifier
        self._retry_delay_s = retry_delay_s
        self._records: queue.Queue[dict[str, Any]] = queue.Queue()
        self._sequence = _FIRST_SEQUENCE
        self._sequence_lock = threading.Lock()
        self._busy = threading.Lock()

    # Observing writes

    def observe(self, events: Any) -> None:
        """Watch every DynamoDB call made by clients created from `events`' session afterwards."""
        events.register("provide-client-params.dynamodb", self._remember_params)
        events.register("after-call.dynamodb", self._on_call_done)

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["cronbeat_params"] = params

    def _on_call_done(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        if http_response.status_code >= 300:
            return
        params = context.get("cronbeat_params") or {}
        for item in self._puts(model.name, params, parsed):
            if item.get("type", {}).get("S") in ALERTING_ITEM_TYPES:
                self.publish(item)

    def _puts(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> list[Item]:
        """Items this successful call put into the events table."""
        if operation == "PutItem" and params.get("TableName") == self._table:
            return [params["Item"]]
        if operation == "TransactWriteItems":
            return [
                action["Put"]["Item"]
                for action in params.get("TransactItems", [])
                if "Put" in action and action["Put"].get("TableName") == self._table
            ]
        if operation == "BatchWriteItem":
            unprocessed = parsed.get("UnprocessedItems", {}).get(self._table, [])
            return [
                request["PutRequest"]["Item"]
                for request in params.get("RequestItems", {}).get(self._table, [])
                if "PutRequest" in request and request not in unprocessed
            ]
        return []

    def publish(self, item: Item) -> None:
        """Append an INSERT of `item` to the stream, as DynamoDB would after the write."""
        with self._sequence_lock:
            self._sequence += 1
            sequence = self._sequence
        record = stream_record(
            item, sequence=sequence, source_arn=self.source_arn, at_s=time.time()
        )
        self._console.say(describe(record["dynamodb"]["NewImage"]))
        self._records.put(record)

    # Delivering to the notifier

    def run(self, stop: threading.Event) -> None:
        """Deliver batches until `stop` is set (the batch in hand is finished first)."""
        while not stop.is_set():
            try:
                first = self._records.get(timeout=0.2)
            except queue.Empty:
                continue
            with self._busy:
                batch = [first]
                while len(batch) < BATCH_SIZE:
                    try:
                        batch.append(self._records.get_nowait())
                    except queue.Empty:
                        break
                self.deliver(batch, stop)
        left = self._records.qsize()
        if left:
            self._console.say(f"stream: {left} record(s) not delivered, the server is stopping")

    def idle(self) -> bool:
        """Nothing queued and no batch in hand (for tests and shutdown)."""
        if self._busy.locked():
            return False
        return self._records.empty()

    def deliver(self, records: list[dict[str, Any]], stop: threading.Event) -> None:
        """One batch, with the mapping's retries: partial failures, bisect on error, a cap."""
        todo: deque[list[dict[str, Any]]] = deque([records])
        retries = 0
        while todo:
            batch = todo.popleft()
            remaining, raised = self._invoke(batch)
            if not remaining:
                continue
            if retries >= MAX_RETRIES or stop.is_set():
                for record in remaining:
                    self._console.say(
                        f"stream: gave up on {describe(record['dynamodb']['NewImage'])} "
                        f"after {retries} retries (the stack sends it to the dead-letter queue)"
                    )
                continue
            retries += 1
            stop.wait(self._retry_delay_s * 2 ** (retries - 1))
            if raised and len(remaining) > 1:
                half = len(remaining) // 2
                todo.extendleft([remaining[half:], remaining[:half]])
            else:
                todo.appendleft(remaining)

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
        """Records still to deliver after one invocation, and whether the invocation raised."""
        try:
            result = self._notifier.invoke({"Records": batch})
        except Exception:
            self._console.error(traceback.format_exc().rstrip())
            return batch, True
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return [], False
        failed = {str(f.get("itemIdentifier") or "") for f in failures}
        sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first = min((i for i, s in enumerate(sequences) if s in failed), default=0)
        # An unknown or empty identifier fails the whole batch, as Lambda treats it.
        if not failed <= set(sequences):
            first = 0
        return batch[first:], False


def stream_record(item: Item, *, sequence: int, source_arn: str, at_s: float) -> dict[str, Any]:
    """The record Lambda receives for an INSERT of `item` into a NEW_IMAGE stream."""
    image = dump_item(item)
    keys = {"pk": image["pk"], "sk": image["sk"]}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(at_s),
            "Keys": keys,
            "NewImage": image,
            "SequenceNumber": str(sequence),
            "SizeBytes": len(json.dumps(keys)) + len(json.dumps(image)),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": source_arn,
    }


def describe(image: Item) -> str:
    """One console line for a flip or reminder item."""
    check = image.get("check", {}).get("M", {})
    name = check.get("name", {}).get("S") or image["pk"]["S"]
    if image.get("type", {}).get("S") == "reminder":
        return f"reminder: {name!r} is still down"
    old, new = image.get("old", {}).get("S"), image.get("new", {}).get("S")
    reason = image.get("reason", {}).get("S", "")
    return f"flip: {name!r} {old} → {new} ({reason})"
