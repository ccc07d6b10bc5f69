"""The notifier on moto: stream records of flips become SNS messages and webhook deliveries.

Webhooks go to a real HTTP server on 127.0.0.1 that answers from a script. Backoff waits are
recorded instead of slept (the handler's `deliver` gets a recording `sleep`).
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest
from moto.sns.models import sns_backends

from cronbeat import runtime
from cronbeat.api import dashboard
from cronbeat.channels.delivery import deliver
from cronbeat.channels.webhook import SIGNATURE_HEADER, signature
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import Check, Flip, Ping, Sender
from cronbeat.service.notify import outbox_entry
from cronbeat.service.ping import PingService
from cronbeat.store.channels import ChannelStore
from cronbeat.store.codec import Item
from cronbeat.store.deliveries import DeliveryStore
from cronbeat.store.history import flip_item
from tests.conftest import REGION, Aws
from tests.integration.outbox import (
    HOUR,
    MINUTE,
    FakeContext,
    at,
    captured_logs,
    emf_values,
    json_lines,
    load_event,
    scheduled_event,
    simple_check,
    stream_record,
    success_ping_item,
)

T = at("2026-03-02 12:00")
SECRET = "webhook-secret"
DOWN = Flip(old="up", new="down", reason="timeout")


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers from `script` (then 200) and keeps every body."""

    base_url: str = ""
    script: deque[int] = field(default_factory=deque)
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    gate: threading.Barrier | None = None
    """When set, each request is answered only once this many are in flight (else 503)."""

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                status = state.script.popleft() if state.script else 200
                state.received.append((self.path, dict(self.headers), body))
            if state.gate is not None:
                try:
                    state.gate.wait()
                except threading.BrokenBarrierError:
                    status = 503
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `received`."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    state.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits the notifier asked for; recorded, not slept."""
    from cronbeat.handlers import notifier

    asked: list[float] = []
    monkeypatch.setattr(notifier, "deliver", partial(deliver, sleep=asked.append))
    return asked


@pytest.fixture
def notifier(aws: Aws, waits: list[float]) -> ModuleType:
    from cronbeat.handlers import notifier

    return notifier


@pytest.fixture
def logs(notifier: ModuleType) -> Iterator[io.StringIO]:
    with captured_logs(notifier) as buffer:
        yield buffer


def webhook(aws: Aws, receiver: Receiver, channel_id: str = "hook-1") -> Channel:
    channel = Channel(
        id=channel_id,
        kind="webhook",
        name="ops hook",
        config={"url": f"{receiver.base_url}/hooks/{channel_id}", "secret": SECRET},
    )
    ChannelStore(aws.dynamodb, aws.events_table).put(channel)
    return channel


def down_check(**changes: Any) -> Check:
    """The snapshot a timeout flip carries: down since T, last pinged 72 min before."""
    check = simple_check(
        status="down", status_since_ms=T, last_alert_ms=T, last_ping_ms=T - 72 * MINUTE
    )
    return replace(check, **changes)


def outbox_item(
    aws: Aws,
    check: Check,
    flip: Flip | None = DOWN,
    *,
    at_ms: int = T,
    previous_since_ms: int | None = None,
    output: bytes = b"",
) -> Item:
    """Write a flip (or reminder) to the events table, as the scanner or a ping would."""
    item = flip_item(
        check=check,
        flip=flip,
        at_ms=at_ms,
        rev=5,
        retention_days=400,
        previous_since_ms=previous_since_ms,
        output=output,
    )
    aws.dynamodb.put_item(TableName=aws.events_table, Item=item)
    return item


def notify(notifier: ModuleType, *items: Item, first_sequence: int = 100) -> list[str]:
    """Hand the items to the notifier as one stream batch; the sequence numbers it wants again."""
    records = [stream_record(item, str(first_sequence + n)) for n, item in enumerate(items)]
    reply = notifier.handler({"Records": records}, FakeContext())
    return [failure["itemIdentifier"] for failure in reply["batchItemFailures"]]


def published(aws: Aws) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """Messages on the alerts topic: (texts by protocol, message attributes)."""
    account = aws.topic_arn.split(":")[4]
    topic = sns_backends[account][REGION].topics[aws.topic_arn]
    messages: list[tuple[dict[str, str], dict[str, Any]]] = []
    for _, message, _, attributes, _ in topic.sent_notifications:
        messages.append((json.loads(message), attributes or {}))
    return messages


