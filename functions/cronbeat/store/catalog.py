"""Management operations on checks and reads of their history, for the management API.

The checks table holds one small item per check, so listing is a Scan. Every write is a
read-modify-write conditioned on the `rev` it read: a ping that lands in between bumps `rev`, the
condition fails, and the caller reads again instead of overwriting the ping's changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cronbeat.domain.model import Check, Flip
from cronbeat.store.codec import REVISION, Item, from_item, revision, to_item
from cronbeat.store.events import FLIP_PREFIX, PING_PREFIX, flip_item, ping_sk
from cronbeat.store.pages import items

MANUAL_FLIP = "manual_flip"
"""Item type of a status change made through the API (pause, resume).

It is history, like a flip, but the stream filter passes only `flip` and `reminder` items, so it
never reaches the notifier: pausing or resuming a check notifies no one, as on Healthchecks.io.
"""

HISTORY_FLIP_TYPES = frozenset({"flip", MANUAL_FLIP})


class CheckNotFound(LookupError):
    """The check does not exist (or was deleted while we worked on it)."""


class CheckChanged(RuntimeError):
    """The check was written by someone else since we read it; read it again and retry."""


@dataclass(frozen=True, slots=True)
class StoredCheck:
    check: Check
    rev: int


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


@dataclass(frozen=True, slots=True)
class FlipRecord:
    at_ms: int
    old: str
    new: str
    reason: str


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
    )


def _flip_record(item: Item) -> FlipRecord:
    return FlipRecord(
        at_ms=int(item["at"]["N"]),
        old=item.get("old", {"S": ""})["S"],
        new=item.get("new", {"S": ""})["S"],
        reason=item.get("reason", {"S": ""})["S"],
    )


def _update_request(
    table: str, before: Check, after: Check, *, rev: int, ping_key: str | None
) -> dict[str, Any] | None:
    """An UpdateItem that turns the stored `before` into `after`, conditioned on `rev`.

    Only attributes that differ are written, so the request stays small; None when nothing does.
    """
    old, new = to_item(before, ping_key=ping_key), to_item(after, ping_key=ping_key)
    changed = [name for name, value in new.items() if old.get(name) != value]
    removed = [name for name in old if name not in new]
    if not changed and not removed:
        return None
    names: dict[str, str] = {"#rev": REVISION, "#id": "id"}
    values: dict[str, Any] = {":one": {"N": "1"}}
    sets: list[str] = []
    for i, name in enumerate(changed):
        names[f"#s{i}"] = name
        values[f":s{i}"] = new[name]
        sets.append(f"#s{i} = :s{i}")
    removes = []
    for i, name in enumerate(removed):
        names[f"#r{i}"] = name
        removes.append(f"#r{i}")
    expression = ""
    if sets:
        expression += "SET " + ", ".join(sets) + " "
    if removes:
        expression += "REMOVE " + ", ".join(removes) + " "
    expression += "ADD #rev :one"
    if rev:
        condition = "attribute_exists(#id) AND #rev = :rev"
        values[":rev"] = {"N": str(rev)}
    else:
        condition = "attribute_exists(#id) AND attribute_not_exists(#rev)"
    return {
        "TableName": table,
        "Key": {"id": {"S": before.id}},
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


class Catalog:
    """List, read, change and delete checks; read their pings and flips."""

    def __init__(self, dynamodb: Any, checks_table: str, events_table: str) -> None:
        self._db = dynamodb
        self._checks = checks_table
        self._events = events_table

    # -- checks ---------------------------------------------------------------------------

    def all(self) -> list[StoredCheck]:
        """Every check, strongly consistent so a check created a moment ago is listed."""
        request = {"TableName": self._checks, "ConsistentRead": True}
        stored = [StoredCheck(from_item(i), revision(i)) for i in items(self._db.scan, request)]
        return sorted(stored, key=lambda s: (s.check.created_ms or 0, s.check.id))

    def find(self, *, tags: set[str] | None = None, slug: str | None = None) -> list[Check]:
        """Checks carrying every tag in `tags` and, when given, this slug (as Healthchecks.io)."""
        wanted = tags or set()
        return [
            s.check
            for s in self.all()
            if wanted.issubset(s.check.tag_list) and (slug is None or s.check.slug == slug)
        ]

    def _failed(self, old: Item | None) -> Exception:
        return CheckChanged() if old else CheckNotFound()

    def update(self, before: Check, after: Check, *, rev: int, ping_key: str | None) -> int:
        """Write `after` over `before` if the check is still at `rev`; return the new rev.

        Raises CheckChanged when something else wrote the check since, and CheckNotFound when
        it is gone.
        """
        request = _update_request(self._checks, before, after, rev=rev, ping_key=ping_key)
        if request is None:
            return rev
        try:
            self._db.update_item(**request)
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise self._failed(exc.response.get("Item")) from exc
        return rev + 1

    def transition(
        self,
        before: Check,
        after: Check,
        flip: Flip,
        *,
        rev: int,
        at_ms: int,
        ping_key: str | None,
        retention_days: int,
    ) -> int:
        """Write a status change made through the API and its history item in one transaction."""
        request = _update_request(self._checks, before, after, rev=rev, ping_key=ping_key)
        if request is None:
            return rev
        record = flip_item(
            check=after,
            flip=flip,
            at_ms=at_ms,
            rev=rev + 1,
            retention_days=retention_days,
            previous_since_ms=before.status_since_ms,
        )
        record["type"] = {"S": MANUAL_FLIP}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {"Update": request},
                    {"Put": {"TableName": self._events, "Item": record}},
                ]
            )
        except self._db.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or [{}]
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                raise self._failed(reasons[0].get("Item")) from exc
            raise CheckChanged() from exc
        return rev + 1

    def delete(self, check_id: str) -> Check | None:
        """Delete the check and return it; None if there was none.

        Its pings and flips stay until their TTL removes them: deleting hundreds of history
        items would make a DELETE slow and costly for no gain, since nothing can reach them.
        """
        reply = self._db.delete_item(
            TableName=self._checks, Key={"id": {"S": check_id}}, ReturnValues="ALL_OLD"
        )
        old = reply.get("Attributes")
        return from_item(old) if old else None

    def reachable(self) -> bool:
        """One cheap round trip to each table: False when DynamoDB cannot be reached or read."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._db.get_item(TableName=self._checks, Key={"id": {"S": "status"}})
            self._db.get_item(
                TableName=self._events, Key={"pk": {"S": "status"}, "sk": {"S": "status"}}
            )
        except (BotoCoreError, ClientError):
            return False
        return True

    # -- history --------------------------------------------------------------------------

    def pings(self, check_id: str, *, limit: int = 100) -> list[PingRecord]:
        """The check's latest pings, newest first."""
        records: list[PingRecord] = []
        kwargs: dict[str, Any] = {
            "TableName": self._events,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": check_id}, ":prefix": {"S": PING_PREFIX}},
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
