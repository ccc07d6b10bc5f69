"""Delivery records: one item per (alert, target), the state of that alert's delivery there.

The fan-out opens a `pending` record for every target as it enqueues the delivery, so the API
shows an alert's targets at once. The worker claims the record (a lease) before it sends, and
records the attempt after: a redelivered queue message finds `sent` or `failed` and sends
nothing, and a message handled twice at once finds the other worker's lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cronbeat.store.codec import Item, encode_value
from cronbeat.store.events import DELIVERY_PREFIX, TTL_ATTRIBUTE, delivery_sk, expires_at
from cronbeat.store.tables import DELIVERIES_INDEX

State = Literal["pending", "sent", "failed"]
PENDING: State = "pending"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one alert goes: the topic (`sns`) or a channel, by id and kind."""

    check_id: str
    flip_sk: str
    channel_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    check_id: str
    flip_sk: str
    channel_id: str
    kind: str
    state: State
    attempts: int
    created_ms: int
    updated_ms: int | None = None
    status_code: int | None = None
    error: str | None = None
    next_attempt_ms: int | None = None
    lease_until_ms: int | None = None

    @property
    def flip_at_ms(self) -> int:
        """The alert's time, from its flip key (`F#<13-digit ms>#<rev>`)."""
        return int(self.flip_sk.split("#")[1])


@dataclass(frozen=True, slots=True)
class Claimed:
    """The record is this worker's until the lease runs out; `attempts` made before this one."""

    attempts: int


@dataclass(frozen=True, slots=True)
class Finished:
    """Already sent or given up: nothing to do."""

    record: DeliveryRecord


@dataclass(frozen=True, slots=True)
class Leased:
    """Another worker holds the record for `remaining_ms` more."""

    remaining_ms: int


ClaimResult = Claimed | Finished | Leased


