"""The checks table: the one repository of the check item, for the ping, API and sweep paths.

Every write of a check is conditional, in one of two ways (docs/architecture.md):
- the read-free fast path of a ping: one UpdateItem whose condition is the domain's `FastPath`
  guard, so a ping that cannot change the status costs no read;
- every other write (a ping that may flip, an API change, a sweep's flip or reminder): the
  attributes that differ from what was read, conditioned on the `rev` that was read, in one
  transaction with the history items that go with it.
A write that loses raises `LostRace` with the check that won, and the service decides again.
The store never decides: the state machine is called by the services.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cronbeat.domain.machine import FastPath, attention_at_ms, finish_lead_ms
from cronbeat.domain.model import SCANNED_FIELDS, STORED_NAMES, Check, Ping
from cronbeat.store.codec import (
    REVISION,
    Item,
    encode_value,
    from_item,
    revision,
    slug_key,
    to_item,
)
from cronbeat.store.expressions import Expression, NewItem, lost_transaction
from cronbeat.store.pages import items, pages
from cronbeat.store.tables import BADGE_INDEX, SLUG_INDEX

ALERT_AT = "alert_at"
"""The earliest moment a sweep can find something to do for the check (`attention_at_ms`)."""
FINISH_LEAD = "lead"
"""What the read-free path adds to a success's time to store its `alert_at` (`finish_lead_ms`)."""
NEVER_MS = 9 * 10**15
"""`alert_at` of a check no moment will wake: a far-off number that costs two bytes, so that a
missing `alert_at` keeps meaning "an item from before the attribute: read it"."""

_PROJECTED = (*(STORED_NAMES[field] for field in SCANNED_FIELDS), REVISION, ALERT_AT)
_PROJECTION_NAMES = {f"#p{i}": attribute for i, attribute in enumerate(_PROJECTED)}
PROJECTION_EXPRESSION = ", ".join(_PROJECTION_NAMES)
"""What a sweep reads. A projection saves transfer and decoding, not read units: DynamoDB bills
the whole item."""

_PAGE_WAIT_S = 0.1
_APPEND_INDEX = 99
"""Past the longest window the API allows, so the read-free path's SET appends."""


class CheckExists(Exception):
    """A check with this id is already stored."""


class LostRace(Exception):
    """A conditional write of a check lost: to `stored` (None when the check is gone, or when
    `conflict` says a concurrent transaction collided and nothing won yet: back off)."""

    def __init__(self, stored: StoredCheck | None, *, conflict: bool) -> None:
        super().__init__("conflict" if conflict else "condition failed")
        self.stored = stored
        self.conflict = conflict


MAX_WRITES_TOGETHER = 25
"""Check writes per transaction: each is its update and one flip or reminder item, and
DynamoDB takes at most 100 actions and 4 MB in one."""


@dataclass(frozen=True, slots=True)
class CheckWrite:
    """One conditional write of a check (`after` over `before` at `rev`) and its extra items."""

    before: Check
    after: Check
    rev: int
    extra: Sequence[NewItem] = ()


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """A check and the revision it was read at."""

    check: Check
    rev: int
    alert_at_ms: int | None = field(default=None, compare=False)
    """The stored `alert_at` (None before the attribute): a sweep corrects one that came early."""


@dataclass(frozen=True, slots=True)
class FastResult:
    """The fast-path update's answer: the check after it, or the stored one it was refused by.

    `stored` is None when there is no such check.
    """

    applied: bool
    stored: StoredCheck | None


@dataclass(frozen=True, slots=True)
class UnreadableCheck:
    """An item the codec could not decode: the sweep logs and skips it like a failed evaluation."""

    check_id: str
    error: str


ScannedCheck = StoredCheck | UnreadableCheck
"""A check with the revision it was read at, or an item that could not be decoded."""


def _stored(item: Item | None) -> StoredCheck | None:
    if item is None:
        return None
    return StoredCheck(from_item(item), revision(item), stored_alert_at(item))


def check_item(check: Check, *, rev: int | None = None, ping_key: str | None = None) -> Item:
    """The stored item of `check`: its attributes and the two numbers the sweep's filter and the
    read-free path keep up to date."""
    item = to_item(check, rev=rev, ping_key=ping_key)
    attention = attention_at_ms(check)
    item[ALERT_AT] = encode_value(NEVER_MS if attention is None else attention)
    item[FINISH_LEAD] = encode_value(finish_lead_ms(check))
    return item


