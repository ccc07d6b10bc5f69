"""Check ⇄ DynamoDB item, in the low-level attribute-value format the client speaks.

Attributes at their default value are left out, which keeps a typical item near 300 bytes: the
scanner reads every item on every sweep, and read units are billed by item size.
"""

from __future__ import annotations

from typing import Any

from cronbeat.domain.model import Check

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

# Domain field → item attribute. Units live in the domain names; the item keeps DESIGN.md's names.
ATTRIBUTE = {
    "id": "id",
    "name": "name",
    "slug": "slug",
    "tags": "tags",
    "desc": "desc",
    "kind": "kind",
    "timeout_s": "timeout",
    "grace_s": "grace",
    "schedule": "schedule",
    "tz": "tz",
    "status": "status",
    "status_since_ms": "status_since",
    "last_ping_ms": "last_ping",
    "last_start_ms": "last_start",
    "last_start_rid": "last_start_rid",
    "last_exit": "last_exit",
    "last_duration_ms": "last_duration",
    "n_pings": "n_pings",
    "failure_streak": "failure_streak",
    "success_streak": "success_streak",
    "max_runtime_s": "max_runtime",
    "failure_threshold": "failure_threshold",
    "recovery_threshold": "recovery_threshold",
    "realert_every_s": "realert_every",
    "last_alert_ms": "last_alert_at",
    "manual_resume": "manual_resume",
    "methods": "methods",
    "filter_http_body": "filter_http_body",
    "success_kw": "success_kw",
    "failure_kw": "failure_kw",
    "start_kw": "start_kw",
    "filter_default_fail": "filter_default_fail",
    "channels": "channels",
    "created_ms": "created",
}
FIELD = {attribute: name for name, attribute in ATTRIBUTE.items()}
REVISION = "rev"
"""Bumped by every write to a check, so a read-modify-write can be conditioned on what it read."""
SLUG_KEY = "slug_key"

_DEFAULTS = Check(id="")
_ALWAYS = {"id", "status"}


def encode_value(value: str | int | bool) -> AttributeValue:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": value}


def decode_value(value: AttributeValue) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        return int(value["N"])
    if "BOOL" in value:
        return value["BOOL"]
    if "NULL" in value:
        return None
    raise ValueError(f"unsupported attribute value {value!r}")


def to_item(check: Check, *, rev: int | None = None, ping_key: str | None = None) -> Item:
    """The item for `check`, leaving out attributes at their default."""
    item: Item = {}
    for name, attribute in ATTRIBUTE.items():
        value = getattr(check, name)
        if value is None or (name not in _ALWAYS and value == getattr(_DEFAULTS, name)):
            continue
        item[attribute] = encode_value(value)
    if rev is not None:
        item[REVISION] = encode_value(rev)
    if ping_key and check.slug:
        item[SLUG_KEY] = encode_value(slug_key(ping_key, check.slug))
    return item


def from_item(item: Item) -> Check:
    """The check stored in `item` (attributes it lacks take their defaults)."""
    values: dict[str, Any] = {}
    for attribute, raw in item.items():
        name = FIELD.get(attribute)
        if name is not None:
            values[name] = decode_value(raw)
    if values.get("last_duration_ms") == 0:
        # The read-free ping path writes 0 when a finish closed no run: there is no duration.
        values["last_duration_ms"] = None
    return Check(**values)


def revision(item: Item) -> int:
    return int(item[REVISION]["N"]) if REVISION in item else 0


def slug_key(ping_key: str, slug: str) -> str:
    return f"{ping_key}/{slug}"
