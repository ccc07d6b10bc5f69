"""The project item (pk = sk = `project` in the events table): the ping key of slug URLs, and
the key and secret of tag badge URLs.

A deployment is one project, so there is one of each. The ping key is random (22 URL-safe
characters, 128 bits) because it is all that stands between a slug URL and someone else's check.
The badge secret signs tag badge URLs and never leaves the item.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cronbeat.store.events import PROJECT_PK
from cronbeat.store.expressions import Expression

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
        return self._stored().get(PING_KEY_ATTRIBUTE)

    def ensure_ping_key(self) -> str:
        """The ping key, made on first use; concurrent callers all get the one that was stored."""
        return self._ensure({PING_KEY_ATTRIBUTE: new_ping_key})[PING_KEY_ATTRIBUTE]

    def badge_keys(self) -> BadgeKeys:
        """The badge key and secret, made together on first use."""
        stored = self._ensure(
            {
                BADGE_KEY_ATTRIBUTE: lambda: str(uuid.uuid4()),
                BADGE_SECRET_ATTRIBUTE: lambda: secrets.token_urlsafe(32),
            }
        )
        return BadgeKeys(stored[BADGE_KEY_ATTRIBUTE], stored[BADGE_SECRET_ATTRIBUTE])

    def _stored(self) -> dict[str, str]:
        """The project item's string attributes; empty before anything was stored."""
        reply = self._db.get_item(TableName=self._table, Key=_KEY, ConsistentRead=True)
        return _strings(reply.get("Item", {}))

    def _ensure(self, makers: dict[str, Callable[[], str]]) -> dict[str, str]:
        """The item's attributes, with each of `makers` made and stored where it is missing.

        One read when all are there. Otherwise one UpdateItem: if_not_exists keeps what a
        concurrent caller stored, so every caller gets the same values back.
        """
        stored = self._stored()
        if all(name in stored for name in makers):
            return stored
        x = Expression()
        sets = [f"{x.name('type')} = {x.value('type', 'project')}"]
        for name, make in makers.items():
            sets.append(f"{x.name(name)} = if_not_exists({x.name(name)}, {x.value(name, make())})")
        reply = self._db.update_item(
            TableName=self._table,
            Key=_KEY,
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=x.names,
            ExpressionAttributeValues=x.values,
            ReturnValues="ALL_NEW",
        )
        return _strings(reply["Attributes"])


def _strings(item: dict[str, Any]) -> dict[str, str]:
    return {name: value["S"] for name, value in item.items() if "S" in value}