def delivery(aws: Aws, item: Item, channel_id: str) -> Item | None:
    store = DeliveryStore(aws.dynamodb, events_table=aws.events_table, retention_days=400)
    return store.get(item["pk"]["S"], item["sk"]["S"], channel_id)


def test_down_flip_is_published_once_with_both_texts_and_filter_attributes(
    aws: Aws, notifier: ModuleType
) -> None:
    # Given a check that went down on a failed run, whose flip carries the run's output
    check = down_check()
    flip = outbox_item(
        aws,
        check,
        Flip("up", "down", "fail"),
        previous_since_ms=T - 5 * HOUR,
        output=b"x" * 3000 + b"\nbackup failed\n",
    )
    # When the notifier receives the flip
    failures = notify(notifier, flip)
    # Then one message is on the topic: a full email text with the output tail, a short SMS
    [(texts, attributes)] = published(aws)
    assert texts["email"].startswith("nightly backup is DOWN: failed.")
    assert "backup failed" in texts["email"]
    assert "x" * 1001 not in texts["email"]
    assert len(texts["sms"]) <= 160
    assert texts["sms"].startswith("DOWN nightly backup")
    # And subscribers can filter on the check, its status and its tags
    assert attributes["check_id"]["Value"] == check.id
    assert attributes["check_name"]["Value"] == "nightly backup"
    assert attributes["status"]["Value"] == "down"
    assert json.loads(attributes["tags"]["Value"]) == ["prod", "db"]
    # And the topic's delivery record says it was delivered
    record = delivery(aws, flip, "sns")
    assert record is not None
    assert record["outcome"] == {"S": "delivered"}
    assert record["type"] == {"S": "delivery"}
    assert "expires_at" in record
    assert failures == []


def test_recovery_says_how_long_the_check_was_down(aws: Aws, notifier: ModuleType) -> None:
    # Given a check that was down from 10:00 and recovered at 12:00
    check = simple_check(status="up", status_since_ms=T, last_ping_ms=T)
    flip = outbox_item(aws, check, Flip("down", "up", "recovered"), previous_since_ms=T - 2 * HOUR)
    # When the notifier receives the recovery
    notify(notifier, flip)
    # Then the message says it is back up after 2 hours
    [(texts, attributes)] = published(aws)
    assert texts["email"].startswith("nightly backup is UP: back up after being down for 2 h")
    assert attributes["status"]["Value"] == "up"


def test_reminder_says_the_check_is_still_down(aws: Aws, notifier: ModuleType) -> None:
    # Given a reminder for a check down since 09:00
    check = down_check(status_since_ms=at("2026-03-02 09:00"))
    reminder = outbox_item(aws, check, None)
    # When the notifier receives it
    notify(notifier, reminder)
    # Then the message says for how long it has been down
    [(texts, _)] = published(aws)
    assert "still down since 2026-03-02 09:00 UTC (3 h)" in texts["email"]