def _number(item: Item, name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


def record_from_item(item: Item) -> DeliveryRecord:
    state = item["state"]["S"]
    if state not in ("pending", "sent", "failed"):
        raise ValueError(f"unknown delivery state {state!r}")
    return DeliveryRecord(
        check_id=item["pk"]["S"],
        flip_sk=item["flip"]["S"],
        channel_id=item["channel"]["S"],
        kind=item.get("kind", {"S": ""})["S"],
        state=state,
        attempts=_number(item, "attempts") or 0,
        created_ms=_number(item, "created") or 0,
        updated_ms=_number(item, "updated"),
        status_code=_number(item, "status_code"),
        error=item["error"]["S"] if "error" in item else None,
        next_attempt_ms=_number(item, "next_attempt"),
        lease_until_ms=_number(item, "lease_until"),
    )


_NAMES = {
    "#type": "type",
    "#flip": "flip",
    "#channel": "channel",
    "#kind": "kind",
    "#state": "state",
    "#created": "created",
    "#expires": TTL_ATTRIBUTE,
}
_OPEN = (
    "SET #type = :type, #flip = :flip, #channel = :channel, #kind = :kind, "
    "#state = if_not_exists(#state, :pending), #created = if_not_exists(#created, :now), "
    "#expires = if_not_exists(#expires, :expires)"
)


class DeliveryStore:
    """Open, claim and record deliveries; list them by alert and by channel."""

    def __init__(self, dynamodb: Any, *, events_table: str, retention_days: int) -> None:
        self._db = dynamodb
        self._table = events_table
        self._retention_days = retention_days

    def _values(self, target: Target, now_ms: int) -> Item:
        return {
            ":type": {"S": "delivery"},
            ":flip": {"S": target.flip_sk},
            ":channel": {"S": target.channel_id},
            ":kind": {"S": target.kind},
            ":pending": {"S": PENDING},
            ":now": encode_value(now_ms),
            ":expires": encode_value(expires_at(now_ms, self._retention_days)),
        }

    def open(self, target: Target, now_ms: int) -> None:
        """Make the record `pending` unless it exists: a repeated fan-out changes nothing."""
        self._db.update_item(
            TableName=self._table,
            Key=self._key(target),
            UpdateExpression=_OPEN,
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=self._values(target, now_ms),
        )

    def claim(self, target: Target, now_ms: int, *, lease_ms: int) -> ClaimResult:
        """Take the delivery for `lease_ms`, unless it is finished or another worker holds it."""
        values = self._values(target, now_ms)
        values[":lease"] = encode_value(now_ms + lease_ms)
        try:
            reply = self._db.update_item(
                TableName=self._table,
                Key=self._key(target),
                UpdateExpression=f"{_OPEN}, #lease = :lease",
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(#state = :pending AND (attribute_not_exists(#lease) OR #lease < :now))"
                ),
                ExpressionAttributeNames={**_NAMES, "#lease": "lease_until"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as failed:
            old = record_from_item(failed.response["Item"])
            if old.state == PENDING:
                return Leased(max((old.lease_until_ms or now_ms) - now_ms, 0))
            return Finished(old)
        return Claimed(_number(reply["Attributes"], "attempts") or 0)

    def record(
        self,
        target: Target,
        *,
        state: State,
        at_ms: int,
        status_code: int | None = None,
        error: str | None = None,
        next_attempt_ms: int | None = None,
    ) -> None:
        """Store one attempt's outcome (counting it) and release the lease."""
        names = {
            "#state": "state",
            "#attempts": "attempts",
            "#at": "updated",
            "#lease": "lease_until",
        }
        values: Item = {":state": {"S": state}, ":one": encode_value(1), ":at": encode_value(at_ms)}
        sets = ["#state = :state", "#at = :at"]
        removes = ["#lease"]
        for attribute, value in (
            ("status_code", status_code),
            ("error", error),
            ("next_attempt", next_attempt_ms),
        ):
            names[f"#{attribute}"] = attribute
            if value is None:
                removes.append(f"#{attribute}")
            else:
                sets.append(f"#{attribute} = :{attribute}")
                values[f":{attribute}"] = encode_value(value)
        self._db.update_item(
            TableName=self._table,
            Key=self._key(target),
            UpdateExpression=(
                f"SET {', '.join(sets)} ADD #attempts :one REMOVE {', '.join(removes)}"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def get(self, target: Target) -> DeliveryRecord | None:
        reply = self._db.get_item(TableName=self._table, Key=self._key(target), ConsistentRead=True)
        return record_from_item(reply["Item"]) if "Item" in reply else None

    def for_flips(self, check_id: str, flip_sks: list[str]) -> dict[str, list[DeliveryRecord]]:
        """The deliveries of each of the check's flips in `flip_sks` (one Query for all)."""
        if not flip_sks:
            return {}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": check_id},
                ":low": {"S": f"{DELIVERY_PREFIX}{min(flip_sks)}"},
                ":high": {"S": f"{DELIVERY_PREFIX}{max(flip_sks)}#~"},
            },
        }
        wanted = set(flip_sks)
        found: dict[str, list[DeliveryRecord]] = {sk: [] for sk in flip_sks}
        while True:
            page = self._db.query(**request)
            for item in page.get("Items", []):
                record = record_from_item(item)
                if record.flip_sk in wanted:
                    found[record.flip_sk].append(record)
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def for_channel(self, channel_id: str, *, limit: int = 50) -> list[DeliveryRecord]:
        """The channel's latest deliveries, newest alert first (eventually consistent)."""
        reply = self._db.query(
            TableName=self._table,
            IndexName=DELIVERIES_INDEX,
            KeyConditionExpression="#channel = :channel",
            ExpressionAttributeNames={"#channel": "channel"},
            ExpressionAttributeValues={":channel": {"S": channel_id}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [record_from_item(item) for item in reply.get("Items", [])]

    @staticmethod
    def _key(target: Target) -> Item:
        return {
            "pk": {"S": target.check_id},
            "sk": {"S": delivery_sk(target.flip_sk, target.channel_id)},
        }
