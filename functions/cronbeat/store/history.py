"""The events table's history of a check: its pings, flips and reminders, written and read.

Ping items are written with the check's update (or right after it, on the read-free path); flips
and reminders are written in the same transaction as the status change they record, and are the
notifier's outbox. Everything here is keyed by check id (see `store/events.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cronbeat.domain.model import Check, Flip, Ping, Sender, StoredKind
from cronbeat.domain.text import OUTPUT_TAIL_BYTES, utf8_tail
from cronbeat.store.codec import Item, encode_value, to_item
from cronbeat.store.events import (
    FLIP_PREFIX,
    PING_PREFIX,
    TTL_ATTRIBUTE,
    expires_at,
    flip_sk,
    ping_sk,
)
from cronbeat.store.expressions import NewItem
from cronbeat.store.pages import items

MANUAL_FLIP = "manual_flip"
"""Item type of a status change made through the API (pause, resume).

It is history, like a flip, but the stream filter passes only `flip` and `reminder` items, so it
never reaches the notifier: pausing or resuming a check notifies no one, as on Healthchecks.io.
"""

HISTORY_FLIP_TYPES = frozenset({"flip", MANUAL_FLIP})


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
    count: int | None = None,
    attempt: int | None = None,
    attempts: int | None = None,
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
    for name, value in (("count", count), ("attempt", attempt), ("attempts", attempts)):
        if value is not None:
            item[name] = encode_value(value)
    return item


def flip_item(
    *,
    check: Check,
    flip: Flip | None,
    at_ms: int,
    rev: int,
    retention_days: int,
    previous_since_ms: int | None = None,
    output: bytes = b"",
    after_mute: bool = False,
) -> Item:
    """A flip (or, with `flip=None`, a reminder), carrying a snapshot of the check it is about.

    `previous_since_ms` is when the old status began, so a recovery can say how long it was down.
    `output` is the tail of the body of the ping that caused the flip: its alert shows that
    output and no older one (a timeout after a failed run has none).
    A muted flip is marked `muted` (the notifier sends nothing for it); `after_mute` marks the
    reminder owed for a down that began while muted.
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
        if flip.muted:
            item["muted"] = {"BOOL": True}
    if after_mute:
        item["after_mute"] = {"BOOL": True}
    if previous_since_ms is not None:
        item["previous_since"] = encode_value(previous_since_ms)
    if output:
        item["output"] = {"B": utf8_tail(output, OUTPUT_TAIL_BYTES)}
    return item


@dataclass(frozen=True, slots=True)
class PingRecord:
    """One ping of a check's history, as the API lists it."""

    n: int
    at_ms: int
    kind: str
    method: str = ""
    scheme: str = "http"
    remote_addr: str = ""
    ua: str = ""
    rid: str | None = None
    exit_status: int | None = None
    duration_ms: int | None = None
    has_body: bool = False
    count: int | None = None
    attempt: int | None = None
    attempts: int | None = None


@dataclass(frozen=True, slots=True)
class FlipRecord:
    at_ms: int
    old: str
    new: str
    reason: str
    sk: str = ""
    """The flip's sort key, which its delivery records are keyed by."""
    muted: bool = False
    """Made while alerts were muted: recorded, not alerted."""


