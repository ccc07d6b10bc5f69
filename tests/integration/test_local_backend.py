"""Local mode's moto server: transactions undo only their own items, and writes are observed."""

from __future__ import annotations

from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from cronbeat.local.backend import atomic_dynamodb_requests
from tests.conftest import REGION, Aws


def item(dynamodb: Any, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    reply = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    found: dict[str, Any] | None = reply.get("Item")
    return found


def test_a_cancelled_transaction_puts_back_its_items_and_keeps_everyone_elses(
    moto_server_aws: Aws,
) -> None:
    dynamodb, table = moto_server_aws.dynamodb, moto_server_aws.events_table
    # Given an item a transaction will update, and many the transaction does not name
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    for n in range(30):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "other"}, "sk": {"S": f"{n:03}"}})
    # When a transaction updates it, puts a new item, and fails its last condition
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "other"}, "sk": {"S": "000"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    # Then the updated item is as it was, the new one is gone, and the others are untouched
    assert item(dynamodb, table, "a", "1") == {
        "pk": {"S": "a"},
        "sk": {"S": "1"},
        "v": {"N": "1"},
    }
    assert item(dynamodb, table, "a", "2") is None
    others = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "other"}},
    )
    assert others["Count"] == 30


def test_a_transaction_no_longer_copies_whole_tables() -> None:
    # Given local mode's request serialisation
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.table import Table

    table = object.__new__(
        cast(Any, Table)
    )  # a table is all the undo copies; its contents do not matter
    with atomic_dynamodb_requests():
        # Then the module's deep copy of a table (moto's undo) is the table itself, free
        assert dynamodb_models.copy.deepcopy(table) is table  # type: ignore[attr-defined]
        # And any other value is still copied
        value = {"nested": [1]}
        assert dynamodb_models.copy.deepcopy(value) is not value  # type: ignore[attr-defined]
    # And outside it, moto is as it was
    assert dynamodb_models.copy.deepcopy(table) is not table  # type: ignore[attr-defined]


def test_each_successful_write_is_observed_once_and_a_refused_one_never(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _provision

    seen: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    with atomic_dynamodb_requests(lambda operation, _, request: seen.append((operation, request))):
        aws = _provision(monkeypatch, moto_server)
        dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_server)
        table = aws.events_table
        key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
        seen.clear()
        # When a put succeeds, a conditional put is refused, and a read is made
        dynamodb.put_item(TableName=table, Item=key)
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            dynamodb.put_item(
                TableName=table, Item=key, ConditionExpression="attribute_not_exists(pk)"
            )
        dynamodb.get_item(TableName=table, Key=key)
    # Then the observer saw the one write that changed the table
    assert [(operation, request["Item"]) for operation, request in seen] == [("PutItem", key)]