def stored_alert_at(item: Item) -> int | None:
    """The item's `alert_at`, None for an item from before the attribute."""
    raw = item.get(ALERT_AT)
    return int(raw["N"]) if raw is not None else None


def fast_path_request(
    plan: FastPath, ping: Ping, at_ms: int, request_id: str = ""
) -> dict[str, Any]:
    """ConditionExpression and UpdateExpression for `plan`: `FastPath.admits` and `apply_ping`.

    The codec leaves out attributes at their default, so "false", "" and 0 are also "absent".
    With a `request_id`, the update also refuses a check that this request already wrote.
    """
    x = Expression()
    status = x.name("status")
    conditions = [
        f"attribute_exists({x.name('id')})",
        f"({status} <> {x.value('paused', 'paused')}"
        f" OR attribute_not_exists({x.name('manual_resume')})"
        f" OR {x.name('manual_resume')} = {x.value('false', False)})",
    ]
    if plan.status is not None:
        conditions.append(f"{status} = {x.value('status', plan.status)}")
    if plan.not_post_only:
        methods = x.name("methods")
        conditions.append(
            f"(attribute_not_exists({methods}) OR {methods} <> {x.value('post', 'POST')})"
        )
    if plan.no_body_filter:
        body_filter = x.name("filter_http_body")
        conditions.append(
            f"(attribute_not_exists({body_filter}) OR {body_filter} = {x.value('false', False)})"
        )
    if plan.kind == "success":
        conditions.append(f"attribute_not_exists({x.name('min_duration')})")
        conditions.append(f"attribute_not_exists({x.name('max_duration')})")
        slow_factor, failure_streak = x.name("slow_factor"), x.name("failure_streak")
        conditions.append(
            f"(attribute_not_exists({slow_factor}) OR attribute_not_exists({failure_streak}))"
        )
        if plan.count is not None:
            min_count = x.name("min_count")
            conditions.append(
                f"(attribute_not_exists({min_count})"
                f" OR {min_count} <= {x.value('count', plan.count)})"
            )
    last_start, last_start_rid = x.name("last_start"), x.name("last_start_rid")
    if plan.run == "rid_open":
        conditions.append(f"attribute_exists({last_start})")
        conditions.append(f"{last_start_rid} = {x.value('rid', plan.rid or '')}")
    elif plan.run == "rid_open_or_none":
        conditions.append(
            f"(attribute_not_exists({last_start})"
            f" OR {last_start_rid} = {x.value('rid', plan.rid or '')})"
        )
    elif plan.run == "no_rid_open":
        conditions.append(f"attribute_not_exists({last_start_rid})")

    zero, one, now = x.value("zero", 0), x.value("one", 1), x.value("now", at_ms)
    sets = [
        f"{x.name('n_pings')} = if_not_exists({x.name('n_pings')}, {zero}) + {one}",
        f"{x.name(REVISION)} = if_not_exists({x.name(REVISION)}, {zero}) + {one}",
    ]
    if request_id:
        last_request, this_request = x.name("last_req"), x.value("request", request_id)
        conditions.append(
            f"(attribute_not_exists({last_request}) OR {last_request} <> {this_request})"
        )
        sets.append(f"{last_request} = {this_request}")
    removes: list[str] = []
    progress = x.name("progress")
    if plan.kind in ("log", "progress"):
        sets.append(f"{progress} = {now}")
    if plan.kind == "start":
        sets.append(f"{last_start} = {now}")
        removes.append(progress)
        if ping.rid is not None:
            sets.append(f"{last_start_rid} = {x.value('ping_rid', ping.rid)}")
        else:
            removes.append(last_start_rid)
    elif plan.kind in ("success", "fail"):
        counted, reset = ("success_streak", "failure_streak")
        if plan.kind == "fail":
            counted, reset = reset, counted
        streak = x.name(counted)
        sets.append(f"{x.name('last_ping')} = {now}")
        sets.append(f"{streak} = if_not_exists({streak}, {zero}) + {one}")
        removes.append(x.name(reset))
        if ping.exit_status is not None:
            sets.append(f"{x.name('last_exit')} = {x.value('exit', ping.exit_status)}")
        else:
            removes.append(x.name("last_exit"))
        if ping.count is not None:
            sets.append(f"{x.name('count')} = {x.value('ping_count', ping.count)}")
        else:
            removes.append(x.name("count"))
        removes.append(progress)
        # Closes the open run, if any; with none open the duration is 0, which the codec reads
        # as "no duration" (a finish that closed no run leaves none).
        sets.append(f"{x.name('last_duration')} = {now} - if_not_exists({last_start}, {now})")
        removes.extend((last_start, last_start_rid))
    if plan.kind == "success":
        # The run's duration joins the window in place, and the oldest leaves it: two distinct
        # list elements, evaluated against the item as it was (DynamoDB's rule), so the list
        # keeps its length. An index past the end appends.
        durations = x.name("durs")
        conditions.append(f"attribute_exists({durations})")
        sets.append(f"{durations}[{_APPEND_INDEX}] = {now} - if_not_exists({last_start}, {now})")
        removes.append(f"{durations}[0]")
        # A success leaves an up check with no run open: its next moment is the schedule's.
        lead = f"if_not_exists({x.name(FINISH_LEAD)}, {zero})"
        sets.append(f"{x.name(ALERT_AT)} = {lead} + {now}")
    return x.request(" AND ".join(conditions), sets, removes)


