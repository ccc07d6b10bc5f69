"""The store's single table definition builds the tables every environment uses."""

from __future__ import annotations

from tests.conftest import Aws


def test_checks_table_has_keys_only_slug_and_badge_indexes(aws: Aws) -> None:
    # Given tables built from the store's definition
    # When we describe the checks table
    table = aws.dynamodb.describe_table(TableName=aws.checks_table)["Table"]
    # Then the slug and badge indexes project keys only, so pings never write to them
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert sorted(indexes) == ["badge", "slug"]
    for index in indexes.values():
        assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_events_table_streams_new_images_and_expires_items(moto_server_aws: Aws) -> None:
    # Given tables built on the moto server
    db = moto_server_aws.dynamodb
    # When we describe the events table and its TTL
    table = db.describe_table(TableName=moto_server_aws.events_table)["Table"]
    ttl = db.describe_time_to_live(TableName=moto_server_aws.events_table)
    # Then the stream carries new images and TTL reads `expires_at`
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