def test_alerts_link_to_the_check_in_the_dashboard_at_the_base_url(
    aws: Aws, notifier: ModuleType, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stack's base URL (the API stage URL, with its trailing slash) and a webhook
    monkeypatch.setenv("CRONBEAT_BASE_URL", "https://abc123.execute-api.us-east-1.amazonaws.com/")
    runtime.reset()
    channel = webhook(aws, receiver)
    check = down_check(channels=channel.id)
    flip = outbox_item(aws, check)
    # When the notifier receives the flip
    assert notify(notifier, flip) == []
    # Then the email and the webhook link to the check's page in the dashboard served at `/`
    link = f"https://abc123.execute-api.us-east-1.amazonaws.com/#check/{check.id}"
    [(texts, _)] = published(aws)
    assert ["Details", link] in [line.split() for line in texts["email"].splitlines()]
    [body] = receiver.bodies()
    assert body["url"] == link
    assert "#check/" in dashboard.page().html


def test_flips_that_do_not_involve_down_are_not_alerted(
    aws: Aws, notifier: ModuleType, receiver: Receiver
) -> None:
    # Given a first ping (new → up) and a pause (up → paused) on a check with a webhook
    channel = webhook(aws, receiver)
    check = simple_check(channels=channel.id)
    first = outbox_item(aws, check, Flip("new", "up", "first_ping"), at_ms=T)
    paused = outbox_item(aws, check, Flip("up", "paused", "paused"), at_ms=T + 1)
    # When the notifier receives them
    failures = notify(notifier, first, paused)
    # Then nothing is sent anywhere
    assert published(aws) == []
    assert receiver.received == []
    assert failures == []


def test_webhook_failing_twice_then_accepting_gets_the_alert_exactly_once(
    aws: Aws, notifier: ModuleType, receiver: Receiver, waits: list[float]
) -> None:
    # Given a check with a webhook that answers 500, 500, then 200
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    receiver.script.extend([500, 500, 200])
    # When the notifier receives the flip
    failures = notify(notifier, flip)
    # Then the receiver got three signed attempts of the same alert, after growing waits
    assert len(receiver.received) == 3
    assert len({body["alert_id"] for body in receiver.bodies()}) == 1
    for _, headers, body in receiver.received:
        assert headers[SIGNATURE_HEADER] == signature(SECRET, body)
    assert len(waits) == 2
    assert waits[0] < waits[1]
    # And the delivery record holds the outcome, and nothing is left for the stream to retry
    record = delivery(aws, flip, channel.id)
    assert record is not None
    assert record["outcome"] == {"S": "delivered"}
    assert record["attempts"] == {"N": "3"}
    assert record["status_code"] == {"N": "200"}
    assert "error" not in record
    assert failures == []


def test_webhook_404_is_recorded_as_permanent_and_not_retried(
    aws: Aws, notifier: ModuleType, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a check whose webhook answers 404
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    receiver.script.append(404)
    # When the notifier receives the flip
    failures = notify(notifier, flip)
    # Then one attempt was made, recorded as a permanent failure, and the record is not retried
    assert len(receiver.received) == 1
    record = delivery(aws, flip, channel.id)
    assert record is not None
    assert record["outcome"] == {"S": "failed-permanent"}
    assert record["status_code"] == {"N": "404"}
    assert record["attempts"] == {"N": "1"}
    assert record["error"]["S"].startswith("HTTP 404")
    assert failures == []
    # And the topic got it: one alert sent, one failed
    lines = json_lines(capsys.readouterr().out)
    assert emf_values(lines, "AlertsSent") == [1]
    assert emf_values(lines, "AlertsFailed") == [1]
    # And a permanent failure stays one when the stream hands the same record over again
    assert notify(notifier, flip) == []
    assert len(receiver.received) == 1


def test_retryable_failure_goes_back_to_the_stream_then_delivers_once(
    aws: Aws, notifier: ModuleType, receiver: Receiver
) -> None:
    # Given two flips in one batch: one to a webhook that keeps failing with 503, one without
    channel = webhook(aws, receiver)
    failing = outbox_item(aws, down_check(channels=channel.id))
    quiet = outbox_item(aws, down_check())
    receiver.script.extend([503, 503, 503])
    # When the notifier receives the batch
    failures = notify(notifier, failing, quiet, first_sequence=700)
    # Then only the failing record's sequence number is handed back for a retry
    assert failures == ["700"]
    record = delivery(aws, failing, channel.id)
    assert record is not None
    assert record["outcome"] == {"S": "failed-retryable"}
    assert len(receiver.received) == 3
    # When the stream retries the batch and the receiver is back
    failures = notify(notifier, failing, quiet, first_sequence=700)
    # Then the webhook gets it once more (delivered), and the topic never got a second copy
    assert failures == []
    assert len(receiver.received) == 4
    record = delivery(aws, failing, channel.id)
    assert record is not None
    assert record["outcome"] == {"S": "delivered"}
    assert record["attempts"] == {"N": "4"}
    assert len(published(aws)) == 2


def test_retried_batch_does_not_deliver_twice(
    aws: Aws, notifier: ModuleType, receiver: Receiver, logs: io.StringIO
) -> None:
    # Given a flip to a check with two webhooks, already delivered by one invocation
    first, second = webhook(aws, receiver, "hook-1"), webhook(aws, receiver, "hook-2")
    flip = outbox_item(aws, down_check(channels=f"{first.id},{second.id}"))
    assert notify(notifier, flip) == []
    # When the stream hands the same record over again
    failures = notify(notifier, flip)
    # Then no channel and no subscriber gets a second copy
    assert failures == []
    assert sorted(path for path, _, _ in receiver.received) == ["/hooks/hook-1", "/hooks/hook-2"]
    assert len(published(aws)) == 1
    # And every outcome was logged: three deliveries, then three skips
    outcomes = [
        (line["channel_id"], line["outcome"])
        for line in json_lines(logs.getvalue())
        if "outcome" in line
    ]
    assert outcomes == [
        ("sns", "delivered"),
        ("hook-1", "delivered"),
        ("hook-2", "delivered"),
        ("sns", "already-done"),
        ("hook-1", "already-done"),
        ("hook-2", "already-done"),
    ]


def test_a_batch_sends_to_all_its_channels_at_once(
    aws: Aws, notifier: ModuleType, receiver: Receiver
) -> None:
    # Given three flips in one batch, to checks sharing a webhook that answers only once all
    # three requests are in flight: a notifier sending one at a time would time out the first,
    # and one hanging receiver would hold up every later record by its whole retry budget
    channel = webhook(aws, receiver)
    flips = [outbox_item(aws, down_check(channels=channel.id)) for _ in range(3)]
    receiver.gate = threading.Barrier(3, timeout=10)
    # When the notifier receives the batch
    failures = notify(notifier, *flips)
    # Then each flip reached the webhook on its first attempt, and the topic once
    assert failures == []
    assert len(receiver.received) == 3
    for flip in flips:
        record = delivery(aws, flip, channel.id)
        assert record is not None
        assert (record["outcome"], record["attempts"]) == ({"S": "delivered"}, {"N": "1"})
    assert sorted(attributes["check_id"]["Value"] for _, attributes in published(aws)) == sorted(
        flip["pk"]["S"] for flip in flips
    )


def test_a_channel_listed_twice_gets_the_alert_once(
    aws: Aws, notifier: ModuleType, receiver: Receiver
) -> None:
    # Given a check whose stored channel list names the same webhook twice
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=f"{channel.id},{channel.id}"))
    # When the notifier receives the flip
    failures = notify(notifier, flip)
    # Then the webhook gets it once
    assert failures == []
    assert len(receiver.received) == 1