def write_request(
    before: Check, after: Check, *, rev: int, ping_key: str | None = None
) -> dict[str, Any] | None:
    """Turn the stored `before` into `after` if the check is still at `rev`: only the attributes
    that differ are written, so a sweep that read a projection leaves the rest alone.

    None when nothing differs. `ping_key` keeps the slug index key in step with the slug.
    """
    old, new = to_item(before, ping_key=ping_key), to_item(after, ping_key=ping_key)
    x = Expression()
    sets = [f"{x.name(REVISION)} = {x.value('rev_new', rev + 1)}"]
    # Always written with the rest: what is stored may be the read-free path's early estimate.
    for attribute, value in check_item(after).items():
        if attribute in (ALERT_AT, FINISH_LEAD):
            sets.append(f"{x.name(attribute)} = {x.value(attribute, value)}")
    removes: list[str] = []
    changed = False
    for attribute, value in new.items():
        if attribute != "id" and old.get(attribute) != value:
            sets.append(f"{x.name(attribute)} = {x.value(attribute, value)}")
            changed = True
    for attribute in old.keys() - new.keys():
        removes.append(x.name(attribute))
        changed = True
    if not changed:
        return None
    if rev:
        seen = f"{x.name(REVISION)} = {x.value('rev_seen', rev)}"
    else:
        seen = f"attribute_not_exists({x.name(REVISION)})"
    return x.request(f"attribute_exists({x.name('id')}) AND {seen}", sets, removes)


