"""A DynamoDB stand-in on 127.0.0.1 that answers like the real service and counts calls.

It runs in its own process, so the CPU it spends is not charged to the client being measured,
and it does no database work, so moto's own cost stays out of the ratios. It speaks HTTP/1.1 with
keep-alive, as DynamoDB does, so a client pays one connection, not one per call.

- `UpdateItem` returns a realistic check item (a real `Check` through the store's codec, about 20
  attributes); `PutItem` and `TransactWriteItems` return what DynamoDB returns without
  ReturnValues.
- `Scan` serves a table of `--checks` real-size items in pages of at most 1 MB of scanned items
  (`ScannedCount`, `LastEvaluatedKey`), honouring `Segment`/`TotalSegments`, the sweep's filter
  (`attribute_not_exists(alert_at) OR alert_at <= :due_by`, optionally `OR
  attribute_exists(last_start)`) and a `ProjectionExpression`. Without a FilterExpression every
  scanned item is returned. With `--every-segment`, every segment serves the whole table: one
  segment worker's share of a table too large to hold here.
- `DescribeTable` reports `--item-count` items (default: the table's).

Run: `python -m benchmarks.stub_dynamodb [--checks N] [--due FRACTION] [--every-segment]
[--item-count N]` prints the port, then
serves until stdin closes. `GET /counts` returns and resets the call counts by operation.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import random
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from benchmarks.sizes import PING_KEY, T0, typical_check, with_full_window
from cronbeat.domain.model import SECOND_MS, STORED_NAMES, Check
from cronbeat.store.checks import ALERT_AT, check_item
from cronbeat.store.codec import Item
from cronbeat.store.sizing import item_bytes

SCAN_PAGE_BYTES = 1024 * 1024
"""A Scan request reads at most 1 MB of items before it returns a page."""
SWEEP_AT_MS = T0
"""The moment the table's checks are shaped around: due checks' `alert_at` is before it."""
FILTER = re.compile(
    r"^\s*attribute_not_exists\((?P<a>[#\w]+)\)\s+OR\s+(?P<b>[#\w]+)\s*<=\s*(?P<v>:\w+)"
    r"(?:\s+OR\s+attribute_exists\((?P<open>[#\w]+)\))?\s*$"
)
OPEN_RUN = STORED_NAMES["last_start_ms"]
"""The sweep's filter (`due_filter`): no `alert_at`, or one that has passed, or an open run."""


def table_check(rng: random.Random, index: int, due: bool) -> Check:
    """A typical check (sizes' shape); a due one last pinged two days ago, so it is overdue."""
    check = typical_check(rng, index)
    if due:
        check = dataclasses.replace(check, last_ping_ms=SWEEP_AT_MS - 2 * 86_400 * SECOND_MS)
    return check


def stored_item(check: Check, rev: int) -> Item:
    """The item the store writes, `alert_at` and all."""
    return check_item(check, rev=rev, ping_key=PING_KEY)


def ping_reply_item() -> Item:
    """What UpdateItem with ALL_NEW returns for a ping: a cron check with tags and two channels,
    judged for slowness with a full window of durations (none slow, so no correcting write)."""
    rng = random.Random(7)
    check = dataclasses.replace(
        with_full_window(typical_check(rng, 1), rng),
        kind="cron",
        schedule="0 2 * * *",
        tz="Europe/Riga",
        tags="prod db",
    )
    return stored_item(check, rev=1002)


CHECK_ID = ping_reply_item()["id"]["S"]


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    item: Item
    encoded: str
    size: int
    alert_at: int
    open_run: bool


def build_table(checks: int, due: float) -> list[Row]:
    rng, draw = random.Random(f"table-{checks}"), random.Random(f"due-{checks}")
    rows = []
    for index in range(checks):
        # Drawn, not every n-th: due checks spread over every segment, as in a real table.
        is_due = draw.random() < due
        item = stored_item(table_check(rng, index, is_due), rev=rng.randint(1, 500_000))
        alert_at, open_run = int(item[ALERT_AT]["N"]), OPEN_RUN in item
        rows.append(Row(item, json.dumps(item), item_bytes(item), alert_at, open_run))
    return rows


def _name(token: str, names: dict[str, str]) -> str:
    return names.get(token, token)


