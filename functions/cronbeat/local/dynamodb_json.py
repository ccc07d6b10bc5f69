"""Items as DynamoDB JSON, the way streams and table exports write them: binary values in base64.

boto3's low-level client hands binary attributes over as `bytes`, which JSON cannot carry.
"""

from __future__ import annotations

import base64
from typing import Any

Item = dict[str, dict[str, Any]]


def dump_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, raw), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64encode(raw).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in raw]}
    if kind == "M":
        return {"M": dump_item(raw)}
    if kind == "L":
        return {"L": [dump_value(v) for v in raw]}
    return {kind: raw}


def load_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, raw), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(raw, validate=True)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b, validate=True) for b in raw]}
    if kind == "M":
        return {"M": load_item(raw)}
    if kind == "L":
        return {"L": [load_value(v) for v in raw]}
    return {kind: raw}


def dump_item(item: Item) -> Item:
    return {name: dump_value(value) for name, value in item.items()}


def load_item(item: Item) -> Item:
    return {name: load_value(value) for name, value in item.items()}
