"""Item sizes by DynamoDB's billing rules: what a write or a scan of an item costs.

Rules (DynamoDB developer guide, "Item sizes and formats"): an attribute costs the UTF-8 length of
its name plus its value; strings cost their UTF-8 length, binary its length, numbers about one byte
per two significant digits plus one, booleans and nulls one byte, and maps and lists three bytes
plus one byte per element on top of their contents.
"""

from __future__ import annotations

import math
from typing import Any

from cronbeat.store.codec import Item

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096


def _number_bytes(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_bytes(value: dict[str, Any]) -> int:
    """Size of one attribute value in the low-level format."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_bytes(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_bytes(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_bytes(v) + 1 for v in inner)
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_bytes(n) for n in inner)
    raise ValueError(f"unknown attribute type {kind!r}")


def item_bytes(item: Item) -> int:
    """Size of a whole item: every attribute name plus its value."""
    return sum(len(name.encode("utf-8")) + value_bytes(value) for name, value in item.items())


def write_units(item: Item) -> int:
    return max(1, math.ceil(item_bytes(item) / WRITE_UNIT_BYTES))
