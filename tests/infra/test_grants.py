"""Each function's IAM grants are exactly what its code calls: nothing missing, nothing spare.

moto ignores IAM, so a missing grant shows up only as AccessDenied in production. Here the five
handlers run their flows on moto while every DynamoDB, SNS and SQS call is recorded as the IAM
action that authorises it and the resource it names (a transaction as each of its items), and
the record is compared with the synthesized policies both ways.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from cronbeat import clock, runtime
from cronbeat.store.events import CHANNEL_PK
from cronbeat.store.project import ProjectStore
from cronbeat.store.tables import BADGE_INDEX, DELIVERIES_INDEX, SLUG_INDEX
from tests.conftest import Aws
from tests.infra.conftest import Synth
from tests.integration.api_requests import Api, api_event, seed_keys, send
from tests.integration.outbox import (
    HOUR,
    DeliveryQueueDriver,
    FakeContext,
    outbox,
    put_check,
    scheduled_event,
    simple_check,
    stream_record,
)

pytestmark = pytest.mark.infra

PING = "cronbeat.handlers.ping.handler"
API = "cronbeat.handlers.api.handler"
SCANNER = "cronbeat.handlers.scanner.handler"
NOTIFIER = "cronbeat.handlers.notifier.handler"
DELIVERER = "cronbeat.handlers.deliverer.handler"
SEGMENT = "cronbeat.handlers.sweep_segment.handler"
HANDLERS = (PING, API, SCANNER, NOTIFIER, DELIVERER, SEGMENT)

CHECKS = "checks"
SLUGS = f"checks/index/{SLUG_INDEX}"
BADGES = f"checks/index/{BADGE_INDEX}"
EVENTS = "events"
CHANNELS = f"events[pk={CHANNEL_PK}]"
"""The events table's channel partition: a Query granted only with that leading key."""
DELIVERIES = f"events/index/{DELIVERIES_INDEX}"
TOPIC = "alerts topic"
QUEUE = "deliveries queue"
DEAD_LETTERS = "dead letters"
SEGMENT_WORKER = "segment worker"

Grant = tuple[str, str]
"""(IAM action, resource name)."""

EXPECTED: dict[str, set[Grant]] = {
    PING: {
        *(("dynamodb:" + a, CHECKS) for a in ("GetItem", "PutItem", "UpdateItem")),
        ("dynamodb:Query", SLUGS),
        *(("dynamodb:" + a, EVENTS) for a in ("GetItem", "PutItem")),
        ("dynamodb:Query", CHANNELS),
    },
    API: {
        *(
            ("dynamodb:" + a, CHECKS)
            for a in ("GetItem", "Scan", "PutItem", "UpdateItem", "DeleteItem")
        ),
        *(
            ("dynamodb:" + a, EVENTS)
            for a in ("GetItem", "Query", "PutItem", "DeleteItem", "BatchGetItem", "UpdateItem")
        ),
        ("dynamodb:Query", DELIVERIES),
        ("dynamodb:Query", BADGES),
        ("sqs:SendMessage", QUEUE),
        ("sns:Subscribe", TOPIC),
        ("sns:ListSubscriptionsByTopic", TOPIC),
        ("sns:Unsubscribe", "*"),
    },
    SCANNER: {
        ("dynamodb:DescribeTable", CHECKS),
        ("dynamodb:Scan", CHECKS),
        ("dynamodb:UpdateItem", CHECKS),
        ("dynamodb:PutItem", EVENTS),
    },
    SEGMENT: {
        ("dynamodb:Scan", CHECKS),
        ("dynamodb:UpdateItem", CHECKS),
        ("dynamodb:PutItem", EVENTS),
    },
    NOTIFIER: {
        *(("dynamodb:" + a, EVENTS) for a in ("UpdateItem", "BatchGetItem")),
        ("sqs:SendMessage", QUEUE),
    },
    DELIVERER: {
        *(("dynamodb:" + a, EVENTS) for a in ("UpdateItem", "BatchGetItem")),
        ("sns:Publish", TOPIC),
        ("sqs:ChangeMessageVisibility", QUEUE),
        ("sqs:SendMessage", DEAD_LETTERS),
    },
}
"""What each function may do to the tables and the topic, and what its flows below call."""

