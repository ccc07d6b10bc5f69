"""Check ⇄ DynamoDB item, in the low-level attribute-value format the client speaks.

Attributes at their default value are left out, which keeps a typical item near 300 bytes: the
scanner reads every item on every sweep, and read units are billed by item size.
"""

from __future__ import annotations

from typing import Any

from cronbeat.domain.model import STORED_NAMES, Check

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

ATTRIBUTE = STORED_NAMES
"""Domain field → item attribute, as the Check declares it."""
FIELD = {attribute: name for name, attribute in ATTRIBUTE.items()}
REVISION = "rev"
"""Bumped by every write to a check, so a read-modify-write can be conditioned on what it read."""
SLUG_KEY = "slug_key"

_DEFAULTS = Check(id="")
_ALWAYS = {"id", "status", "recent_durations_ms"}
"""Written even at their default: the read-free success appends to `durs` in place, which
needs the list to exist."""


def encode_value(value: str | int | float | bool | tuple[int, ...]) -> AttributeValue:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, tuple):
        return {"L": [{"N": str(number)} for number in value]}
    return {"S": value}


def decode_value(value: AttributeValue) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        number: str = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "L" in value:
        return tuple(decode_value(element) for element in value["L"])
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
