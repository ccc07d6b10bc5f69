"""No lost updates: many pings to one check at once, on the moto server (real HTTP, real races).

Lambda runs concurrent pings in separate processes, each with its own client; what they share is
DynamoDB. So these tests run the ping service below the Powertools router (which keeps the
current event in process-wide state and serves one request at a time, as Lambda does) from many
threads against the server, each thread a separate concurrent invocation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cronbeat import runtime
from cronbeat.api.ping_protocol import PingRequest, parse_request, reply_for
from cronbeat.domain.model import Check
from cronbeat.service.ping import MAX_ATTEMPTS, PingService, Recorded, default_service
from tests.conftest import Aws
from tests.integration.ping_requests import (
    CHECK_ID,
    PING_KEY,
    all_checks,
    flips,
    history,
    set_ping_key,
    store,
    stored_check,
)

T0 = 1_767_225_600_000


def _pinger(path: str, query: dict[str, str] | None = None) -> Callable[[int], Recorded]:
    service = default_service()
    request = parse_request(
        method="GET",
        path=path,
        query=query or {},
        headers={"user-agent": "curl/8.5.0"},
        source_ip="203.0.113.7",
        body=None,
        is_base64=False,
        body_limit_bytes=runtime.settings().ping_body_limit_bytes,
    )
    return lambda i: _record(service, request, T0 + i)


def _record(service: PingService, request: PingRequest, at_ms: int) -> Recorded:
    return service.record(
        request.address, request.ping, request.sender, create=request.create, at_ms=at_ms
    )


def _status(recorded: Recorded) -> int:
    return reply_for(recorded.outcome).status_code


def _all_at_once(count: int, ping: Callable[[int], Recorded]) -> list[Recorded]:
    """`count` pings released together from as many threads."""
    barrier = threading.Barrier(count, timeout=30)

    def one(i: int) -> Recorded:
        barrier.wait()
        return ping(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count), timeout=120))


def test_fifty_concurrent_pings_lose_nothing_and_flip_once(moto_server_aws: Aws) -> None:
    # Given a new check on the moto server
    store(moto_server_aws).create(Check(id=CHECK_ID, name="backup"), None)
    # When 50 success pings arrive at once
    results = _all_at_once(50, _pinger(f"/ping/{CHECK_ID}"))
    # Then every one succeeded and was counted, with its own history item
    assert {_status(r) for r in results} == {200}
    check = stored_check(moto_server_aws)
    assert (check.n_pings, check.success_streak, check.status) == (50, 50, "up")
    numbers = sorted(int(item["n"]["N"]) for item in history(moto_server_aws))
    assert numbers == list(range(1, 51))
    # And exactly one of them flipped the check up from new
    [flip] = flips(moto_server_aws)
    assert (flip["old"]["S"], flip["new"]["S"]) == ("new", "up")


def test_concurrent_failures_flip_down_once_and_count_every_failure(moto_server_aws: Aws) -> None:
    # Given an up check that goes down on its third consecutive failure
    check = Check(id=CHECK_ID, name="backup", status="up", failure_threshold=3)
    store(moto_server_aws).create(check, None)
    # When 12 failures arrive at once (no fast path: each is a read and a transaction)
    results = _all_at_once(12, _pinger(f"/ping/{CHECK_ID}/fail"))
    # Then all were recorded, the streak counts every one, and the check flipped down once
    assert {_status(r) for r in results} == {200}
    check = stored_check(moto_server_aws)
    assert (check.n_pings, check.failure_streak, check.status) == (12, 12, "down")
    assert len(history(moto_server_aws)) == 12
    [flip] = flips(moto_server_aws)
    assert (flip["old"]["S"], flip["new"]["S"], flip["reason"]["S"]) == ("up", "down", "fail")


def test_a_ping_that_loses_every_race_gives_up_with_503_and_records_nothing(aws: Aws) -> None:
    # Given an up check that another writer changes between every read and write of ours
    check = Check(id=CHECK_ID, name="backup", status="up")
    store(aws).create(check, None)
    db = runtime.dynamodb()
    sleeps: list[float] = []

    def rival_write(**_: object) -> None:
        aws.dynamodb.update_item(
            TableName=aws.checks_table,
            Key={"id": {"S": CHECK_ID}},
            UpdateExpression="SET rev = rev + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    db.meta.events.register("before-call.dynamodb.TransactWriteItems", rival_write)
    built = runtime.stores()
    service = PingService(
        built.checks, built.history, built.project, built.channels, sleep=sleeps.append
    )
    request = parse_request(
        method="GET",
        path=f"/ping/{CHECK_ID}/fail",
        query={},
        headers={},
        source_ip="203.0.113.7",
        body=None,
        is_base64=False,
        body_limit_bytes=100,
    )
    try:
        # When a failure ping is recorded
        recorded = _record(service, request, T0)
    finally:
        db.meta.events.unregister("before-call.dynamodb.TransactWriteItems", rival_write)
    # Then it gives up after the bounded attempts, backing off between them, and writes nothing
    assert _status(recorded) == 503
    assert 0 < len(sleeps) < MAX_ATTEMPTS
    assert max(sleeps) <= 0.1
    assert history(aws) == []
    assert stored_check(aws).n_pings == 0


def test_concurrent_creates_of_one_slug_make_one_check(moto_server_aws: Aws) -> None:
    # Given the project's ping key and no check with the slug
    set_ping_key(moto_server_aws)
    create = _pinger(f"/ping/{PING_KEY}/nightly", query={"create": "1"})
    # When ten pings with create=1 arrive at once
    results = _all_at_once(10, create)
    # Then one made the check and the others pinged it: no ambiguous slug later
    assert sorted(_status(r) for r in results) == [200] * 9 + [201]
    [check] = all_checks(moto_server_aws)
    assert (check.slug, check.n_pings) == ("nightly", 10)
