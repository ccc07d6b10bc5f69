"""Expression placeholders and the reading of a failed conditional write, for every store.

Every conditional write in cronbeat fails one of two ways, and callers treat them differently:
- its condition failed, and DynamoDB hands back the item that won (`ALL_OLD`), or nothing when
  there is no such item: read that item and decide again;
- a concurrent transaction collided with it and nothing won yet: back off, then retry.
Anything else (throttling, validation) is not a lost race, and propagates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cronbeat.store.codec import Item, encode_value

_PLACEHOLDER = re.compile(r"[#:]\w+")


class Expression:
    """Collects `#name` and `:value` placeholders while an expression is built."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, label: str, value: Any) -> str:
        placeholder = f":{label}"
        self.values[placeholder] = value if isinstance(value, dict) else encode_value(value)
        return placeholder

    def request(self, condition: str, sets: list[str], removes: list[str]) -> dict[str, Any]:
        """The expression arguments with only the placeholders used: DynamoDB rejects others."""
        update = "SET " + ", ".join(sets)
        if removes:
            update += " REMOVE " + ", ".join(removes)
        used = set(_PLACEHOLDER.findall(condition + " " + update))
        return {
            "ConditionExpression": condition,
            "UpdateExpression": update,
            "ExpressionAttributeNames": {k: v for k, v in self.names.items() if k in used},
            "ExpressionAttributeValues": {k: v for k, v in self.values.items() if k in used},
        }


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to put in the same transaction as a check's write (history, outbox)."""

    table: str
    item: Item


class Lost(Exception):
    """A conditional write lost: to the stored `item` (None when there is none, or when
    `conflict` says a concurrent transaction collided and nothing won yet)."""

    def __init__(self, item: Item | None, *, conflict: bool) -> None:
        super().__init__("conflict" if conflict else "condition failed")
        self.item = item
        self.conflict = conflict


def lost_transaction(exc: Any) -> Lost | None:
    """What a cancelled TransactWriteItems lost to, or None when it was not a lost race.

    The first action of every transaction here is the write of the check, so its reason says
    whether the check's condition failed; a conflict on any action means back off and retry.
    """
    reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons") or []
    codes = [reason.get("Code") for reason in reasons]
    if codes and codes[0] == "ConditionalCheckFailed":
        return Lost(reasons[0].get("Item"), conflict=False)
    if "TransactionConflict" in codes:
        return Lost(None, conflict=True)
    return None