def test_an_entry_whose_records_cannot_be_written_is_retried_alone(
    aws: Aws, notifier: ModuleType, receiver: Receiver, logs: io.StringIO
) -> None:
    # Given two flips in one batch, and a delivery store that cannot claim for the first check
    channel = webhook(aws, receiver)
    stuck = outbox_item(aws, down_check(channels=channel.id))
    fine = outbox_item(aws, down_check(channels=channel.id))

    class Throttled(DeliveryStore):
        def claim(self, check_id: str, flip_sk: str, channel_id: str, at_ms: int) -> bool:
            if check_id == stuck["pk"]["S"]:
                raise RuntimeError("throttled")
            return super().claim(check_id, flip_sk, channel_id, at_ms)

    stores = runtime.stores()
    throttled = dataclasses.replace(
        stores,
        deliveries=Throttled(aws.dynamodb, events_table=aws.events_table, retention_days=400),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime, "stores", lambda: throttled)
        # When the notifier receives the batch
        failures = notify(notifier, stuck, fine, first_sequence=300)
    # Then only the stuck flip is handed back, logged, and the other one was delivered
    assert failures == ["300"]
    [failed] = [line for line in json_lines(logs.getvalue()) if line["message"] == "alert failed"]
    assert failed["check_id"] == stuck["pk"]["S"]
    assert [json.loads(body)["check_id"] for _, _, body in receiver.received] == [fine["pk"]["S"]]
    # When the stream retries it with the store working again
    assert notify(notifier, stuck, fine, first_sequence=300) == []
    # Then the stuck flip is delivered, and the other is not sent twice
    assert sorted(json.loads(body)["check_id"] for _, _, body in receiver.received) == sorted(
        [fine["pk"]["S"], stuck["pk"]["S"]]
    )


def test_records_that_are_not_alerts_are_ignored(
    aws: Aws, notifier: ModuleType, logs: io.StringIO
) -> None:
    # Given a modified flip, an inserted ping, a channel item, and a flip with no check snapshot
    flip = outbox_item(aws, down_check())
    modified = stream_record(flip, "1", event_name="MODIFY")
    ping = stream_record(success_ping_item("c", T), "2")
    channel = stream_record(
        {"pk": {"S": "channel"}, "sk": {"S": "x"}, "type": {"S": "channel"}}, "3"
    )
    broken = {key: value for key, value in flip.items() if key != "check"}
    malformed = stream_record(broken, "4")
    # When the notifier receives them
    reply = notifier.handler({"Records": [modified, ping, channel, malformed]}, FakeContext())
    # Then nothing is sent, nothing is retried, and the unreadable flip is logged
    assert published(aws) == []
    assert reply == {"batchItemFailures": []}
    assert any(line["message"] == "outbox item dropped" for line in json_lines(logs.getvalue()))


