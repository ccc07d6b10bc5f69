"""The project item (pk = sk = `project` in the events table): the ping key of slug URLs, and
the key and secret of tag badge URLs.

A deployment is one project, so there is one of each. The ping key is random (22 URL-safe
characters, 128 bits) because it is all that stands between a slug URL and someone else's check.
The badge secret signs tag badge URLs and never leaves the item.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from cronbeat.store.events import PROJECT_PK

PING_KEY_ATTRIBUTE = "ping_key"
BADGE_KEY_ATTRIBUTE = "badge_key"
BADGE_SECRET_ATTRIBUTE = "badge_secret"  # noqa: S105 (an attribute name)
_KEY = {"pk": {"S": PROJECT_PK}, "sk": {"S": PROJECT_PK}}


def new_ping_key() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class BadgeKeys:
    key: str
    """Public: it names the project in tag badge URLs."""
    secret: str


class ProjectStore:
    def __init__(self, dynamodb: Any, events_table: str) -> None:
        self._db = dynamodb
        self._table = events_table

    def ping_key(self) -> str | None:
        """The project's ping key, or None before one was made."""
        reply = self._db.get_item(TableName=self._table, Key=_KEY, ConsistentRead=True)
        item = reply.get("Item")
        if not item or PING_KEY_ATTRIBUTE not in item:
            return None
        key: str = item[PING_KEY_ATTRIBUTE]["S"]
        return key

    def ensure_ping_key(self) -> str:
        """The ping key, made on first use; concurrent callers all get the one that was stored."""
        existing = self.ping_key()
        if existing is not None:
            return existing
        return self._ensure({PING_KEY_ATTRIBUTE: new_ping_key()})[PING_KEY_ATTRIBUTE]

    def badge_keys(self) -> BadgeKeys:
        """The badge key and secret, made together on first use."""
        reply = self._db.get_item(TableName=self._table, Key=_KEY, ConsistentRead=True)
        stored = {name: value["S"] for name, value in reply.get("Item", {}).items() if "S" in value}
        if BADGE_KEY_ATTRIBUTE not in stored or BADGE_SECRET_ATTRIBUTE not in stored:
            stored = self._ensure(
                {
                    BADGE_KEY_ATTRIBUTE: str(uuid.uuid4()),
                    BADGE_SECRET_ATTRIBUTE: secrets.token_urlsafe(32),
                }
            )
        return BadgeKeys(stored[BADGE_KEY_ATTRIBUTE], stored[BADGE_SECRET_ATTRIBUTE])

    def _ensure(self, fresh: dict[str, str]) -> dict[str, str]:
        """Store each of `fresh` unless the item has it already; return what the item holds.

        One UpdateItem: if_not_exists keeps what a concurrent caller stored, so every caller
        gets the same values back.
        """
        names = {f"#a{i}": name for i, name in enumerate(fresh)}
        sets = ["#type = :type"] + [f"{n} = if_not_exists({n}, :v{n[2:]})" for n in names]
        values = {f":v{i}": {"S": value} for i, value in enumerate(fresh.values())}
        reply = self._db.update_item(
            TableName=self._table,
            Key=_KEY,
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames={"#type": "type", **names},
            ExpressionAttributeValues={":type": {"S": "project"}, **values},
            ReturnValues="ALL_NEW",
        )
        return {name: value["S"] for name, value in reply["Attributes"].items() if "S" in value}
