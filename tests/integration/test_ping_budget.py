"""The ping write budget, counted at botocore: what each kind of ping costs in DynamoDB calls."""

from __future__ import annotations

import pytest

from tests.conftest import Aws
from tests.integration.ping_requests import (
    CHECK_ID,
    PING_KEY,
    Call,
    dynamodb_calls,
    flips,
    history,
    operations,
    put_check,
    send,
    set_ping_key,
    stored_check,
)

URL = f"/ping/{CHECK_ID}"
RID = "3f2b8c1e-9d4a-4e7b-8c6d-5a1f0e2d3b4c"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (URL, None),
        (f"{URL}/0", None),
        (f"{URL}/start", None),
        (f"{URL}/start", {"rid": RID}),
        (f"{URL}/log", None),
    ],
)
def test_a_common_ping_is_one_conditional_update_and_one_put(
    aws: Aws, path: str, query: dict[str, str] | None
) -> None:
    # Given an up check with no run open
    put_check(aws, status="up", last_ping_ms=1_000)
    # When a ping that cannot change its status arrives
    with dynamodb_calls() as calls:
        response = send(path, query=query)
    # Then it costs exactly one conditional UpdateItem and one PutItem of the history item
    assert response["statusCode"] == 200
    assert operations(calls) == ["UpdateItem", "PutItem"]
    update, put = calls
    assert "ConditionExpression" in update.params
    assert update.params["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert put.params["Item"]["sk"]["S"].startswith("P#")
    assert stored_check(aws).n_pings == 1


def test_a_finish_closing_its_run_by_rid_stays_on_the_fast_path(aws: Aws) -> None:
    # Given an up check with a run open under a rid
    put_check(aws, status="up", last_ping_ms=1_000)
    send(f"{URL}/start", query={"rid": RID})
    # When the run's success arrives
    with dynamodb_calls() as calls:
        send(URL, query={"rid": RID})
    # Then it is still one update and one put, and the duration is recorded
    assert operations(calls) == ["UpdateItem", "PutItem"]
    assert "duration" in history(aws)[-1]


def test_a_status_change_is_one_transaction_after_the_refused_update(aws: Aws) -> None:
    # Given a new check
    put_check(aws)
    # When its first ping arrives (new -> up)
    with dynamodb_calls() as calls:
        send(URL)
    # Then the refused fast path handed back the item, so no read was needed,
    # and the check, the history item and the flip were written in one transaction
    assert operations(calls) == ["UpdateItem", "TransactWriteItems"]
    items = calls[1].params["TransactItems"]
    assert [next(iter(i)) for i in items] == ["Update", "Put", "Put"]
    assert "rev" in items[0]["Update"]["ExpressionAttributeNames"].values()
    assert len(flips(aws)) == 1


def test_a_failure_that_flips_is_refused_once_then_writes_one_transaction(aws: Aws) -> None:
    # Given an up check
    put_check(aws, status="up", last_ping_ms=1_000)
    # When a failure arrives (the read-free plan expects a check already down)
    with dynamodb_calls() as calls:
        send(f"{URL}/fail")
    # Then the refused update hands back the item, and one transaction writes the flip
    assert operations(calls) == ["UpdateItem", "TransactWriteItems"]
    assert len(calls[1].params["TransactItems"]) == 3
    assert stored_check(aws).status == "down"


def test_failures_through_an_outage_cost_one_update_and_one_put(aws: Aws) -> None:
    # Given a check already down
    put_check(aws, status="down", last_ping_ms=1_000, failure_streak=1)
    # When the job keeps failing
    with dynamodb_calls() as calls:
        send(f"{URL}/fail")
        send(f"{URL}/3")
    # Then each failure is the common case: one update and one history item, no read
    assert operations(calls) == ["UpdateItem", "PutItem"] * 2
    assert stored_check(aws).failure_streak == 3
    assert stored_check(aws).last_exit == 3


def test_start_then_finish_without_rid_costs_one_update_and_one_put_each(aws: Aws) -> None:
    # Given an up check, and a job reporting start and finish the plain curl way (no rid)
    put_check(aws, status="up", last_ping_ms=1_000)
    # When it starts and then succeeds
    with dynamodb_calls() as calls:
        send(f"{URL}/start")
        send(f"{URL}/0")
    # Then both pings take the read-free path, and the run's duration is recorded
    assert operations(calls) == ["UpdateItem", "PutItem"] * 2
    check = stored_check(aws)
    assert not check.started
    assert check.last_duration_ms is not None


def test_a_slug_ping_adds_one_index_query(aws: Aws) -> None:
    # Given an up check with a slug
    set_ping_key(aws)
    put_check(aws, status="up", slug="db-backup", last_ping_ms=1_000)
    # When it is pinged by slug
    with dynamodb_calls() as calls:
        send(f"/ping/{PING_KEY}/db-backup")
    # Then the only extra call is one query on the slug index
    assert operations(calls) == ["Query", "UpdateItem", "PutItem"]
    assert calls[0].params["IndexName"] == "slug"


def _updated_attributes(calls: list[Call]) -> set[str]:
    """Every attribute an UpdateItem, or a transaction's Update, names."""
    updates = [c.params for c in calls if c.operation == "UpdateItem"]
    for call in calls:
        if call.operation == "TransactWriteItems":
            updates.extend(i["Update"] for i in call.params["TransactItems"] if "Update" in i)
    return {name for u in updates for name in u.get("ExpressionAttributeNames", {}).values()}


def test_pings_never_write_the_slug_index_key(aws: Aws) -> None:
    # Given an up check with a slug
    set_ping_key(aws)
    put_check(aws, status="up", slug="db-backup", last_ping_ms=1_000)
    before = aws.dynamodb.get_item(TableName=aws.checks_table, Key={"id": {"S": CHECK_ID}})
    # When it is pinged by slug on the fast path, fails, and recovers in transactions
    with dynamodb_calls() as calls:
        for suffix in ("", "/start", "/fail", ""):
            send(f"/ping/{PING_KEY}/db-backup{suffix}")
    # Then both kinds of update were made, and neither named the index's key
    assert {"UpdateItem", "TransactWriteItems"} <= set(operations(calls))
    written = _updated_attributes(calls)
    assert "n_pings" in written
    assert "slug_key" not in written
    after = aws.dynamodb.get_item(TableName=aws.checks_table, Key={"id": {"S": CHECK_ID}})
    assert after["Item"]["slug_key"] == before["Item"]["slug_key"]
    assert stored_check(aws).n_pings == 4


def test_a_ping_to_an_unknown_check_costs_one_refused_update(aws: Aws) -> None:
    # Given no check
    # When an unknown UUID is pinged
    with dynamodb_calls() as calls:
        response = send(URL)
    # Then the refused update is all it costs, and it created nothing
    assert response["statusCode"] == 404
    assert operations(calls) == ["UpdateItem"]
    assert aws.dynamodb.scan(TableName=aws.checks_table)["Count"] == 0


def test_bad_input_makes_no_dynamodb_call(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When malformed pings arrive
    with dynamodb_calls() as calls:
        send(f"{URL}/256")
        send(URL, query={"rid": "12345"})
        send("/ping/garbage")
    # Then nothing was read or written
    assert calls == []


def _item_bytes(item: dict[str, dict[str, object]]) -> int:
    """An upper bound of DynamoDB's item size: names plus values as UTF-8 text or bytes."""
    size = 0
    for name, value in item.items():
        [(_, raw)] = value.items()
        size += len(name.encode()) + (
            len(raw) if isinstance(raw, bytes) else len(str(raw).encode())
        )
    return size


def test_a_ping_item_without_a_body_is_one_write_unit(aws: Aws) -> None:
    # Given a check whose run is open under a rid
    put_check(aws, status="up", last_ping_ms=1_000)
    send(f"{URL}/start", query={"rid": RID})
    # When the longest body-less ping arrives: every recorded field at its limit
    send(
        f"{URL}/255",
        query={"rid": RID},
        headers={
            "user-agent": "u" * 5000,
            "x-forwarded-for": "f" * 5000,
            "x-forwarded-proto": "p" * 5000,
        },
    )
    # Then its history item stays under 1 KB
    finish = history(aws)[-1]
    assert "duration" in finish
    assert _item_bytes(finish) < 1024


def full_window_check(aws: Aws, durations_ms: tuple[int, ...]) -> None:
    """An up check judged for slowness (factor 2, window 20), its 21 durations known."""
    put_check(
        aws, status="up", last_ping_ms=1_000, slow_factor=2.0, recent_durations_ms=durations_ms
    )


def test_a_finish_on_a_full_duration_window_is_still_one_update_and_one_put(aws: Aws) -> None:
    # Given a check judged for slowness whose window of 20 runs of about 60 s is full
    full_window_check(aws, tuple(60_000 + n for n in range(21)))
    send(f"{URL}/start", query={"rid": RID})
    # When the run's success arrives, in the usual time
    with dynamodb_calls() as calls:
        send(URL, query={"rid": RID})
    # Then it costs one update and one put, and no read: the update's reply was judged
    assert operations(calls) == ["UpdateItem", "PutItem"]
    assert calls[0].params["ReturnValues"] == "ALL_NEW"
    # And the window moved on by one run, keeping its length
    window = stored_check(aws).recent_durations_ms
    assert len(window) == 21
    assert window[:-1] == tuple(60_000 + n for n in range(1, 21))