PLUMBING: dict[str, set[Grant]] = {
    # Invoked through Lambda's client, which these tests replace with a direct call.
    SCANNER: {("lambda:InvokeFunction", SEGMENT_WORKER)},
    NOTIFIER: {
        *(("sqs:" + a, DEAD_LETTERS) for a in ("SendMessage", "GetQueueAttributes", "GetQueueUrl")),
        ("dynamodb:ListStreams", "*"),
        *(
            ("dynamodb:" + a, "events stream")
            for a in ("DescribeStream", "GetRecords", "GetShardIterator")
        ),
    },
    DELIVERER: {
        ("kms:Decrypt", "alerts key"),
        ("kms:GenerateDataKey*", "alerts key"),
        *(
            ("sqs:" + a, QUEUE)
            for a in (
                "ReceiveMessage",
                "DeleteMessage",
                "GetQueueAttributes",
                "GetQueueUrl",
                "ChangeMessageVisibility",
            )
        ),
    },
}
"""Grants besides the log group that the code never calls itself: the topic's key, which SNS
uses for a publish, what Lambda's stream and queue mappings call on the function's behalf, and
the scanner's invocation of the segment worker (direct in-process calls in the flows below)."""


# --- The synthesized policies -----------------------------------------------------------------


def _names(synth: Synth) -> dict[str, str]:
    """Resource names by the JSON of the ARN expression the policies use for them."""

    def one(kind: str, prefix: str) -> str:
        found = [n for n in synth.of_type(kind) if n.startswith(prefix)]
        assert len(found) == 1, (kind, prefix, found)
        return found[0]

    checks = one("AWS::DynamoDB::Table", "StorageChecks")
    events = one("AWS::DynamoDB::Table", "StorageEvents")
    checks_arn = {"Fn::GetAtt": [checks, "Arn"]}
    events_arn = {"Fn::GetAtt": [events, "Arn"]}
    names = {
        json.dumps(checks_arn): CHECKS,
        json.dumps({"Fn::Join": ["", [checks_arn, f"/index/{SLUG_INDEX}"]]}): SLUGS,
        json.dumps({"Fn::Join": ["", [checks_arn, f"/index/{BADGE_INDEX}"]]}): BADGES,
        json.dumps(events_arn): EVENTS,
        json.dumps({"Fn::GetAtt": [events, "StreamArn"]}): "events stream",
        json.dumps({"Ref": one("AWS::SNS::Topic", "Alerts")}): TOPIC,
        json.dumps({"Fn::GetAtt": [one("AWS::KMS::Key", "Alerts"), "Arn"]}): "alerts key",
        json.dumps({"Fn::Join": ["", [events_arn, f"/index/{DELIVERIES_INDEX}"]]}): DELIVERIES,
        json.dumps({"Fn::GetAtt": [one("AWS::SQS::Queue", "AlertsDeadLetters"), "Arn"]}): (
            DEAD_LETTERS
        ),
        json.dumps({"Fn::GetAtt": [one("AWS::SQS::Queue", "AlertsDeliveries"), "Arn"]}): QUEUE,
        json.dumps("*"): "*",
    }
    _, worker = synth.function(SEGMENT)
    worker_id = next(n for n, r in synth.resources.items() if r.get("Properties") is worker)
    names[json.dumps({"Fn::GetAtt": [worker_id, "Arn"]})] = SEGMENT_WORKER
    for name in synth.of_type("AWS::Logs::LogGroup"):
        names[json.dumps({"Fn::GetAtt": [name, "Arn"]})] = f"log group {name}"
    return names


def granted(synth: Synth, handler: str) -> set[Grant]:
    """Every (action, resource) the role of the function at `handler` is allowed."""
    _, function = synth.function(handler)
    role = {"Ref": function["Role"]["Fn::GetAtt"][0]}
    names = _names(synth)
    grants: set[Grant] = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if role not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            for resource in resources:
                name = names[json.dumps(resource)]
                if condition := statement.get("Condition"):
                    # The only condition in use: the Query's partition key must be one of these.
                    assert list(condition) == ["ForAllValues:StringEquals"], condition
                    keys = condition["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"]
                    assert len(keys) == 1, keys
                    name = f"{name}[pk={keys[0]}]"
                grants.update(
                    (action, name)
                    for action in ([actions] if isinstance(actions, str) else actions)
                )
    return grants


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_function_is_granted_exactly_its_calls(synth: Synth, handler: str) -> None:
    # Given the synthesized policy of one function's role
    grants = granted(synth, handler)
    # When its own log group is set apart
    logs = {g for g in grants if g[1].startswith("log group ")}
    assert {action for action, _ in logs} == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert len({resource for _, resource in logs}) == 1
    # Then what is left is exactly the table and topic actions its code calls, plus plumbing
    assert grants - logs == EXPECTED[handler] | PLUMBING.get(handler, set())


def test_no_function_may_touch_another_functions_log_group(synth: Synth) -> None:
    # Given every function's log-group grant
    groups = [{r for _, r in granted(synth, h) if r.startswith("log group ")} for h in HANDLERS]
    # Then each writes to a group of its own
    assert all(len(g) == 1 for g in groups)
    assert len(set().union(*groups)) == len(HANDLERS)


# --- What the code calls ----------------------------------------------------------------------

_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_PARTITION = re.compile(r"\bpk\s*=\s*(:\w+)")


