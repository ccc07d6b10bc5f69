"""Ping requests as API Gateway delivers them (the sample events in `events/`), and what they left.

Shared by the `test_ping_*` modules: build and send events through the real handler, count the
DynamoDB calls it makes, and read back the check, its history and its flips.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cronbeat import runtime
from cronbeat.domain.model import Check
from cronbeat.service.ping import PingService
from cronbeat.store.checks import CheckRepository
from cronbeat.store.codec import from_item
from cronbeat.store.events import PROJECT_PK
from cronbeat.store.project import PING_KEY_ATTRIBUTE
from cronbeat.stores import Stores, build_stores
from tests.conftest import Aws

EVENTS = Path(__file__).resolve().parents[2] / "events"
CHECK_ID = "8f3c6f2e-4b7a-4d1e-9c55-2a7e0d3b9f61"
"""The check the sample events ping."""
PING_KEY = "q8Xr2kLmN4pZ7tVb1cYw0A"
"""The project ping key in the sample slug event."""
SAMPLE_EVENTS = (
    "ping_get_success",
    "ping_post_body",
    "ping_base64_body",
    "ping_start_rid",
    "ping_exit_code",
    "ping_slug_create",
    "ping_bad_path",
)


@dataclass(frozen=True)
class LambdaContext:
    """The attributes Powertools reads from Lambda's context object."""

    function_name: str = "cronbeat-ping"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cronbeat-ping"
    aws_request_id: str = "0d3f6a8e-2b1c-4e5f-9a7b-1c2d3e4f5a6b"


def load_event(name: str) -> dict[str, Any]:
    """A sample event, with a request id of its own, as API Gateway gives every request.

    (A repeated request id is how a ping recognises the SDK retrying its write.)
    """
    with (EVENTS / f"{name}.json").open() as f:
        event: dict[str, Any] = json.load(f)
    if "requestContext" in event:
        event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    return event


def ping_event(
    path: str,
    *,
    method: str = "GET",
    query: dict[str, str] | None = None,
    body: bytes | str | None = None,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
    drop_headers: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The sample GET event, changed: its path, method, query, body and headers."""
    event = copy.deepcopy(load_event("ping_get_success"))
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = {"proxy": path.removeprefix("/ping/")}
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    for name in drop_headers:
        event["headers"].pop(name, None)
    event["headers"].update(headers or {})
    if body is not None:
        if base64_body:
            raw = body.encode() if isinstance(body, str) else body
            event["body"] = base64.b64encode(raw).decode()
            event["isBase64Encoded"] = True
        else:
            assert isinstance(body, str)
            event["body"] = body
    return event


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    """Run the ping handler on `event`, as Lambda would."""
    from cronbeat.handlers.ping import handler

    return handler(event, LambdaContext())


def send(path: str, **changes: Any) -> dict[str, Any]:
    return invoke(ping_event(path, **changes))


def stores(aws: Aws) -> Stores:
    """Every store on the test's tables, as the handlers build them."""
    return build_stores(runtime.settings(), aws.dynamodb)


def store(aws: Aws) -> CheckRepository:
    return stores(aws).checks


def ping_service(aws: Aws, **options: Any) -> PingService:
    built = stores(aws)
    return PingService(built.checks, built.history, built.project, built.channels, **options)


def put_check(aws: Aws, check: Check | None = None, **changes: Any) -> Check:
    """Store a check (by default the one the sample events ping) as the API would create it."""
    check = replace(check or Check(id=CHECK_ID, name="backup"), **changes)
    store(aws).create(check, PING_KEY)
    return check


def set_ping_key(aws: Aws, key: str = PING_KEY) -> None:
    aws.dynamodb.put_item(
        TableName=aws.events_table,
        Item={
            "pk": {"S": PROJECT_PK},
            "sk": {"S": PROJECT_PK},
            "type": {"S": "project"},
            PING_KEY_ATTRIBUTE: {"S": key},
        },
    )


def stored_check(aws: Aws, check_id: str = CHECK_ID) -> Check:
    found = store(aws).get(check_id)
    assert found is not None, f"no check {check_id}"
    return found.check


def _events_of(aws: Aws, check_id: str, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": aws.events_table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": check_id}, ":prefix": {"S": prefix}},
        "ConsistentRead": True,
    }
    while True:
        page = aws.dynamodb.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def history(aws: Aws, check_id: str = CHECK_ID) -> list[dict[str, Any]]:
    """The check's ping items, oldest first."""
    return _events_of(aws, check_id, "P#")


def flips(aws: Aws, check_id: str = CHECK_ID) -> list[dict[str, Any]]:
    return _events_of(aws, check_id, "F#")


def all_checks(aws: Aws) -> list[Check]:
    return [from_item(item) for item in aws.dynamodb.scan(TableName=aws.checks_table)["Items"]]


@dataclass(frozen=True)
class Call:
    operation: str
    params: dict[str, Any]


@contextmanager
def dynamodb_calls() -> Iterator[list[Call]]:
    """Every DynamoDB API call the handler's client makes inside the block, in order."""
    calls: list[Call] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append(Call(model.name, copy.deepcopy(params)))

    client = runtime.dynamodb()
    client.meta.events.register("provide-client-params.dynamodb", record)
    try:
        yield calls
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", record)


def operations(calls: list[Call]) -> list[str]:
    return [call.operation for call in calls]