def scan_page(rows: list[Row], request: dict[str, Any], every_segment: bool = False) -> str:
    """One Scan reply, JSON-encoded, by DynamoDB's rules for the parts the sweep uses."""
    total = 1 if every_segment else int(request.get("TotalSegments", 1))
    segment = 0 if every_segment else int(request.get("Segment", 0))
    names: dict[str, str] = request.get("ExpressionAttributeNames", {})
    values: dict[str, Any] = request.get("ExpressionAttributeValues", {})
    due_by: int | None = None
    open_runs_pass = False
    if "FilterExpression" in request:
        match = FILTER.match(request["FilterExpression"])
        if (
            not match
            or {_name(match["a"], names), _name(match["b"], names)} != {ALERT_AT}
            or (match["open"] is not None and _name(match["open"], names) != OPEN_RUN)
        ):
            raise ValueError(f"unsupported FilterExpression {request['FilterExpression']!r}")
        due_by = int(values[match["v"]]["N"])
        open_runs_pass = match["open"] is not None
    projection: list[str] | None = None
    if "ProjectionExpression" in request:
        projection = [_name(p.strip(), names) for p in request["ProjectionExpression"].split(",")]
    start = 0
    if "ExclusiveStartKey" in request:
        start = int(request["ExclusiveStartKey"]["id"]["S"].split("-", 1)[0], 16) + total
    start += (segment - start) % total  # the segment's first index at or after `start`
    returned: list[str] = []
    scanned = 0
    page_bytes = 0
    index = start
    last = None
    while index < len(rows):
        row = rows[index]
        if page_bytes + row.size > SCAN_PAGE_BYTES:
            break
        page_bytes += row.size
        scanned += 1
        last = index
        if due_by is None or row.alert_at <= due_by or (open_runs_pass and row.open_run):
            if projection is None:
                returned.append(row.encoded)
            else:
                kept = {k: row.item[k] for k in projection if k in row.item}
                returned.append(json.dumps(kept))
        index += total
    body = (
        f'{{"Count": {len(returned)}, "ScannedCount": {scanned}, "Items": [{", ".join(returned)}]'
    )
    if index < len(rows) and last is not None:
        body += f', "LastEvaluatedKey": {json.dumps({"id": rows[last].item["id"]})}'
    return body + "}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    counts: ClassVar[Counter[str]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()
    rows: ClassVar[list[Row]] = []
    every_segment: ClassVar[bool] = False
    replies: ClassVar[dict[str, bytes]] = {
        "UpdateItem": json.dumps({"Attributes": ping_reply_item()}).encode(),
    }

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        request = self.rfile.read(length)
        operation = self.headers.get("X-Amz-Target", ".").split(".", 1)[1]
        with self.lock:
            self.counts[operation] += 1
        if operation == "Scan":
            self._send(scan_page(self.rows, json.loads(request), self.every_segment).encode())
        else:
            self._send(self.replies.get(operation, b"{}"))

    def do_GET(self) -> None:
        with self.lock:
            body = json.dumps(dict(self.counts)).encode()
            self.counts.clear()
        self._send(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def ids_in_order(rows: list[Row]) -> bool:
    """Scan pages resume from the key's index, which the ids carry in their first 8 hex digits."""
    return all(int(r.item["id"]["S"].split("-", 1)[0], 16) == i for i, r in enumerate(rows))


@contextlib.contextmanager
def running(*args: str) -> Iterator[str]:
    """A stub in its own process for the duration of the block; yields its endpoint URL."""
    from benchmarks.harness import python_env

    stub = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.stub_dynamodb", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    try:
        assert stub.stdout is not None
        yield f"http://127.0.0.1:{stub.stdout.readline().strip()}"
    finally:
        assert stub.stdin is not None
        stub.stdin.close()
        stub.wait(timeout=30)


def use_stub(endpoint: str) -> None:
    """Point this process's cronbeat settings and clients at the stub."""
    import os

    from benchmarks.harness import python_env

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        os.environ.setdefault(name, python_env()[name])
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["CRONBEAT_CHECKS_TABLE"] = "checks"
    os.environ["CRONBEAT_EVENTS_TABLE"] = "events"

    from cronbeat import runtime

    runtime.reset()


def counts(endpoint: str) -> dict[str, int]:
    """The stub's call counts by operation since the last look (and reset them)."""
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/counts", timeout=5) as reply:
        counted: dict[str, int] = json.load(reply)
        return counted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=0)
    parser.add_argument("--due", type=float, default=0.01)
    parser.add_argument("--every-segment", action="store_true")
    parser.add_argument("--item-count", type=int, default=None)
    args = parser.parse_args()
    _Handler.rows = build_table(args.checks, args.due)
    _Handler.every_segment = args.every_segment
    item_count = len(_Handler.rows) if args.item_count is None else args.item_count
    _Handler.replies["DescribeTable"] = json.dumps({"Table": {"ItemCount": item_count}}).encode()
    assert ids_in_order(_Handler.rows)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
