"""The project item (pk = sk = `project` in the events table): the ping key of slug URLs.

A deployment is one project, so there is one ping key. It is random (22 URL-safe characters,
128 bits) because it is all that stands between a slug URL and someone else's check.
"""

from __future__ import annotations

import secrets
from typing import Any

from cronbeat.store.events import PROJECT_PK

PING_KEY_ATTRIBUTE = "ping_key"
_KEY = {"pk": {"S": PROJECT_PK}, "sk": {"S": PROJECT_PK}}


def new_ping_key() -> str:
    return secrets.token_urlsafe(16)


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
        key = new_ping_key()
        try:
            self._db.put_item(
                TableName=self._table,
                Item={**_KEY, "type": {"S": "project"}, PING_KEY_ATTRIBUTE: {"S": key}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            stored = self.ping_key()
            if stored is None:
                raise
            return stored
        return key