class CheckRepository:
    """Get, scan, create, delete and conditionally write the check items."""

    def __init__(self, dynamodb: Any, checks_table: str, *, scan_segments: int = 1) -> None:
        self._db = dynamodb
        self._table = checks_table
        self._segments = max(1, scan_segments)

    @staticmethod
    def _key(check_id: str) -> Item:
        return {"id": {"S": check_id}}

    def get(self, check_id: str) -> StoredCheck | None:
        """The check and its revision, read consistently; None if there is none."""
        reply = self._db.get_item(
            TableName=self._table, Key=self._key(check_id), ConsistentRead=True
        )
        return _stored(reply.get("Item"))

    def all(self) -> list[StoredCheck]:
        """Every check, strongly consistent so a check created a moment ago is listed."""
        request = {"TableName": self._table, "ConsistentRead": True}
        stored = [StoredCheck(from_item(i), revision(i)) for i in items(self._db.scan, request)]
        return sorted(stored, key=lambda s: (s.check.created_ms or 0, s.check.id))

    def create(self, check: Check, ping_key: str | None) -> None:
        """Store a new check at revision 1 with its slug key; CheckExists if the id is taken."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=check_item(check, rev=1, ping_key=ping_key),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise CheckExists(check.id) from exc

    def delete(self, check_id: str) -> Check | None:
        """Delete the check and return it; None if there was none.

        Its pings and flips stay until their TTL removes them: deleting hundreds of history
        items would make a DELETE slow and costly for no gain, since nothing can reach them.
        """
        reply = self._db.delete_item(
            TableName=self._table, Key=self._key(check_id), ReturnValues="ALL_OLD"
        )
        old = reply.get("Attributes")
        return from_item(old) if old else None

    def resolve_slug(self, ping_key: str, slug: str) -> list[str]:
        """Ids of the checks with this slug under this ping key: one query on the slug index."""
        return self._ids_by_index(SLUG_INDEX, "slug_key", slug_key(ping_key, slug))

    def by_badge_key(self, badge_key: str) -> StoredCheck | None:
        """The check whose public badge URL holds `badge_key`: one query on the badge index."""
        ids = self._ids_by_index(BADGE_INDEX, "badge_key", badge_key)
        return self.get(ids[0]) if len(ids) == 1 else None

    def _ids_by_index(self, index: str, attribute: str, value: str) -> list[str]:
        """The ids a KEYS_ONLY index holds under `value`."""
        request = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": f"{attribute} = :key",
            "ExpressionAttributeValues": {":key": {"S": value}},
        }
        return [item["id"]["S"] for item in items(self._db.query, request)]

    def update_fast(
        self, check_id: str, plan: FastPath, ping: Ping, at_ms: int, request_id: str = ""
    ) -> FastResult:
        """Apply `plan` with one conditional UpdateItem; hand back the new or the stored check.

        Raises LostRace(conflict=True) when a concurrent transaction held the item.
        """
        try:
            reply = self._db.update_item(
                TableName=self._table,
                Key=self._key(check_id),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **fast_path_request(plan, ping, at_ms, request_id),
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            return FastResult(False, _stored(exc.response.get("Item")))
        except self._db.exceptions.TransactionConflictException as exc:
            raise LostRace(None, conflict=True) from exc
        return FastResult(True, _stored(reply["Attributes"]))

    def write(
        self,
        before: Check,
        after: Check,
        *,
        rev: int,
        extra: Sequence[NewItem] = (),
        ping_key: str | None = None,
    ) -> int:
        """Write `after` over `before` if the check is still at `rev`, with the `extra` items in
        the same transaction; return the new revision.

        The condition on `rev` is what makes a retried sweep harmless: once its flip is written,
        the revision it read is gone. Raises LostRace.
        """
        request = write_request(before, after, rev=rev, ping_key=ping_key)
        if request is None:
            return rev
        update = {
            "TableName": self._table,
            "Key": self._key(after.id),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **request,
        }
        try:
            if not extra:
                self._db.update_item(**update)
                return rev + 1
            puts = [{"Put": {"TableName": new.table, "Item": new.item}} for new in extra]
            self._db.transact_write_items(TransactItems=[{"Update": update}, *puts])
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise LostRace(_stored(exc.response.get("Item")), conflict=False) from exc
        except self._db.exceptions.TransactionCanceledException as exc:
            lost = lost_transaction(exc)
            if lost is None:
                raise
            raise LostRace(_stored(lost.item), conflict=lost.conflict) from exc
        except self._db.exceptions.TransactionConflictException as exc:
            raise LostRace(None, conflict=True) from exc
        return rev + 1

    def write_together(self, writes: Sequence[CheckWrite]) -> list[bool]:
        """Write several checks, each with its extra items, in one transaction (at most
        `MAX_WRITES_TOGETHER`); True for each written, False for each that lost its race.

        One round trip carries many flips, which is what a mass outage needs. A write that lost
        (its check's condition failed, or a concurrent transaction collided with it) cancels
        the transaction for all, so the others are written again without it. Any other
        cancellation, and any other error, is raised for the caller to retry them one by one.
        """
        if len(writes) > MAX_WRITES_TOGETHER:
            raise ValueError(f"at most {MAX_WRITES_TOGETHER} writes share a transaction")
        if len(writes) == 1:
            [one] = writes
            try:
                self.write(one.before, one.after, rev=one.rev, extra=one.extra)
            except LostRace:
                return [False]
            return [True]
        actions: list[dict[str, Any]] = []
        spans: dict[int, range] = {}  # by index in `writes`; one that changes nothing is left out
        for n, one in enumerate(writes):
            request = write_request(one.before, one.after, rev=one.rev)
            if request is None:  # as `write`: nothing differs, so nothing to write or lose
                continue
            first = len(actions)
            update = {"TableName": self._table, "Key": self._key(one.after.id), **request}
            actions.append({"Update": update})
            actions.extend({"Put": {"TableName": new.table, "Item": new.item}} for new in one.extra)
            spans[n] = range(first, len(actions))
        results = [True] * len(writes)
        if not actions:
            return results
        try:
            self._db.transact_write_items(TransactItems=actions)
        except self._db.exceptions.TransactionConflictException:
            return [n not in spans for n in range(len(writes))]
        except self._db.exceptions.TransactionCanceledException as exc:
            reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons") or []
            if len(reasons) != len(actions):
                raise
            codes = {
                n: [reasons[i].get("Code") or "None" for i in span] for n, span in spans.items()
            }
            lost = [
                n
                for n, span_codes in codes.items()
                if span_codes[0] == "ConditionalCheckFailed" or "TransactionConflict" in span_codes
            ]
            innocent = [n for n, span_codes in codes.items() if set(span_codes) == {"None"}]
            if not lost or len(lost) + len(innocent) != len(spans):
                raise
            for n in lost:
                results[n] = False
            if innocent:
                again = self.write_together([writes[n] for n in innocent])
                for n, written in zip(innocent, again, strict=True):
                    results[n] = written
        return results

    def correct_alert_at(self, check: Check, rev: int) -> bool:
        """Store the exact `alert_at` of a check still at `rev` whose stored one came early; the
        revision stays, as nothing the check means has changed. False when a write got there
        first: that write stored its own."""
        attention = attention_at_ms(check)
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(check.id),
                UpdateExpression="SET #alert_at = :alert_at",
                ConditionExpression="#rev = :rev",
                ExpressionAttributeNames={"#alert_at": ALERT_AT, "#rev": REVISION},
                ExpressionAttributeValues={
                    ":alert_at": encode_value(NEVER_MS if attention is None else attention),
                    ":rev": encode_value(rev),
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def reachable(self) -> bool:
        """One cheap read of the table: False when DynamoDB cannot be reached or read."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._db.get_item(TableName=self._table, Key=self._key("status"))
        except (BotoCoreError, ClientError):
            return False
        return True

    def item_count(self) -> int:
        """DynamoDB's count of the table's items: refreshed about every six hours, and free."""
        reply = self._db.describe_table(TableName=self._table)
        return int(reply["Table"].get("ItemCount", 0))

    def scan(
        self,
        due_by_ms: int | None = None,
        segments: Sequence[int] | None = None,
        total_segments: int | None = None,
    ) -> Iterator[ScannedCheck]:
        """The checks a sweep at `due_by_ms` must look at (every check when None), from every
        segment or only `segments` out of `total_segments` (a segment worker's share):
        projected, eventually consistent (half the read units), read by one thread per segment
        and handed over page by page.

        DynamoDB filters on `alert_at`, so only the checks whose moment has passed, those with
        a run open (a start leaves `alert_at` as it was) and items from before the attribute
        cross the wire and are parsed. The read units are the same: DynamoDB bills what it
        scanned.
        """
        total = self._segments if total_segments is None else total_segments
        chosen = range(total) if segments is None else segments
        pages: queue.Queue[list[ScannedCheck] | BaseException | None] = queue.Queue(
            maxsize=2 * max(1, len(chosen))
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
                for page in self._segment_pages(segment, total, due_by_ms):
                    if not hand_over([decode(item) for item in page]):
                        return
                hand_over(None)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                hand_over(exc)

        threads = [
            threading.Thread(target=read_segment, args=(segment,), daemon=True)
            for segment in chosen
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

    def _segment_pages(
        self, segment: int, total: int, due_by_ms: int | None
    ) -> Iterator[list[Item]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Segment": segment,
            "TotalSegments": total,
            "ProjectionExpression": PROJECTION_EXPRESSION,
            "ExpressionAttributeNames": _PROJECTION_NAMES,
            "ConsistentRead": False,
        }
        if due_by_ms is not None:
            request.update(due_filter(due_by_ms))
        return pages(self._db.scan, request)


def due_filter(due_by_ms: int) -> dict[str, Any]:
    """The sweep's FilterExpression: what `attention_at_ms` says may need a look by `due_by_ms`."""
    return {
        "FilterExpression": (
            "attribute_not_exists(#due_alert_at) OR #due_alert_at <= :due_by"
            " OR attribute_exists(#due_last_start)"
        ),
        "ExpressionAttributeNames": {
            **_PROJECTION_NAMES,
            "#due_alert_at": ALERT_AT,
            "#due_last_start": STORED_NAMES["last_start_ms"],
        },
        "ExpressionAttributeValues": {":due_by": encode_value(due_by_ms)},
    }


def decode(item: Item) -> ScannedCheck:
    """A scanned item as the check and its revision, or an UnreadableCheck."""
    try:
        return StoredCheck(from_item(item), revision(item), stored_alert_at(item))
    except (ValueError, TypeError, KeyError) as exc:
        check_id = item.get("id", {}).get("S", "?")
        return UnreadableCheck(check_id=check_id, error=f"{type(exc).__name__}: {exc}")
