"""The scanner's reads and writes: a parallel Scan of the checks table, and conditional flips.

A sweep reads every check on every run, so the Scan is eventually consistent (half the read
units) and projects only what evaluation and the alert snapshot need. Every write is conditioned
on what the sweep read: a ping or another scanner that got there first wins, and the sweep counts
a conflict instead of retrying.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cronbeat.domain.model import Check, Flip
from cronbeat.store.codec import ATTRIBUTE, REVISION, Item, encode_value, from_item, revision
from cronbeat.store.events import flip_item
from cronbeat.store.pages import pages

SCANNED_FIELDS = (
    "id",
    "name",
    "slug",
    "tags",
    "kind",
    "timeout_s",
    "grace_s",
    "schedule",
    "tz",
    "status",
    "status_since_ms",
    "last_ping_ms",
    "last_start_ms",
    "last_exit",
    "last_duration_ms",
    "failure_streak",
    "failure_threshold",
    "max_runtime_s",
    "realert_every_s",
    "last_alert_ms",
    "channels",
)
"""What evaluation reads, plus what an alert shows (name, tags, last exit, channels).

A projection saves transfer and decoding, not read units: DynamoDB bills the whole item.
"""

_PROJECTED = (*(ATTRIBUTE[field] for field in SCANNED_FIELDS), REVISION)
_PROJECTION_NAMES = {f"#p{i}": attribute for i, attribute in enumerate(_PROJECTED)}
PROJECTION_EXPRESSION = ", ".join(_PROJECTION_NAMES)

_CONFLICT_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_PAGE_WAIT_S = 0.1


@dataclass(frozen=True, slots=True)
class UnreadableCheck:
    """An item the codec could not decode: the sweep logs and skips it like a failed evaluation."""

    check_id: str
    error: str


ScannedCheck = tuple[Check, int] | UnreadableCheck
"""A check with the revision it was read at, or an item that could not be decoded."""


class SweepStore:
    """Scan the checks table in parallel segments and write what a sweep decided."""

    def __init__(
        self,
        dynamodb: Any,
        *,
        checks_table: str,
        events_table: str,
        segments: int,
        flip_retention_days: int,
    ) -> None:
        self._db = dynamodb
        self._checks = checks_table
        self._events = events_table
        self._segments = max(1, segments)
        self._retention_days = flip_retention_days

    def scan(self) -> Iterator[ScannedCheck]:
        """Every check, read by one thread per segment and handed over page by page."""
        pages: queue.Queue[list[ScannedCheck] | BaseException | None] = queue.Queue(
            maxsize=2 * self._segments
        )
        stop = threading.Event()

        def hand_over(entry: list[ScannedCheck] | BaseException | None) -> bool:
            # Bounded queue, so a slow evaluator holds at most a few pages in memory.
            while not stop.is_set():
                try:
                    pages.put(entry, timeout=_PAGE_WAIT_S)
                except queue.Full:
                    continue
                return True
            return False

        def read_segment(segment: int) -> None:
            try:
                for page in self._segment_pages(segment):
                    if not hand_over([decode(item) for item in page]):
                        return
                hand_over(None)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                hand_over(exc)

        threads = [
            threading.Thread(target=read_segment, args=(segment,), daemon=True)
            for segment in range(self._segments)
        ]
        for thread in threads:
            thread.start()
        try:
            finished = 0
            while finished < len(threads):
                entry = pages.get()
                if entry is None:
                    finished += 1
                elif isinstance(entry, BaseException):
                    raise entry
                else:
                    yield from entry
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def _segment_pages(self, segment: int) -> Iterator[list[Item]]:
        request: dict[str, Any] = {
            "TableName": self._checks,
            "Segment": segment,
            "TotalSegments": self._segments,
            "ProjectionExpression": PROJECTION_EXPRESSION,
            "ExpressionAttributeNames": _PROJECTION_NAMES,
            "ConsistentRead": False,
        }
        return pages(self._db.scan, request)

    def write_flip(self, before: Check, rev: int, after: Check, flip: Flip, at_ms: int) -> bool:
        """Store a timeout or run-timeout flip, unless the check changed since the sweep read it.

        Returns False when a ping or another scanner got there first.
        """
        condition = ["#status = :was", _same("#last_ping", ":last_ping", before.last_ping_ms)]
        names = {"#last_ping": ATTRIBUTE["last_ping_ms"]}
        values: Item = {":was": {"S": before.status}}
        if before.last_ping_ms is not None:
            values[":last_ping"] = encode_value(before.last_ping_ms)
        if flip.reason == "run_timeout":
            condition.append(_same("#last_start", ":last_start", before.last_start_ms))
            names["#last_start"] = ATTRIBUTE["last_start_ms"]
            if before.last_start_ms is not None:
                values[":last_start"] = encode_value(before.last_start_ms)
        update = (
            "SET #status = :now, #since = :since, #streak = :streak, #alerted = :alerted, "
            "#rev = if_not_exists(#rev, :zero) + :one"
        )
        names |= {
            "#status": ATTRIBUTE["status"],
            "#since": ATTRIBUTE["status_since_ms"],
            "#streak": ATTRIBUTE["success_streak"],
            "#alerted": ATTRIBUTE["last_alert_ms"],
            "#rev": REVISION,
        }
        values |= {
            ":now": {"S": after.status},
            ":since": encode_value(after.status_since_ms or at_ms),
            ":streak": encode_value(after.success_streak),
            ":alerted": encode_value(after.last_alert_ms or at_ms),
            ":zero": encode_value(0),
            ":one": encode_value(1),
        }
        outbox = flip_item(
            check=after,
            flip=flip,
            at_ms=at_ms,
            rev=rev + 1,
            retention_days=self._retention_days,
            previous_since_ms=before.status_since_ms,
        )
        return self._transact(before.id, " AND ".join(condition), update, names, values, outbox)

    def write_reminder(self, before: Check, rev: int, after: Check, at_ms: int) -> bool:
        """Store a reminder for a check still down, unless someone re-alerted or revived it."""
        condition = "#status = :down AND " + _same(
            "#alerted", ":alerted_before", before.last_alert_ms
        )
        names = {
            "#status": ATTRIBUTE["status"],
            "#alerted": ATTRIBUTE["last_alert_ms"],
            "#rev": REVISION,
        }
        values: Item = {
            ":down": {"S": "down"},
            ":alerted": encode_value(after.last_alert_ms or at_ms),
            ":zero": encode_value(0),
            ":one": encode_value(1),
        }
        if before.last_alert_ms is not None:
            values[":alerted_before"] = encode_value(before.last_alert_ms)
        update = "SET #alerted = :alerted, #rev = if_not_exists(#rev, :zero) + :one"
        outbox = flip_item(
            check=after, flip=None, at_ms=at_ms, rev=rev + 1, retention_days=self._retention_days
        )
        return self._transact(before.id, condition, update, names, values, outbox)

    def _transact(
        self,
        check_id: str,
        condition: str,
        update: str,
        names: dict[str, str],
        values: Item,
        outbox: Item,
    ) -> bool:
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._checks,
                            "Key": {"id": {"S": check_id}},
                            "UpdateExpression": update,
                            "ConditionExpression": condition,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._events,
                            "Item": outbox,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except self._db.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if any(reason.get("Code") in _CONFLICT_CODES for reason in reasons):
                return False
            raise
        return True


def _same(name: str, placeholder: str, value: int | None) -> str:
    """The condition that attribute `name` still holds `value` (or is still absent)."""
    if value is None:
        return f"attribute_not_exists({name})"
    return f"{name} = {placeholder}"


def decode(item: Item) -> ScannedCheck:
    """A scanned item as the check and its revision, or an UnreadableCheck."""
    try:
        return from_item(item), revision(item)
    except (ValueError, TypeError, KeyError) as exc:
        check_id = item.get("id", {}).get("S", "?")
        return UnreadableCheck(check_id=check_id, error=f"{type(exc).__name__}: {exc}")