def test_sample_stream_event_is_published(aws: Aws, notifier: ModuleType) -> None:
    # Given the sample stream batch (a timeout flip of a check without channels)
    event = load_event("stream_flip.json")
    [record] = event["Records"]
    # When the notifier receives it
    reply = notifier.handler(event, FakeContext())
    # Then its alert is on the topic
    [(texts, attributes)] = published(aws)
    image = record["dynamodb"]["NewImage"]
    assert attributes["check_id"]["Value"] == image["pk"]["S"]
    assert texts["email"].startswith(image["check"]["M"]["name"]["S"])
    assert reply == {"batchItemFailures": []}


def test_delivery_left_pending_by_a_crashed_attempt_is_sent_again(
    aws: Aws, notifier: ModuleType, receiver: Receiver
) -> None:
    # Given a flip whose webhook delivery was claimed by an invocation that died before sending
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    store = DeliveryStore(aws.dynamodb, events_table=aws.events_table, retention_days=400)
    assert store.claim(flip["pk"]["S"], flip["sk"]["S"], channel.id, T)
    # When the stream hands the record over again
    failures = notify(notifier, flip)
    # Then the webhook gets the alert, once
    assert failures == []
    assert len(receiver.received) == 1
    record = delivery(aws, flip, channel.id)
    assert record is not None
    assert record["outcome"] == {"S": "delivered"}


def _alert_outputs(aws: Aws) -> list[tuple[str, str, bytes]]:
    """(old, new, output) of every alerting flip of the check, oldest first."""
    items = aws.dynamodb.query(
        TableName=aws.events_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :flips)",
        ExpressionAttributeValues={":pk": {"S": STORY_CHECK}, ":flips": {"S": "F#"}},
    )["Items"]
    entries = [outbox_entry(stream_record(item, "1"), base_url="") for item in items]
    return [
        (entry.alert.flip.old, entry.alert.flip.new, entry.alert.last_output)
        for entry in entries
        if entry is not None and entry.alert.flip is not None
    ]


STORY_CHECK = "0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
SENDER = Sender(scheme="https", remote_addr="192.0.2.1", ua="curl/8.5.0")


def test_each_alert_quotes_only_the_output_of_the_ping_that_caused_it(aws: Aws) -> None:
    # Given a check (every 1 h, grace 10 min) that fails with "disk full", then recovers
    # with a success that carries no body
    stores = runtime.stores()
    stores.checks.create(simple_check(id=STORY_CHECK, status="new"), "ping-key")
    service = PingService(stores.checks, stores.history, stores.project, stores.channels)
    service.apply(STORY_CHECK, Ping.fail(body=b"backing up\nerror: disk full\n"), T, SENDER)
    service.apply(STORY_CHECK, Ping.success(), T + MINUTE, SENDER)
    # When the check then goes silent past its grace and the scanner sweeps
    from cronbeat.handlers import scanner

    scanner.handler(scheduled_event(T + 2 * HOUR), FakeContext())
    # Then the failure alert quotes the failed run's output
    fail, recovery, timeout = _alert_outputs(aws)
    assert fail == ("new", "down", b"backing up\nerror: disk full\n")
    # And neither the recovery nor the timeout blames a full disk
    assert recovery == ("down", "up", b"")
    assert timeout == ("up", "down", b"")


def test_a_flip_keeps_the_last_thousand_bytes_of_its_output_whole(aws: Aws) -> None:
    # Given a failure whose output is long, non-ASCII text
    stores = runtime.stores()
    stores.checks.create(simple_check(id=STORY_CHECK, status="new"), "ping-key")
    service = PingService(stores.checks, stores.history, stores.project, stores.channels)
    body = "é".encode() * 600 + b"done!"
    # When it flips the check down
    service.apply(STORY_CHECK, Ping.fail(body=body), T, SENDER)
    # Then its alert quotes the last 1,000 bytes, less the half character the cut left
    [(_, _, output)] = _alert_outputs(aws)
    assert len(output) == 999
    assert output.decode("utf-8") == "é" * 497 + "done!"
