"""Management API keys, kept in the events table as digests only (pk `apikey`, sk = key prefix).

A key is 32 characters, as Healthchecks.io's are. Its first 8 characters are a non-secret prefix
that finds the item with one GetItem; the item holds a SHA-256 digest of the key, never the key,
so a leaked table does not leak working keys. Keys are 192 random bits, so no secret pepper is
needed to stop a digest being guessed back into a key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from cronbeat.store.codec import Item, encode_value
from cronbeat.store.events import APIKEY_PK
from cronbeat.store.pages import items

KEY_LENGTH = 32
PREFIX_LENGTH = 8
DIGEST_LABEL = b"cronbeat"
"""The HMAC key of every digest: a fixed, public label (not a secret), so the digests stored by
earlier versions, which used it as their default pepper, still match."""


class KeyConflict(ValueError):
    """Another key already uses this prefix."""


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What the table knows about a key: everything but the key itself."""

    prefix: str
    read_only: bool
    name: str = ""
    created_ms: int | None = None


def new_key() -> str:
    """A fresh 32-character URL-safe key (192 random bits, less a leading "-").

    A prefix starting with "-" would read as an option in `cronbeat keys revoke PREFIX`.
    """
    while (key := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return key


def valid_key_text(key: str) -> bool:
    """32 printable ASCII characters without spaces: what a header or a shell carries unchanged."""
    return len(key) == KEY_LENGTH and all("!" <= ch <= "~" for ch in key)


def _record(item: Item) -> ApiKeyRecord:
    return ApiKeyRecord(
        prefix=item["sk"]["S"],
        read_only=bool(item.get("read_only", {"BOOL": False})["BOOL"]),
        name=item.get("name", {"S": ""})["S"],
        created_ms=int(item["created"]["N"]) if "created" in item else None,
    )


class ApiKeyStore:
    """Create, check, list and revoke management API keys."""

    def __init__(self, dynamodb: Any, events_table: str) -> None:
        self._db = dynamodb
        self._table = events_table

    def digest(self, key: str) -> str:
        return hmac.new(DIGEST_LABEL, key.encode(), hashlib.sha256).hexdigest()

    def create(self, *, read_only: bool, name: str = "", key: str | None = None, at_ms: int) -> str:
        """Store a new key's digest and return the key, the only time it is ever shown.

        `key` fixes the key (local mode seeds known keys); creating the same key again is a no-op,
        while a different key with the same prefix raises KeyConflict.
        """
        plaintext = new_key() if key is None else key
        if not valid_key_text(plaintext):
            raise ValueError("an API key is 32 printable characters without spaces")
        prefix = plaintext[:PREFIX_LENGTH]
        item: Item = {
            "pk": {"S": APIKEY_PK},
            "sk": {"S": prefix},
            "type": {"S": "apikey"},
            "digest": {"S": self.digest(plaintext)},
            "read_only": encode_value(read_only),
            "name": {"S": name},
            "created": encode_value(at_ms),
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(sk) OR digest = :digest",
                ExpressionAttributeValues={":digest": item["digest"]},
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise KeyConflict(f"another key already uses the prefix {prefix!r}") from exc
        return plaintext

    def authenticate(self, key: str) -> ApiKeyRecord | None:
        """The record of `key` if it is a stored key, else None (one GetItem by prefix)."""
        if not valid_key_text(key):
            return None
        reply = self._db.get_item(
            TableName=self._table,
            Key={"pk": {"S": APIKEY_PK}, "sk": {"S": key[:PREFIX_LENGTH]}},
        )
        item = reply.get("Item")
        if not item or "digest" not in item:
            return None
        if not hmac.compare_digest(item["digest"]["S"], self.digest(key)):
            return None
        return _record(item)

    def all(self) -> list[ApiKeyRecord]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": APIKEY_PK}},
        }
        return [_record(item) for item in items(self._db.query, request)]

    def revoke(self, prefix: str) -> bool:
        """Delete the key with this prefix; False when there was none."""
        if not prefix:
            return False
        reply = self._db.delete_item(
            TableName=self._table,
            Key={"pk": {"S": APIKEY_PK}, "sk": {"S": prefix}},
            ReturnValues="ALL_OLD",
        )
        return bool(reply.get("Attributes"))