def _ping_record(item: Item) -> PingRecord:
    def text(name: str, default: str = "") -> str:
        return str(item[name]["S"]) if name in item else default

    def number(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    return PingRecord(
        n=int(item["n"]["N"]),
        at_ms=int(item["at"]["N"]),
        kind=text("kind", "success"),
        method=text("method"),
        scheme=text("scheme", "http"),
        remote_addr=text("ip"),
        ua=text("ua"),
        rid=item["rid"]["S"] if "rid" in item else None,
        exit_status=number("exit"),
        duration_ms=number("duration"),
        has_body=bool(item.get("body", {}).get("B")),
        count=number("count"),
        attempt=number("attempt"),
        attempts=number("attempts"),
    )


def _flip_record(item: Item) -> FlipRecord:
    return FlipRecord(
        at_ms=int(item["at"]["N"]),
        old=item.get("old", {"S": ""})["S"],
        new=item.get("new", {"S": ""})["S"],
        reason=item.get("reason", {"S": ""})["S"],
        sk=item["sk"]["S"],
        muted=bool(item.get("muted", {}).get("BOOL", False)),
    )


class History:
    """Write and read the pings and flips of checks, with the retention the settings give."""

    def __init__(
        self,
        dynamodb: Any,
        events_table: str,
        *,
        ping_retention_days: int,
        flip_retention_days: int,
    ) -> None:
        self._db = dynamodb
        self._events = events_table
        self._ping_days = ping_retention_days
        self._flip_days = flip_retention_days

    def ping(
        self,
        check: Check,
        kind: StoredKind,
        ping: Ping,
        sender: Sender,
        at_ms: int,
        duration_ms: int | None,
    ) -> NewItem:
        """The history item of `ping`, numbered by the check after it (`check.n_pings`)."""
        return self._new(
            ping_item(
                check_id=check.id,
                n=check.n_pings,
                at_ms=at_ms,
                kind=kind,
                method=ping.method,
                scheme=sender.scheme,
                remote_addr=sender.remote_addr,
                ua=sender.ua,
                body=ping.body,
                retention_days=self._ping_days,
                exit_status=ping.exit_status,
                rid=ping.rid,
                duration_ms=duration_ms,
                count=ping.count,
                attempt=ping.attempt,
                attempts=ping.attempts,
            )
        )

    def flip(
        self,
        check: Check,
        flip: Flip | None,
        *,
        at_ms: int,
        rev: int,
        previous_since_ms: int | None = None,
        manual: bool = False,
        output: bytes = b"",
        after_mute: bool = False,
    ) -> NewItem:
        """The flip (or reminder, with `flip=None`) item of `check` written at revision `rev`.

        A `manual` flip (pause, resume through the API) is history only: no alert is made of it.
        """
        item = flip_item(
            check=check,
            flip=flip,
            at_ms=at_ms,
            rev=rev,
            retention_days=self._flip_days,
            previous_since_ms=previous_since_ms,
            output=output,
            after_mute=after_mute,
        )
        if manual:
            item["type"] = {"S": MANUAL_FLIP}
        return self._new(item)

    def _new(self, item: Item) -> NewItem:
        return NewItem(self._events, item)

    def put(self, new: NewItem) -> None:
        self._db.put_item(TableName=new.table, Item=new.item)

    def reachable(self) -> bool:
        """One cheap round trip to the events table: False when it cannot be reached or read."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._db.get_item(
                TableName=self._events, Key={"pk": {"S": "status"}, "sk": {"S": "status"}}
            )
        except (BotoCoreError, ClientError):
            return False
        return True

    def pings(
        self, check_id: str, *, limit: int = 100, before_n: int | None = None
    ) -> list[PingRecord]:
        """The check's latest pings (or those numbered below `before_n`), newest first."""
        records: list[PingRecord] = []
        if before_n is not None and before_n <= 1:
            return records
        values: dict[str, Any] = {":pk": {"S": check_id}, ":prefix": {"S": PING_PREFIX}}
        condition = "pk = :pk AND begins_with(sk, :prefix)"
        if before_n is not None:
            condition = "pk = :pk AND sk BETWEEN :prefix AND :last"
            values[":last"] = {"S": ping_sk(before_n - 1)}
        kwargs: dict[str, Any] = {
            "TableName": self._events,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        while len(records) < limit:
            kwargs["Limit"] = limit - len(records)
            page = self._db.query(**kwargs)
            records.extend(_ping_record(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return records[:limit]

    def ping_body(self, check_id: str, n: int) -> bytes | None:
        """The stored body of ping number `n`; None when the ping or its body is absent."""
        reply = self._db.get_item(
            TableName=self._events,
            Key={"pk": {"S": check_id}, "sk": {"S": ping_sk(n)}},
            ProjectionExpression="body",
        )
        body = reply.get("Item", {}).get("body", {}).get("B")
        return bytes(body) if body else None

    def flips(
        self, check_id: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[FlipRecord]:
        """Status changes at or after `start_ms` and before `end_ms`, newest first."""
        low = f"{FLIP_PREFIX}{max(start_ms or 0, 0):013d}"
        # "F#<end>#rev" sorts after "F#<end>", so the upper bound leaves out flips at `end_ms`.
        high = f"{FLIP_PREFIX}{end_ms:013d}" if end_ms is not None else f"{FLIP_PREFIX}~"
        if end_ms is not None and end_ms <= max(start_ms or 0, 0):
            return []
        request = {
            "TableName": self._events,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": check_id},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            "ScanIndexForward": False,
        }
        return [
            _flip_record(item)
            for item in items(self._db.query, request)
            if item.get("type", {}).get("S") in HISTORY_FLIP_TYPES
        ]
