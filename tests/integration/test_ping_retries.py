"""A ping whose write the SDK retries after it committed is counted once and stored once.

Each test makes botocore retry one DynamoDB call after it succeeded, as it does when the reply
is lost on the way back: the write has happened, and the same request is sent again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cronbeat import runtime
from cronbeat.domain.model import Check
from tests.conftest import Aws
from tests.integration.ping_requests import (
    CHECK_ID,
    flips,
    history,
    invoke,
    ping_event,
    put_check,
    stored_check,
)


@contextmanager
def reply_lost_once(operation: str) -> Iterator[list[int]]:
    """Make the handlers' client send `operation` again after its first success."""
    client = runtime.dynamodb()
    retried: list[int] = []

    def retry_once(attempts: int, caught_exception: Exception | None, **_: Any) -> int | None:
        if caught_exception is None and not retried:
            retried.append(attempts)
            return 0  # seconds to wait before sending it again
        return None

    event = f"needs-retry.dynamodb.{operation}"
    client.meta.events.register_first(event, retry_once)
    try:
        yield retried
    finally:
        client.meta.events.unregister(event, retry_once)


def ping(path: str, request_id: str) -> dict[str, Any]:
    event = ping_event(path)
    event["requestContext"]["requestId"] = request_id
    return invoke(event)


def test_a_retried_fast_path_update_counts_the_ping_once(aws: Aws) -> None:
    # Given a check that is up, so a success takes the read-free path
    put_check(aws, Check(id=CHECK_ID, name="job", status="up", n_pings=3, last_ping_ms=1))
    # When the ping's UpdateItem is sent again after it committed
    with reply_lost_once("UpdateItem") as retried:
        reply = ping(f"/ping/{CHECK_ID}", "req-fast-1")
    # Then the ping succeeded, was counted once and stored once
    assert retried == [1]
    assert (reply["statusCode"], reply["body"]) == (200, "OK")
    assert stored_check(aws).n_pings == 4
    assert [item["n"]["N"] for item in history(aws)] == ["4"]


def test_a_retried_history_put_stores_the_ping_once(aws: Aws) -> None:
    put_check(aws, Check(id=CHECK_ID, name="job", status="up", n_pings=3, last_ping_ms=1))
    with reply_lost_once("PutItem") as retried:
        reply = ping(f"/ping/{CHECK_ID}", "req-put-1")
    assert retried == [1]
    assert reply["statusCode"] == 200
    assert stored_check(aws).n_pings == 4
    assert len(history(aws)) == 1


def test_a_retried_flip_transaction_flips_and_counts_once(aws: Aws) -> None:
    # Given a new check, whose first ping flips it up in one transaction
    put_check(aws, Check(id=CHECK_ID, name="job", status="new"))
    # When that transaction is sent again after it committed
    with reply_lost_once("TransactWriteItems") as retried:
        reply = ping(f"/ping/{CHECK_ID}", "req-flip-1")
    # Then one ping, one history item and one flip were written
    assert retried == [1]
    assert reply["statusCode"] == 200
    assert stored_check(aws).n_pings == 1
    assert len(history(aws)) == 1
    assert len(flips(aws)) == 1


@pytest.mark.parametrize("operation", ["UpdateItem", "TransactWriteItems"])
def test_two_requests_are_two_pings_even_when_one_was_retried(aws: Aws, operation: str) -> None:
    # Given a ping retried after its write committed
    put_check(aws, Check(id=CHECK_ID, name="job", status="new"))
    with reply_lost_once(operation):
        ping(f"/ping/{CHECK_ID}", "req-a")
    # When a second request comes (a new request id), and a third
    ping(f"/ping/{CHECK_ID}", "req-b")
    ping(f"/ping/{CHECK_ID}/fail", "req-c")
    # Then each request is counted: the guard is per request, not per check
    assert stored_check(aws).n_pings == 3
    assert len(history(aws)) == 3
