"""Channel items in the events table (pk `channel`, sk = channel id)."""

from __future__ import annotations

from typing import Any

from cronbeat.domain.channel import CHANNEL_KINDS, Channel, ChannelKind
from cronbeat.store.codec import Item, encode_value
from cronbeat.store.events import CHANNEL_PK
from cronbeat.store.pages import items


def to_item(channel: Channel) -> Item:
    item: Item = {
        "pk": {"S": CHANNEL_PK},
        "sk": {"S": channel.id},
        "type": {"S": "channel"},
        "kind": {"S": channel.kind},
        "name": {"S": channel.name},
        "config": {"M": {k: {"S": v} for k, v in channel.config.items()}},
    }
    if channel.created_ms is not None:
        item["created"] = encode_value(channel.created_ms)
    return item


def from_item(item: Item) -> Channel:
    kind = item["kind"]["S"]
    if kind not in CHANNEL_KINDS:
        raise ValueError(f"unknown channel kind {kind!r}")
    channel_kind: ChannelKind = kind
    return Channel(
        id=item["sk"]["S"],
        kind=channel_kind,
        name=item.get("name", {"S": ""})["S"],
        config={k: v["S"] for k, v in item.get("config", {"M": {}})["M"].items()},
        created_ms=int(item["created"]["N"]) if "created" in item else None,
    )


class ChannelStore:
    """Create, list and delete channels; fetch a check's channels for the notifier."""

    def __init__(self, dynamodb: Any, events_table: str) -> None:
        self._db = dynamodb
        self._table = events_table

    def put(self, channel: Channel) -> None:
        self._db.put_item(TableName=self._table, Item=to_item(channel))

    def replace(self, channel: Channel) -> bool:
        """Store the channel's new settings; False when it was deleted meanwhile."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=to_item(channel),
                ConditionExpression="attribute_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, channel_id: str) -> Channel | None:
        found = self.get_many([channel_id])
        return found[0] if found else None

    def delete(self, channel_id: str) -> Channel | None:
        """Remove a channel; return it, or None if there was none."""
        reply = self._db.delete_item(
            TableName=self._table,
            Key={"pk": {"S": CHANNEL_PK}, "sk": {"S": channel_id}},
            ReturnValues="ALL_OLD",
        )
        old = reply.get("Attributes")
        return from_item(old) if old else None

    def all(self) -> list[Channel]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": CHANNEL_PK}},
        }
        return [from_item(item) for item in items(self._db.query, request)]

    def get_many(self, channel_ids: list[str]) -> list[Channel]:
        """The channels that still exist among `channel_ids`, in that order."""
        if not channel_ids:
            return []
        found: dict[str, Channel] = {}
        for start in range(0, len(channel_ids), 100):
            keys = [
                {"pk": {"S": CHANNEL_PK}, "sk": {"S": cid}}
                for cid in dict.fromkeys(channel_ids[start : start + 100])
            ]
            request: dict[str, Any] = {self._table: {"Keys": keys}}
            while request:
                reply = self._db.batch_get_item(RequestItems=request)
                for item in reply.get("Responses", {}).get(self._table, []):
                    channel = from_item(item)
                    found[channel.id] = channel
                request = reply.get("UnprocessedKeys") or {}
        return [found[cid] for cid in channel_ids if cid in found]
