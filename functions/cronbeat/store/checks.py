"""The checks table: create and read checks, resolve slugs, and record pings on the write budget.

A ping first tries the read-free fast path: one conditional UpdateItem whose condition is the
domain's `FastPath` guard, plus one PutItem of the history item. When the guard does not hold
(the ping may change the status), the update fails and hands back the stored item, and the ping
takes the general path: `apply_ping` on that item, written in one transaction conditioned on the
revision it read, together with the history item and the flip.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cronbeat.domain.machine import FastPath, apply_ping, fast_path
from cronbeat.domain.model import Check, Ping, PingOutcome, StoredKind
from cronbeat.settings import Settings
from cronbeat.store.codec import (
    ATTRIBUTE,
    REVISION,
    Item,
    encode_value,
    from_item,
    revision,
    slug_key,
    to_item,
)
from cronbeat.store.events import flip_item, ping_item
from cronbeat.store.pages import items
from cronbeat.store.tables import SLUG_INDEX

MAX_ATTEMPTS = 20
"""Conflicting writes a ping retries before giving up (each re-reads what won)."""
_BACKOFF_CAP_S = 0.1


class CheckExists(Exception):
    """A check with this id is already stored."""


class Contention(Exception):
    """A ping lost MAX_ATTEMPTS races in a row; nothing of it was written."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a ping, as the history records it."""

    scheme: str = "http"
    remote_addr: str = ""
    ua: str = ""


@dataclass(frozen=True, slots=True)
class FastResult:
    """The fast-path update's answer: applied with the new item, or refused with the stored one.

    A refusal without an item means there is no such check.
    """

    applied: bool
    item: Item | None


@dataclass(frozen=True, slots=True)
class _Lost:
    """A general-path write that lost a race: the item that won, if DynamoDB handed it back.

    `conflict` means a concurrent transaction collided with it and nothing won yet: back off.
    """

    item: Item | None
    conflict: bool


