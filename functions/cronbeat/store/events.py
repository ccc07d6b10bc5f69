"""Keys and item shapes of the events table (single-table design).

| item | pk | sk | notes |
|---|---|---|---|
| ping | check id | `P#<n, 10 digits>` | history; TTL; `n` is the ping number |
| flip | check id | `F#<at ms, 13 digits>#<rev>` | status change; the notifier's outbox |
| reminder | check id | `F#<at ms, 13 digits>#<rev>` | re-alert of a down check |
| delivery | check id | `D#<flip sk>#<channel id>` | one per (alert, channel): exactly once |
| channel | `channel` | channel id | webhook, slack, discord, telegram |
| api key | `apikey` | key prefix | HMAC digest only |
| project | `project` | `project` | the ping key for slug URLs |

Every item has `type`; the stream filter passes only inserts of type flip and reminder.
"""

from __future__ import annotations

from typing import Literal

from cronbeat.domain.model import Check, Flip, StoredKind
from cronbeat.store.codec import Item, encode_value, to_item

ItemType = Literal["ping", "flip", "reminder", "delivery", "channel", "apikey", "project"]

PING_PREFIX = "P#"
FLIP_PREFIX = "F#"
DELIVERY_PREFIX = "D#"
CHANNEL_PK = "channel"
APIKEY_PK = "apikey"
PROJECT_PK = "project"
TTL_ATTRIBUTE = "expires_at"
DAY_S = 86400


def ping_sk(n: int) -> str:
    return f"{PING_PREFIX}{n:010d}"


def flip_sk(at_ms: int, rev: int) -> str:
    return f"{FLIP_PREFIX}{at_ms:013d}#{rev}"


def delivery_sk(flip_sort_key: str, channel_id: str) -> str:
    return f"{DELIVERY_PREFIX}{flip_sort_key}#{channel_id}"


def expires_at(at_ms: int, retention_days: int) -> int:
    """TTL attribute value: epoch seconds, as DynamoDB's TTL requires."""
    return at_ms // 1000 + retention_days * DAY_S


def ping_item(
    *,
    check_id: str,
    n: int,
    at_ms: int,
    kind: StoredKind,
    method: str,
    scheme: str,
    remote_addr: str,
    ua: str,
    body: bytes,
    retention_days: int,
    exit_status: int | None = None,
    rid: str | None = None,
    duration_ms: int | None = None,
) -> Item:
    """One ping in the history. Without a body it stays well under 1 KB (one write unit)."""
    item: Item = {
        "pk": {"S": check_id},
        "sk": {"S": ping_sk(n)},
        "type": {"S": "ping"},
        "n": encode_value(n),
        "at": encode_value(at_ms),
        "kind": {"S": kind},
        "method": {"S": method},
        "scheme": {"S": scheme},
        "ip": {"S": remote_addr},
        TTL_ATTRIBUTE: encode_value(expires_at(at_ms, retention_days)),
    }
    if ua:
        item["ua"] = {"S": ua}
    if body:
        item["body"] = {"B": body}
    if exit_status is not None:
        item["exit"] = encode_value(exit_status)
    if rid is not None:
        item["rid"] = {"S": rid}
    if duration_ms is not None:
        item["duration"] = encode_value(duration_ms)
    return item


def flip_item(
    *,
    check: Check,
    flip: Flip | None,
    at_ms: int,
    rev: int,
    retention_days: int,
    previous_since_ms: int | None = None,
) -> Item:
    """A flip (or, with `flip=None`, a reminder), carrying a snapshot of the check it is about.

    `previous_since_ms` is when the old status began, so a recovery can say how long it was down.
    The snapshot lets the notifier word the alert and find the channels without reading the
    checks table, and it records what the check looked like when its status changed.
    """
    item: Item = {
        "pk": {"S": check.id},
        "sk": {"S": flip_sk(at_ms, rev)},
        "type": {"S": "flip" if flip is not None else "reminder"},
        "at": encode_value(at_ms),
        "check": {"M": to_item(check)},
        TTL_ATTRIBUTE: encode_value(expires_at(at_ms, retention_days)),
    }
    if flip is not None:
        item["old"] = {"S": flip.old}
        item["new"] = {"S": flip.new}
        item["reason"] = {"S": flip.reason}
    if previous_since_ms is not None:
        item["previous_since"] = encode_value(previous_since_ms)
    return item