@dataclass
class Recorder:
    """Every DynamoDB and SNS call of the runtime's clients, as (action, resource) per function."""

    aws: Aws
    function: str | None = None
    calls: dict[str, set[Grant]] = field(default_factory=dict)

    def _table(self, name: str, index: str | None = None) -> str:
        table = {self.aws.checks_table: CHECKS, self.aws.events_table: EVENTS}[name]
        return f"{table}/index/{index}" if index else table

    def dynamodb(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation: str = model.name
        found: set[Grant] = set()
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, request),) = item.items()
                found.add(("dynamodb:" + _ITEM_ACTIONS[kind], self._table(request["TableName"])))
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            found |= {("dynamodb:" + operation, self._table(t)) for t in params["RequestItems"]}
        else:
            resource = self._table(params["TableName"], params.get("IndexName"))
            if operation == "Query" and resource == EVENTS:
                match = _PARTITION.search(params["KeyConditionExpression"])
                assert match is not None, params["KeyConditionExpression"]
                key = params["ExpressionAttributeValues"][match.group(1)]["S"]
                if key == CHANNEL_PK:
                    resource = CHANNELS
            found.add(("dynamodb:" + operation, resource))
        self._add(found)

    def sns(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "TopicArn" not in params:  # Unsubscribe names only the subscription
            assert set(params) == {"SubscriptionArn"}, params
            self._add({("sns:" + model.name, "*")})
            return
        assert params["TopicArn"] == self.aws.topic_arn
        self._add({("sns:" + model.name, TOPIC)})

    def sqs(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        queue = {self.aws.deliveries_queue_url: QUEUE, self.aws.dead_letter_queue_url: DEAD_LETTERS}
        # A batch is authorised by the action of its single form.
        action = model.name.removesuffix("Batch")
        self._add({("sqs:" + action, queue[params["QueueUrl"]])})

    def _add(self, found: set[Grant]) -> None:
        assert self.function is not None, f"a call outside any function: {found}"
        self.calls.setdefault(self.function, set()).update(found)

    @contextmanager
    def running(self, handler: str) -> Iterator[None]:
        self.function = handler
        try:
            yield
        finally:
            self.function = None


@pytest.fixture
def recorder(aws: Aws) -> Recorder:
    recorder = Recorder(aws)
    runtime.dynamodb().meta.events.register("before-parameter-build.dynamodb.*", recorder.dynamodb)
    runtime.sns().meta.events.register("before-parameter-build.sns.*", recorder.sns)
    runtime.sqs().meta.events.register("before-parameter-build.sqs.*", recorder.sqs)
    return recorder


@pytest.fixture
def receiver_url() -> Iterator[str]:
    """A webhook receiver on 127.0.0.1 that accepts every alert."""

    class Accept(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}/hook"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.text
    return reply.json() if reply.body.startswith(b"{") else reply.text


def _run_the_monitor(
    aws: Aws, recorder: Recorder, receiver_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every kind of call each function makes: management, pings, a sweep, alerts."""
    from cronbeat.handlers import notifier, scanner, sweep_segment

    seed_keys(aws)
    api = Api()
    with recorder.running(API):
        _ok(api.get("status/"))
        ops = _ok(
            api.post("channels/", {"kind": "webhook", "name": "ops", "url": receiver_url}), 201
        )
        # Nothing listens on the discard port: its deliveries fail and are retried.
        unreachable = {"kind": "webhook", "name": "down", "url": "http://127.0.0.1:9/hook"}
        _ok(api.post("channels/", unreachable), 201)
        # An email channel: a subscription of the topic, listed in reads, ended on delete.
        email = {"kind": "email", "name": "mail", "address": "ops@example.com"}
        mail = _ok(api.post("channels/", email), 201)
        _ok(api.get(f"channels/{mail['id']}"))
        _ok(api.delete(f"channels/{mail['id']}"))
        check = api.create(name="backup", slug="backup", timeout=60, grace=60, channels="*")
        _ok(api.get("checks/"))
        _ok(api.get(f"checks/{check['uuid']}"))
        _ok(api.post(f"checks/{check['uuid']}", {"desc": "nightly"}))
        _ok(api.post(f"checks/{check['uuid']}/pause"))
        _ok(api.post(f"checks/{check['uuid']}/resume"))

    ping_key = ProjectStore(aws.dynamodb, aws.events_table).ping_key()
    with recorder.running(PING):
        _ok(api.ping(check["uuid"]))  # new -> up: the general path's transaction
        _ok(api.ping(check["uuid"], body="dump ok"))  # the fast path
        _ok(api.ping(check["uuid"], "/fail", body="disk full"))  # up -> down, a flip to alert
        _ok(api.ping(f"{ping_key}/backup"))  # by slug: down -> up
        _ok(api.ping(f"{ping_key}/restore?create=1"), 201)  # a new check with every channel
        _ok(api.ping("00000000-0000-4000-8000-000000000000"), 404)
    with recorder.running(API):
        restored = next(c for c in _ok(api.get("checks/"))["checks"] if c["slug"] == "restore")
        _ok(api.post(f"checks/{restored['uuid']}", {"slug": "restored"}))
    with recorder.running(PING):
        # The slug's own id is taken by the renamed check: it is read, and a new id is made.
        _ok(api.ping(f"{ping_key}/restore?create=1"), 201)

    now = clock.now_ms() // 1000 * 1000
    overdue = simple_check(last_ping_ms=now - 2 * HOUR)
    reminded = simple_check(
        status="down", last_ping_ms=now - 5 * HOUR, realert_every_s=3600, last_alert_ms=now - HOUR
    )
    for stored in (overdue, reminded):
        put_check(aws, stored)
    # The stack's fan-out setting: the scanner reads the item count, and sweeps a small table
    # itself; a segment worker sweeps what it is given.
    monkeypatch.setenv("CRONBEAT_FAN_OUT_CHECKS", "25000")
    runtime.settings.cache_clear()  # the clients, and the recorder on them, stay
    with recorder.running(SCANNER):
        summary = scanner.handler(scheduled_event(now + 60_000), FakeContext())
    assert summary["flips_written"] >= 1, summary
    assert summary["reminders_written"] == 1, summary
    put_check(aws, simple_check(last_ping_ms=now - 2 * HOUR))
    with recorder.running(SEGMENT):
        # The scanner's sweep time again: "backup" pinged up to a second before `now`, so it is
        # due before now + 120 s, and a later sweep would flip it too.
        segment = {"sweep_at_ms": now + 60_000, "segment": 0, "total_segments": 1}
        assert sweep_segment.handler(segment, FakeContext())["flips_written"] == 1

    alerts = outbox(aws)
    records = [stream_record(item, str(100 + i)) for i, item in enumerate(alerts)]
    with recorder.running(NOTIFIER):
        reply = notifier.handler({"Records": records}, FakeContext())
    assert reply == {"batchItemFailures": []}
    queue = DeliveryQueueDriver(aws)
    # One message that cannot be read: the deliverer sends it to the dead-letter queue.
    aws.sqs.send_message(QueueUrl=aws.deliveries_queue_url, MessageBody="{}")
    with recorder.running(DELIVERER):
        # The topic and each channel, per alert; the unreachable channel's are retried.
        assert queue.work() > len(alerts) + 1
    assert queue.visibility, "no delivery was retried"

    with recorder.running(API):
        pings = _ok(api.get(f"checks/{check['uuid']}/pings/"))["pings"]
        with_body = next(p["n"] for p in pings if p["type"] == "fail")
        _ok(api.get(f"checks/{check['uuid']}/pings/{with_body}/body"))
        _ok(api.get(f"checks/{check['uuid']}/flips/"))
        # The public badges: every tag's (a project item read and a scan), and the check's
        # (the badge index).
        badges = _ok(api.get("badges/"))["badges"]
        for url in (badges["*"]["json"], check["badge_url"]):
            _ok(send(api_event("GET", urlsplit(url).path)))
        _ok(api.get("channels/"))
        _ok(api.get(f"channels/{ops['id']}"))
        _ok(api.post(f"channels/{ops['id']}", {"name": "ops-2", "rotate_secret": True}))
        _ok(api.post(f"channels/{ops['id']}/test"), 202)
        _ok(api.get(f"channels/{ops['id']}/deliveries/"))
        _ok(api.delete(f"channels/{ops['id']}"))  # and off every check that had it
        _ok(api.delete(f"checks/{check['uuid']}"))


def _allowed(call: Grant, grants: set[Grant]) -> bool:
    action, resource = call
    # A Query of the channel partition is also allowed by a grant on the whole table.
    return call in grants or (resource == CHANNELS and (action, EVENTS) in grants)


def test_every_call_is_granted_and_every_grant_is_called(
    synth: Synth, aws: Aws, recorder: Recorder, receiver_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the monitor run through every function's flows on moto, calls recorded
    _run_the_monitor(aws, recorder, receiver_url, monkeypatch)
    assert set(recorder.calls) == set(HANDLERS)
    for handler, calls in recorder.calls.items():
        grants = granted(synth, handler)
        # Then no call would be refused in AWS
        refused = {call for call in calls if not _allowed(call, grants)}
        assert not refused, f"{handler} calls without a grant: {sorted(refused)}"
        # And the function may do nothing to the tables or the topic that it does not call
        spare = EXPECTED[handler] - calls
        assert not spare, f"{handler} is granted what it never calls: {sorted(spare)}"
