"""Alerts on moto, end to end: stream records → the notifier's fan-out → the delivery queue →
the deliverer → the SNS topic and webhooks.

Webhooks go to a real HTTP server on 127.0.0.1 that answers from a script. The queue is moto's
SQS; a retried message's backoff is read from the visibility the deliverer set, then ended at
once (`DeliveryQueueDriver.retry_now`) instead of slept through.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest
from moto.sns.models import sns_backends

from cronbeat import runtime
from cronbeat.api import dashboard
from cronbeat.channels.delivery import MAX_ATTEMPTS, MAX_RETRY_S
from cronbeat.channels.webhook import SIGNATURE_HEADER, signature
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import Check, Flip, Ping, Sender
from cronbeat.service.notify import outbox_entry
from cronbeat.service.ping import PingService
from cronbeat.store.channels import ChannelStore
from cronbeat.store.codec import Item
from cronbeat.store.deliveries import DeliveryRecord, DeliveryStore, Target
from cronbeat.store.history import flip_item
from tests.conftest import REGION, Aws
from tests.integration.outbox import (
    HOUR,
    MINUTE,
    DeliveryQueueDriver,
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
def notifier(aws: Aws) -> ModuleType:
    from cronbeat.handlers import notifier

    return notifier


@pytest.fixture
def queue(aws: Aws) -> DeliveryQueueDriver:
    return DeliveryQueueDriver(aws)


@pytest.fixture
def logs(notifier: ModuleType) -> Iterator[io.StringIO]:
    """The notifier's and the deliverer's log lines (their Powertools loggers share a handler)."""
    from cronbeat.handlers import deliverer

    assert deliverer.logger.registered_handler is notifier.logger.registered_handler
    with captured_logs(notifier) as buffer:
        yield buffer


def runtime_now_ms() -> int:
    from cronbeat.clock import now_ms

    return now_ms()


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


def alert(notifier: ModuleType, queue: DeliveryQueueDriver, *items: Item) -> list[str]:
    """Fan the items out, then deliver every message once; the records the stream must retry."""
    failures = notify(notifier, *items)
    queue.work()
    return failures


def published(aws: Aws) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """Messages on the alerts topic: (texts by protocol, message attributes)."""
    account = aws.topic_arn.split(":")[4]
    topic = sns_backends[account][REGION].topics[aws.topic_arn]
    messages: list[tuple[dict[str, str], dict[str, Any]]] = []
    for _, message, _, attributes, _ in topic.sent_notifications:
        messages.append((json.loads(message), attributes or {}))
    return messages


def delivery(aws: Aws, item: Item, channel_id: str, kind: str = "webhook") -> DeliveryRecord:
    store = DeliveryStore(aws.dynamodb, events_table=aws.events_table, retention_days=400)
    record = store.get(Target(item["pk"]["S"], item["sk"]["S"], channel_id, kind))
    assert record is not None, f"no delivery record for {channel_id}"
    return record


def test_down_flip_is_published_once_with_both_texts_and_filter_attributes(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver
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
    # When the notifier fans it out and the deliverer works the queue
    failures = alert(notifier, queue, flip)
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
    # And the topic's delivery record says it was sent, on the first attempt
    record = delivery(aws, flip, "sns", "sns")
    assert (record.state, record.attempts, record.kind) == ("sent", 1, "sns")
    assert failures == []


def test_the_notifier_only_enqueues_and_opens_a_pending_record_per_target(
    aws: Aws, notifier: ModuleType, receiver: Receiver
) -> None:
    # Given a down flip of a check with two webhooks
    first, second = webhook(aws, receiver, "hook-1"), webhook(aws, receiver, "hook-2")
    flip = outbox_item(aws, down_check(channels=f"{first.id},{second.id}"))
    # When only the notifier runs
    assert notify(notifier, flip) == []
    # Then nothing was sent yet: there is one queued message per target, and a pending record
    assert receiver.received == []
    assert published(aws) == []
    messages = aws.sqs.receive_message(
        QueueUrl=aws.deliveries_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    assert sorted(json.loads(m["Body"])["target"] for m in messages) == ["hook-1", "hook-2", "sns"]
    for channel_id, kind in (("sns", "sns"), ("hook-1", "webhook"), ("hook-2", "webhook")):
        record = delivery(aws, flip, channel_id, kind)
        assert (record.state, record.attempts, record.kind) == ("pending", 0, kind)


def test_recovery_says_how_long_the_check_was_down(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver
) -> None:
    # Given a check that was down from 10:00 and recovered at 12:00
    check = simple_check(status="up", status_since_ms=T, last_ping_ms=T)
    flip = outbox_item(aws, check, Flip("down", "up", "recovered"), previous_since_ms=T - 2 * HOUR)
    # When it is alerted
    alert(notifier, queue, flip)
    # Then the message says it is back up after 2 hours
    [(texts, attributes)] = published(aws)
    assert texts["email"].startswith("nightly backup is UP: back up after being down for 2 h")
    assert attributes["status"]["Value"] == "up"


def test_reminder_says_the_check_is_still_down(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver
) -> None:
    # Given a reminder for a check down since 09:00
    check = down_check(status_since_ms=at("2026-03-02 09:00"))
    reminder = outbox_item(aws, check, None)
    # When it is alerted
    alert(notifier, queue, reminder)
    # Then the message says for how long it has been down
    [(texts, _)] = published(aws)
    assert "still down since 2026-03-02 09:00 UTC (3 h)" in texts["email"]


def test_alerts_link_to_the_check_in_the_dashboard_at_the_base_url(
    aws: Aws,
    notifier: ModuleType,
    queue: DeliveryQueueDriver,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the stack's base URL (the API stage URL, with its trailing slash) and a webhook
    monkeypatch.setenv("CRONBEAT_BASE_URL", "https://abc123.execute-api.us-east-1.amazonaws.com/")
    runtime.reset()
    channel = webhook(aws, receiver)
    check = down_check(channels=channel.id)
    flip = outbox_item(aws, check)
    # When it is alerted
    assert alert(notifier, queue, flip) == []
    # Then the email and the webhook link to the check's page in the dashboard served at `/`
    link = f"https://abc123.execute-api.us-east-1.amazonaws.com/#check/{check.id}"
    [(texts, _)] = published(aws)
    assert ["Details", link] in [line.split() for line in texts["email"].splitlines()]
    [body] = receiver.bodies()
    assert body["url"] == link
    assert "#check/" in dashboard.page().html


def test_flips_that_do_not_involve_down_are_not_alerted(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a first ping (new → up) and a pause (up → paused) on a check with a webhook
    channel = webhook(aws, receiver)
    check = simple_check(channels=channel.id)
    first = outbox_item(aws, check, Flip("new", "up", "first_ping"), at_ms=T)
    paused = outbox_item(aws, check, Flip("up", "paused", "paused"), at_ms=T + 1)
    # When the notifier receives them
    failures = notify(notifier, first, paused)
    # Then nothing is queued, and nothing is sent anywhere
    assert queue.work() == 0
    assert published(aws) == []
    assert receiver.received == []
    assert failures == []


def test_muted_flips_are_recorded_but_neither_published_nor_delivered(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a down and a recovery made while the check was muted, on a check with a webhook
    channel = webhook(aws, receiver)
    check = down_check(channels=channel.id)
    down = outbox_item(aws, check, Flip("up", "down", "timeout", muted=True))
    up = outbox_item(aws, check, Flip("down", "up", "recovered", muted=True), at_ms=T + 1)
    # When the notifier receives them
    failures = notify(notifier, down, up)
    # Then nothing is queued, published or delivered, and no delivery record is opened
    assert queue.work() == 0
    assert published(aws) == []
    assert receiver.received == []
    assert failures == []
    store = DeliveryStore(aws.dynamodb, events_table=aws.events_table, retention_days=400)
    assert store.get(Target(check.id, down["sk"]["S"], "sns", "sns")) is None


def test_the_alert_owed_after_a_mute_goes_to_the_topic_and_the_channels_once(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given the reminder the sweep writes when the mute of a check that went down at 09:00 ends
    channel = webhook(aws, receiver)
    check = down_check(channels=channel.id, status_since_ms=at("2026-03-02 09:00"))
    item = flip_item(check=check, flip=None, at_ms=T, rev=5, retention_days=400, after_mute=True)
    aws.dynamodb.put_item(TableName=aws.events_table, Item=item)
    # When it is alerted, and the stream hands it over a second time
    assert alert(notifier, queue, item) == []
    assert alert(notifier, queue, item) == []
    # Then the topic and the webhook each got it once, saying it went down during maintenance
    [(texts, _)] = published(aws)
    said = "went down at 09:00 UTC during maintenance and is still down"
    assert texts["email"].startswith(f"nightly backup is DOWN: {said}.")
    [body] = receiver.bodies()
    assert said in json.dumps(body)


def test_500_500_200_delivers_exactly_once_after_growing_backoffs(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a check with a webhook that answers 500, 500, then 200
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    receiver.script.extend([500, 500, 200])
    # When it is alerted, and each retry comes due
    assert alert(notifier, queue, flip) == []
    pending = delivery(aws, flip, channel.id)
    for _ in range(2):
        queue.retry_now()
        queue.work()
    # Then the receiver got three signed attempts of the same alert
    assert len(receiver.received) == 3
    assert len({body["alert_id"] for body in receiver.bodies()}) == 1
    for _, headers, body in receiver.received:
        assert headers[SIGNATURE_HEADER] == signature(SECRET, body)
    # And the queue held it back 10 s, then 30 s (each within the ±10 % jitter)
    assert 9 <= queue.visibility[0] <= 11
    assert 27 <= queue.visibility[1] <= 33
    assert len(queue.visibility) == 2
    # And while it waited, the record said so; now it says sent, after 3 attempts
    assert (pending.state, pending.attempts, pending.status_code) == ("pending", 1, 500)
    assert pending.next_attempt_ms is not None
    record = delivery(aws, flip, channel.id)
    assert (record.state, record.attempts, record.status_code, record.error) == (
        "sent",
        3,
        200,
        None,
    )
    # And the topic, a separate message, was sent once at the start
    assert len(published(aws)) == 1


def test_an_always_failing_receiver_gets_exactly_the_documented_attempts_then_the_dlq(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a webhook that always answers 500
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    receiver.script.extend([500] * (MAX_ATTEMPTS + 5))
    # When it is alerted and every retry comes due, until the queue is empty
    alert(notifier, queue, flip)
    for _ in range(MAX_ATTEMPTS + 3):
        queue.retry_now()
        queue.work()
    # Then the receiver got exactly MAX_ATTEMPTS (8) attempts, spread over less than an hour
    assert MAX_ATTEMPTS == 8
    assert len(receiver.received) == MAX_ATTEMPTS
    assert len(queue.visibility) == MAX_ATTEMPTS - 1
    documented = [10, 30, 90, 270, 810, MAX_RETRY_S, MAX_RETRY_S]
    for waited, base in zip(queue.visibility, documented, strict=True):
        assert round(base * 0.9) <= waited <= round(base * 1.1)
    assert sum(queue.visibility) < 3600
    # And the record says failed, with why; the message is on the dead-letter queue
    record = delivery(aws, flip, channel.id)
    assert (record.state, record.attempts, record.status_code) == ("failed", MAX_ATTEMPTS, 500)
    assert record.error is not None
    assert "gave up after 8 attempts" in record.error
    [dead] = queue.dead_letters()
    assert (dead["target"], dead["flip"]) == (channel.id, flip["sk"]["S"])


def test_a_404_is_one_attempt_recorded_as_failed(
    aws: Aws,
    notifier: ModuleType,
    queue: DeliveryQueueDriver,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a check whose webhook answers 404
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    receiver.script.append(404)
    # When it is alerted
    alert(notifier, queue, flip)
    queue.retry_now()
    # Then one attempt was made, recorded as failed, and nothing is left to retry
    assert queue.work() == 0
    assert len(receiver.received) == 1
    record = delivery(aws, flip, channel.id)
    assert (record.state, record.attempts, record.status_code) == ("failed", 1, 404)
    assert record.error is not None
    assert record.error.startswith("HTTP 404")
    assert queue.visibility == []
    # And a person hears of it: the dead-letter queue, and the metrics
    [dead] = queue.dead_letters()
    assert dead["target"] == channel.id
    lines = json_lines(capsys.readouterr().out)
    assert sum(emf_values(lines, "AlertsSent")) == 1
    assert sum(emf_values(lines, "AlertsFailed")) == 1


def test_a_redelivered_message_does_not_send_twice(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a flip to a check with two webhooks, already delivered
    first, second = webhook(aws, receiver, "hook-1"), webhook(aws, receiver, "hook-2")
    flip = outbox_item(aws, down_check(channels=f"{first.id},{second.id}"))
    assert alert(notifier, queue, flip) == []
    # When the stream hands the record over again, and SQS delivers a message a second time
    assert notify(notifier, flip) == []
    copy = aws.sqs.receive_message(QueueUrl=aws.deliveries_queue_url, VisibilityTimeout=0)
    aws.sqs.send_message(QueueUrl=aws.deliveries_queue_url, MessageBody=copy["Messages"][0]["Body"])
    handed = queue.work()
    # Then every copy was handled, and no channel and no subscriber got a second alert
    assert handed == 4
    assert sorted(path for path, _, _ in receiver.received) == ["/hooks/hook-1", "/hooks/hook-2"]
    assert len(published(aws)) == 1
    assert delivery(aws, flip, "hook-1").attempts == 1


def test_a_message_another_worker_holds_is_put_back_without_sending(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a webhook delivery that a worker claimed a moment ago (it is still sending)
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    store = DeliveryStore(aws.dynamodb, events_table=aws.events_table, retention_days=400)
    target = Target(flip["pk"]["S"], flip["sk"]["S"], channel.id, "webhook")
    now = runtime_now_ms()
    assert store.claim(target, now, lease_ms=60_000).__class__.__name__ == "Claimed"
    # When a second copy of its message is handled
    alert(notifier, queue, flip)
    # Then it sends nothing and comes back after the lease
    assert receiver.received == []
    assert 55 <= queue.visibility[0] <= 62
    assert delivery(aws, flip, channel.id).state == "pending"


def test_a_delivery_whose_worker_died_mid_attempt_is_sent_after_its_lease(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a webhook delivery claimed by a worker that died before recording (lease expired)
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    store = DeliveryStore(aws.dynamodb, events_table=aws.events_table, retention_days=400)
    target = Target(flip["pk"]["S"], flip["sk"]["S"], channel.id, "webhook")
    store.claim(target, runtime_now_ms() - 120_000, lease_ms=60_000)
    # When its message comes back
    alert(notifier, queue, flip)
    # Then the webhook gets the alert, once (at least once: the dead worker may have sent it)
    assert len(receiver.received) == 1
    assert delivery(aws, flip, channel.id).state == "sent"


def test_a_channel_listed_twice_gets_the_alert_once(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a check whose stored channel list names the same webhook twice
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=f"{channel.id},{channel.id}"))
    # When it is alerted
    failures = alert(notifier, queue, flip)
    # Then the webhook gets it once
    assert failures == []
    assert len(receiver.received) == 1


def test_a_channel_deleted_before_its_delivery_fails_without_sending(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given a queued delivery to a webhook that is then deleted
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    notify(notifier, flip)
    ChannelStore(aws.dynamodb, aws.events_table).delete(channel.id)
    # When the deliverer works the queue
    queue.work()
    # Then nothing is sent, and the record says why
    assert receiver.received == []
    record = delivery(aws, flip, channel.id)
    assert (record.state, record.error) == ("failed", "the channel was deleted")


def test_an_entry_whose_fan_out_fails_is_retried_alone(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, receiver: Receiver
) -> None:
    # Given two flips in one batch, and a delivery store that cannot open the first's records
    channel = webhook(aws, receiver)
    stuck = outbox_item(aws, down_check(channels=channel.id))
    fine = outbox_item(aws, down_check(channels=channel.id))

    class Throttled(DeliveryStore):
        def open(self, target: Target, now_ms: int) -> None:
            if target.check_id == stuck["pk"]["S"]:
                raise RuntimeError("throttled")
            super().open(target, now_ms)

    stores = runtime.stores()
    throttled = dataclasses.replace(
        stores,
        deliveries=Throttled(aws.dynamodb, events_table=aws.events_table, retention_days=400),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime, "stores", lambda: throttled)
        # When the notifier receives the batch
        failures = notify(notifier, stuck, fine, first_sequence=300)
    queue.work()
    # Then only the stuck flip is handed back, and the other one was delivered
    assert failures == ["300"]
    assert [json.loads(body)["check_id"] for _, _, body in receiver.received] == [fine["pk"]["S"]]
    # When the stream retries it with the store working again
    assert alert(notifier, queue, stuck, fine) == []
    # Then the stuck flip is delivered, and the other is not sent twice
    assert sorted(json.loads(body)["check_id"] for _, _, body in receiver.received) == sorted(
        [fine["pk"]["S"], stuck["pk"]["S"]]
    )


def test_records_that_are_not_alerts_are_ignored(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver, logs: io.StringIO
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
    # Then nothing is queued or retried, and the unreadable flip is logged
    assert queue.work() == 0
    assert reply == {"batchItemFailures": []}
    assert any(line["message"] == "outbox item dropped" for line in json_lines(logs.getvalue()))


def test_a_malformed_queue_message_goes_to_the_dead_letter_queue_and_is_not_retried(
    aws: Aws, queue: DeliveryQueueDriver
) -> None:
    # Given a message on the delivery queue that is not a delivery
    aws.sqs.send_message(QueueUrl=aws.deliveries_queue_url, MessageBody='{"v": 99}')
    # When the deliverer works the queue
    assert queue.work() == 1
    # Then it is kept for a person on the dead-letter queue, and gone from the delivery queue
    assert queue.dead_letters() == [{"v": 99}]
    queue.retry_now()
    assert queue.work() == 0


def test_sample_stream_event_is_published(
    aws: Aws, notifier: ModuleType, queue: DeliveryQueueDriver
) -> None:
    # Given the sample stream batch (a timeout flip of a check without channels)
    event = load_event("stream_flip.json")
    [record] = event["Records"]
    # When it is alerted
    reply = notifier.handler(event, FakeContext())
    queue.work()
    # Then its alert is on the topic
    [(texts, attributes)] = published(aws)
    image = record["dynamodb"]["NewImage"]
    assert attributes["check_id"]["Value"] == image["pk"]["S"]
    assert texts["email"].startswith(image["check"]["M"]["name"]["S"])
    assert reply == {"batchItemFailures": []}


def test_one_log_line_per_attempt_with_no_url_or_secret(
    aws: Aws,
    notifier: ModuleType,
    queue: DeliveryQueueDriver,
    receiver: Receiver,
    logs: io.StringIO,
) -> None:
    # Given a webhook that answers 503 once, then 200
    channel = webhook(aws, receiver)
    flip = outbox_item(aws, down_check(channels=channel.id))
    receiver.script.append(503)
    # When it is alerted and retried
    alert(notifier, queue, flip)
    queue.retry_now()
    queue.work()
    # Then each attempt logged its kind, state, status and time
    attempts = [line for line in json_lines(logs.getvalue()) if line.get("channel_id") == "hook-1"]
    assert [(a["channel_kind"], a["state"], a["status_code"]) for a in attempts] == [
        ("webhook", "retry", 503),
        ("webhook", "sent", 200),
    ]
    assert all(isinstance(a["ms"], int) for a in attempts)
    # And neither the URL's path nor the secret is in the log
    text = logs.getvalue()
    assert "/hooks/" not in text
    assert SECRET not in text


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
