"""The store's single table definition builds the tables every environment uses."""

from __future__ import annotations

from tests.conftest import Aws


def test_checks_table_has_a_keys_only_slug_index(aws: Aws) -> None:
    # Given tables built from the store's definition
    # When we describe the checks table
    table = aws.dynamodb.describe_table(TableName=aws.checks_table)["Table"]
    # Then the slug index projects keys only, so pings never write to it
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "slug"
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