class _Expression:
    """Collects `#name` and `:value` placeholders while an expression is built."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, label: str, value: Any) -> str:
        placeholder = f":{label}"
        self.values[placeholder] = value if isinstance(value, dict) else encode_value(value)
        return placeholder

    def request(self, condition: str, sets: list[str], removes: list[str]) -> dict[str, Any]:
        """The expression arguments with only the placeholders used: DynamoDB rejects others."""
        update = "SET " + ", ".join(sets)
        if removes:
            update += " REMOVE " + ", ".join(removes)
        used = set(re.findall(r"[#:]\w+", condition + " " + update))
        return {
            "ConditionExpression": condition,
            "UpdateExpression": update,
            "ExpressionAttributeNames": {k: v for k, v in self.names.items() if k in used},
            "ExpressionAttributeValues": {k: v for k, v in self.values.items() if k in used},
        }


def fast_path_request(plan: FastPath, ping: Ping, at_ms: int) -> dict[str, Any]:
    """ConditionExpression and UpdateExpression for `plan`: `FastPath.admits` and `apply_ping`.

    The codec leaves out attributes at their default, so "false", "" and 0 are also "absent".
    """
    x = _Expression()
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
    last_start, last_start_rid = x.name("last_start"), x.name("last_start_rid")
    if plan.run == "rid_open":
        conditions.append(f"attribute_exists({last_start})")
        conditions.append(f"{last_start_rid} = {x.value('rid', plan.rid or '')}")
    elif plan.run == "rid_open_or_none":
        conditions.append(
            f"(attribute_not_exists({last_start})"
            f" OR {last_start_rid} = {x.value('rid', plan.rid or '')})"
        )

    zero, one, now = x.value("zero", 0), x.value("one", 1), x.value("now", at_ms)
    sets = [
        f"{x.name('n_pings')} = if_not_exists({x.name('n_pings')}, {zero}) + {one}",
        f"{x.name(REVISION)} = if_not_exists({x.name(REVISION)}, {zero}) + {one}",
    ]
    removes: list[str] = []
    if plan.kind == "start":
        sets.append(f"{last_start} = {now}")
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
        # Closes the open run, if any; with none open the duration is 0, which the codec reads
        # as "no duration" (a finish that closed no run leaves none).
        sets.append(f"{x.name('last_duration')} = {now} - if_not_exists({last_start}, {now})")
        removes.extend((last_start, last_start_rid))
    return x.request(" AND ".join(conditions), sets, removes)


def full_update_request(seen: Item, after: Check, rev_seen: int) -> dict[str, Any]:
    """Turn the stored item `seen` into `after`, only if nobody wrote it since (revision check)."""
    new_item = to_item(after, rev=rev_seen + 1)
    x = _Expression()
    sets = [f"{x.name(REVISION)} = {x.value('rev_new', rev_seen + 1)}"]
    removes: list[str] = []
    for attribute in ATTRIBUTE.values():
        if attribute == "id":
            continue
        if attribute in new_item:
            if seen.get(attribute) != new_item[attribute]:
                sets.append(f"{x.name(attribute)} = {x.value(attribute, new_item[attribute])}")
        elif attribute in seen:
            removes.append(x.name(attribute))
    if rev_seen:
        seen_condition = f"{x.name(REVISION)} = {x.value('rev_seen', rev_seen)}"
    else:
        seen_condition = f"attribute_not_exists({x.name(REVISION)})"
    return x.request(f"attribute_exists({x.name('id')}) AND {seen_condition}", sets, removes)


class CheckStore:
    """Checks in the checks table, and the ping history and flips their pings write."""

    def __init__(
        self,
        dynamodb: Any,
        checks_table: str,
        events_table: str,
        settings: Settings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = dynamodb
        self._checks = checks_table
        self._events = events_table
        self._settings = settings or Settings()
        self._sleep = sleep

    def _key(self, check_id: str) -> Item:
        return {"id": {"S": check_id}}

    def get_item(self, check_id: str) -> Item | None:
        """The stored item, read consistently."""
        reply = self._db.get_item(
            TableName=self._checks, Key=self._key(check_id), ConsistentRead=True
        )
        item: Item | None = reply.get("Item")
        return item

    def get(self, check_id: str) -> tuple[Check, int] | None:
        """The check and its revision, read consistently; None if there is none."""
        item = self.get_item(check_id)
        return None if item is None else (from_item(item), revision(item))

    def create(self, check: Check, ping_key: str | None) -> None:
        """Store a new check at revision 1 with its slug key; CheckExists if the id is taken."""
        try:
            self._db.put_item(
                TableName=self._checks,
                Item=to_item(check, rev=1, ping_key=ping_key),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise CheckExists(check.id) from exc

    def resolve_slug(self, ping_key: str, slug: str) -> list[str]:
        """Ids of the checks with this slug under this ping key: one query on the slug index."""
        request = {
            "TableName": self._checks,
            "IndexName": SLUG_INDEX,
            "KeyConditionExpression": "slug_key = :key",
            "ExpressionAttributeValues": {":key": {"S": slug_key(ping_key, slug)}},
        }
        return [item["id"]["S"] for item in items(self._db.query, request)]

    def update_fast(self, check_id: str, plan: FastPath, ping: Ping, at_ms: int) -> FastResult:
        """Apply `plan` with one conditional UpdateItem; hand back the new or the stored item."""
        try:
            reply = self._db.update_item(
                TableName=self._checks,
                Key=self._key(check_id),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **fast_path_request(plan, ping, at_ms),
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            return FastResult(False, exc.response.get("Item"))
        return FastResult(True, reply["Attributes"])

    def record_ping(
        self, check_id: str, ping: Ping, at_ms: int, sender: Sender
    ) -> PingOutcome | None:
        """Apply `ping` to the check and record it; None if there is no such check.

        The outcome is exactly `apply_ping` on the stored state the winning write was conditioned
        on. Raises Contention if it lost every one of MAX_ATTEMPTS races.
        """
        plan = fast_path(ping)
        seen: Item | None = None
        for attempt in range(MAX_ATTEMPTS):
            if plan is not None and (seen is None or plan.admits(from_item(seen))):
                try:
                    fast = self.update_fast(check_id, plan, ping, at_ms)
                except self._db.exceptions.TransactionConflictException:
                    self._backoff(attempt)
                    continue
                if fast.item is None:
                    return None
                if fast.applied:
                    return self._finish_fast(plan, ping, at_ms, sender, fast.item)
                seen = fast.item
                continue
            if seen is None:
                seen = self.get_item(check_id)
                if seen is None:
                    return None
            outcome = apply_ping(from_item(seen), ping, at_ms)
            lost = self._write_general(seen, outcome, ping, at_ms, sender)
            if lost is None:
                return outcome
            seen = lost.item
            if lost.conflict or attempt >= 2:
                self._backoff(attempt)
        raise Contention(check_id)

    def _backoff(self, attempt: int) -> None:
        self._sleep(random.uniform(0, min(_BACKOFF_CAP_S, 0.002 * 2**attempt)))

    def _history(
        self,
        check: Check,
        kind: StoredKind,
        ping: Ping,
        at_ms: int,
        sender: Sender,
        duration_ms: int | None,
    ) -> Item:
        return ping_item(
            check_id=check.id,
            n=check.n_pings,
            at_ms=at_ms,
            kind=kind,
            method=ping.method,
            scheme=sender.scheme,
            remote_addr=sender.remote_addr,
            ua=sender.ua,
            body=ping.body,
            retention_days=self._settings.ping_retention_days,
            exit_status=ping.exit_status,
            rid=ping.rid,
            duration_ms=duration_ms,
        )

    def _finish_fast(
        self, plan: FastPath, ping: Ping, at_ms: int, sender: Sender, new: Item
    ) -> PingOutcome:
        """Record the history item of a ping the fast path applied (`new` is the check after it)."""
        check = from_item(new)
        duration = check.last_duration_ms if plan.kind in ("success", "fail") else None
        history = self._history(check, plan.kind, ping, at_ms, sender, duration)
        self._db.put_item(TableName=self._events, Item=history)
        return PingOutcome(check, plan.kind, duration, None)

    def _write_general(
        self, seen: Item, outcome: PingOutcome, ping: Ping, at_ms: int, sender: Sender
    ) -> _Lost | None:
        """One transaction: the check (if still at the revision seen), the history, the flip."""
        rev_seen = revision(seen)
        after = outcome.check
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._checks,
                    "Key": self._key(after.id),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    **full_update_request(seen, after, rev_seen),
                }
            },
            {
                "Put": {
                    "TableName": self._events,
                    "Item": self._history(
                        after, outcome.kind, ping, at_ms, sender, outcome.duration_ms
                    ),
                }
            },
        ]
        if outcome.flip is not None:
            flip = flip_item(
                check=after,
                flip=outcome.flip,
                at_ms=at_ms,
                rev=rev_seen + 1,
                retention_days=self._settings.flip_retention_days,
                previous_since_ms=from_item(seen).status_since_ms,
            )
            items.append({"Put": {"TableName": self._events, "Item": flip}})
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            check_reason = reasons[0] if reasons else {}
            code = check_reason.get("Code")
            if code == "ConditionalCheckFailed":
                return _Lost(check_reason.get("Item"), conflict=False)
            if code == "TransactionConflict" or any(
                r.get("Code") == "TransactionConflict" for r in reasons
            ):
                return _Lost(None, conflict=True)
            raise
        except self._db.exceptions.TransactionConflictException:
            return _Lost(None, conflict=True)
        return None
