"""The notifier's records: one delivery item per (alert, channel), and the last output of a check.

The stream hands each flip to the notifier at least once. A delivery record claimed with a
condition before sending means a retried batch skips every channel that already has the alert,
while a channel whose earlier attempt failed (or never finished) can be tried again.
"""

from __future__ import annotations

from typing import Any, Literal

from cronbeat.store.codec import Item, encode_value
from cronbeat.store.events import TTL_ATTRIBUTE, delivery_sk, expires_at

Outcome = Literal["delivered", "failed-permanent", "failed-retryable"]
PENDING = "pending"
RETRYABLE: Outcome = "failed-retryable"


class DeliveryStore:
    """Claim a delivery before sending, record how it went, and find the output to quote."""

    def __init__(self, dynamodb: Any, *, events_table: str, retention_days: int) -> None:
        self._db = dynamodb
        self._table = events_table
        self._retention_days = retention_days

    def claim(self, check_id: str, flip_sk: str, channel_id: str, at_ms: int) -> bool:
        """Take the (alert, channel) delivery; False if it was already delivered or gave up.

        A record left `pending` (an attempt that never finished) or `failed-retryable` is
        claimed again, so a retried batch resends only what did not arrive.
        """
        names = {
            "#type": "type",
            "#flip": "flip",
            "#channel": "channel",
            "#outcome": "outcome",
            "#claimed": "claimed_at",
            "#expires": TTL_ATTRIBUTE,
        }
        values: Item = {
            ":type": {"S": "delivery"},
            ":flip": {"S": flip_sk},
            ":channel": {"S": channel_id},
            ":pending": {"S": PENDING},
            ":retryable": {"S": RETRYABLE},
            ":claimed": encode_value(at_ms),
            ":expires": encode_value(expires_at(at_ms, self._retention_days)),
        }
        try:
            # An update rather than a put keeps the attempts and errors of earlier invocations.
            self._db.update_item(
                TableName=self._table,
                Key=self._key(check_id, flip_sk, channel_id),
                UpdateExpression=(
                    "SET #type = :type, #flip = :flip, #channel = :channel, #outcome = :pending, "
                    "#claimed = :claimed, #expires = :expires"
                ),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #outcome = :pending OR #outcome = :retryable"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_outcome(
        self,
        check_id: str,
        flip_sk: str,
        channel_id: str,
        *,
        outcome: Outcome,
        attempts: int,
        status_code: int | None = None,
        error: str | None = None,
        at_ms: int,
    ) -> None:
        """Store how the delivery went; `attempts` adds to those of earlier invocations."""
        names = {"#outcome": "outcome", "#attempts": "attempts", "#at": "finished_at"}
        values: Item = {
            ":outcome": {"S": outcome},
            ":attempts": encode_value(attempts),
            ":at": encode_value(at_ms),
        }
        sets = ["#outcome = :outcome", "#at = :at"]
        removes = []
        for attribute, value in (("status_code", status_code), ("error", error)):
            names[f"#{attribute}"] = attribute
            if value is None:
                removes.append(f"#{attribute}")
            else:
                sets.append(f"#{attribute} = :{attribute}")
                values[f":{attribute}"] = encode_value(value)
        update = f"SET {', '.join(sets)} ADD #attempts :attempts"
        if removes:
            update += f" REMOVE {', '.join(removes)}"
        self._db.update_item(
            TableName=self._table,
            Key=self._key(check_id, flip_sk, channel_id),
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def get(self, check_id: str, flip_sk: str, channel_id: str) -> Item | None:
        """The delivery record, as stored (for the API's history and for tests)."""
        reply = self._db.get_item(
            TableName=self._table,
            Key=self._key(check_id, flip_sk, channel_id),
            ConsistentRead=True,
        )
        item: Item | None = reply.get("Item")
        return item

    @staticmethod
    def _key(check_id: str, flip_sk: str, channel_id: str) -> Item:
        return {"pk": {"S": check_id}, "sk": {"S": delivery_sk(flip_sk, channel_id)}}
