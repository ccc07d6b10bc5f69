"""A DynamoDB stand-in for the sweep benchmarks: HTTP/1.1 keep-alive on 127.0.0.1, in its own
process, answering Scan with realistic 1 MB pages, TransactWriteItems with success, and
DescribeTable with an item count.

A page holds as many realistic check items (benchmarks.sizes' typical check, 20 attributes) as
DynamoDB's 1 MB page limit admits by its own item-size rule, projected as the sweep asks, with
1% of them overdue. Each Scan segment serves `--checks` items, then ends.
Run: `python -m benchmarks.sweep_stub --checks 25000` prints the port, serves until stdin closes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from benchmarks.harness import python_env
from benchmarks.scan_cpu import _fire_before
from benchmarks.sizes import typical_check
from cronbeat.domain.model import SCANNED_FIELDS, STORED_NAMES
from cronbeat.store.codec import REVISION, to_item
from cronbeat.store.sizing import item_bytes

SWEEP_AT_MS = 1_795_435_200_000
"""The benchmarks' sweep time (benchmarks.sizes' T0)."""
PAGE_LIMIT_BYTES = 1024 * 1024
DUE_SHARE = 0.01
MINUTE_MS = 60_000
PROJECTED = {*(STORED_NAMES[field] for field in SCANNED_FIELDS), REVISION}


def page_items(rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    """One page's worth of projected items (1% overdue), and how many bytes DynamoDB counts."""
    items: list[dict[str, Any]] = []
    size = 0
    while True:
        index = len(items)
        check = typical_check(rng, index)
        due = rng.random() < DUE_SHARE
        if check.kind == "simple":
            minutes = rng.randint(71, 300) if due else rng.randint(0, 55)
            check = replace(check, last_ping_ms=SWEEP_AT_MS - minutes * MINUTE_MS)
        else:
            fire = _fire_before(check.schedule, check.tz, SWEEP_AT_MS)
            if due:
                fire = _fire_before(check.schedule, check.tz, fire - 1000)
            check = replace(check, last_ping_ms=fire + 5_000)
        item = to_item(check, rev=rng.randint(1, 10**5))
        size += item_bytes(item)
        if size > PAGE_LIMIT_BYTES:
            return items, size - item_bytes(item)
        items.append({name: value for name, value in item.items() if name in PROJECTED})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB's endpoint
    # Headers and body leave in two sends: without this, Nagle's algorithm holds the body
    # until the client's delayed ACK (about 40 ms a reply).
    disable_nagle_algorithm = True
    page: ClassVar[bytes] = b""
    per_page: ClassVar[int] = 1
    checks: ClassVar[int] = 0

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        operation = self.headers.get("X-Amz-Target", ".").split(".", 1)[1]
        if operation == "Scan":
            body = self._scan_page(request)
        elif operation == "DescribeTable":
            body = json.dumps({"Table": {"ItemCount": self.checks}}).encode()
        else:
            body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _scan_page(self, request: dict[str, Any]) -> bytes:
        """Page n of the segment; the last one ends it (no LastEvaluatedKey)."""
        start = request.get("ExclusiveStartKey", {}).get("id", {}).get("S", "0")
        page = int(start)
        pages = -(-self.checks // self.per_page)
        tail = b""
        if page + 1 < pages:
            tail = b', "LastEvaluatedKey": {"id": {"S": "%d"}}' % (page + 1)
        count = b', "Count": %d, "ScannedCount": %d' % (self.per_page, self.per_page)
        return b'{"Items": ' + self.page + count + tail + b"}"

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def running(checks: int) -> Iterator[tuple[str, int]]:
    """The stub in a child process: its endpoint URL and the items per page."""
    stub = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sweep_stub", "--checks", str(checks)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    try:
        assert stub.stdout is not None
        port, per_page = stub.stdout.readline().split()
        yield f"http://127.0.0.1:{port}", int(per_page)
    finally:
        assert stub.stdin is not None
        stub.stdin.close()
        stub.wait(timeout=10)


def use_stub(endpoint: str) -> None:
    """Point this process's cronbeat settings and clients at the stub."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["CRONBEAT_CHECKS_TABLE"] = "checks"
    os.environ["CRONBEAT_EVENTS_TABLE"] = "events"

    from cronbeat import runtime

    runtime.reset()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=25_000, help="items per Scan segment")
    options = parser.parse_args()
    items, _ = page_items(random.Random("sweep-stub"))
    _Handler.page = json.dumps(items).encode()
    _Handler.per_page = len(items)
    _Handler.checks = options.checks
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], len(items), flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
