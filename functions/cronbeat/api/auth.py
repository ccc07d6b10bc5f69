"""Who is calling: the API key from `X-Api-Key` (or, on POST, the body's `api_key`), checked.

As on Healthchecks.io: a key that is not 32 characters is "missing", an unknown key is "wrong",
and a read-only key on a write endpoint is "wrong" too (it is not a read-write key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cronbeat.api.errors import MISSING_KEY, WRONG_KEY, Unauthorized
from cronbeat.store.keys import KEY_LENGTH, ApiKeyStore


@dataclass(frozen=True, slots=True)
class Caller:
    prefix: str
    read_only: bool


def presented_key(headers: Mapping[str, str], method: str, json_body: Any) -> str:
    """The key the request carries; the header wins, as on Healthchecks.io."""
    for name, value in headers.items():
        if name.lower() == "x-api-key":
            return value
    if method == "POST" and isinstance(json_body, dict):
        value = json_body.get("api_key", "")
        return value if isinstance(value, str) else str(value)
    return ""


def authenticate(keys: ApiKeyStore, key: str, *, write: bool) -> Caller:
    """The caller behind `key`, or Unauthorized with Healthchecks.io's message."""
    if len(key) != KEY_LENGTH:
        raise Unauthorized(MISSING_KEY)
    record = keys.authenticate(key)
    if record is None or (write and record.read_only):
        raise Unauthorized(WRONG_KEY)
    return Caller(prefix=record.prefix, read_only=record.read_only)
