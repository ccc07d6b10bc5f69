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
