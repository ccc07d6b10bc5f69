"""The one definition of cronbeat's DynamoDB tables.

The CDK stack, local mode and the tests all build their tables from these specs, so a key or
index cannot drift between them. Plain data only: importing this module imports no AWS SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

AttributeType = Literal["S", "N"]
Projection = Literal["KEYS_ONLY", "ALL"]


@dataclass(frozen=True, slots=True)
class Key:
    partition: tuple[str, AttributeType]
    sort: tuple[str, AttributeType] | None = None


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    key: Key
    projection: Projection = "KEYS_ONLY"


@dataclass(frozen=True, slots=True)
class TableSpec:
    logical_name: str
    """Construct id in CDK, and the suffix of the table name locally."""
    key: Key
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream_new_image: bool = False


SLUG_INDEX = "slug"
"""KEYS_ONLY GSI on `slug_key` ("<ping key>/<slug>"): pings never change it, nor write it."""

BADGE_INDEX = "badge"
"""KEYS_ONLY GSI on `badge_key`: a public badge URL finds its check without a scan. Pings
never write the attribute, so they never write the index."""

DELIVERIES_INDEX = "deliveries"
"""GSI of delivery records by `channel`, sorted by `sk` (`D#F#<flip ms>…`): a channel's recent
deliveries, newest first. Sparse: no other item has a `channel` attribute."""

CHECKS = TableSpec(
    logical_name="Checks",
    key=Key(partition=("id", "S")),
    indexes=(
        Index(SLUG_INDEX, Key(partition=("slug_key", "S"))),
        Index(BADGE_INDEX, Key(partition=("badge_key", "S"))),
    ),
)

EVENTS = TableSpec(
    logical_name="Events",
    key=Key(partition=("pk", "S"), sort=("sk", "S")),
    indexes=(Index(DELIVERIES_INDEX, Key(("channel", "S"), ("sk", "S")), projection="ALL"),),
    ttl_attribute="expires_at",
    stream_new_image=True,
)

ALL_TABLES = (CHECKS, EVENTS)

ALERTING_ITEM_TYPES = ("flip", "reminder")
"""Events-table item types whose stream inserts become alerts: the stack's event source filter,
local mode's stream and the notifier all read this, so no other item ever invokes it."""


def _attribute_definitions(spec: TableSpec) -> list[dict[str, str]]:
    keys = [spec.key, *(index.key for index in spec.indexes)]
    seen: dict[str, str] = {}
    for key in keys:
        for name, kind in filter(None, (key.partition, key.sort)):
            seen[name] = kind
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in seen.items()]


def _key_schema(key: Key) -> list[dict[str, str]]:
    schema = [{"AttributeName": key.partition[0], "KeyType": "HASH"}]
    if key.sort is not None:
        schema.append({"AttributeName": key.sort[0], "KeyType": "RANGE"})
    return schema


def create_table_request(spec: TableSpec, table_name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's `create_table`, on-demand, as the stack deploys it."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _key_schema(spec.key),
        "AttributeDefinitions": _attribute_definitions(spec),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.key),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in spec.indexes
        ]
    if spec.stream_new_image:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    return request


def create_tables(client: Any, names: dict[str, str]) -> None:
    """Create every table (by logical name → table name) and set TTL where the spec has one."""
    for spec in ALL_TABLES:
        name = names[spec.logical_name]
        client.create_table(**create_table_request(spec, name))
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
