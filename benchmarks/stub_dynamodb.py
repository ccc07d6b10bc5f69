"""A tiny DynamoDB stand-in on 127.0.0.1 that returns canned replies and counts calls.

It runs in its own process, so the CPU it spends is not charged to the client being measured,
and it does no real work, so moto's own cost stays out of the ratio.
Run: `python -m benchmarks.stub_dynamodb` prints the port, serves until stdin closes.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

CHECK_ID = "5a8f2a9e-3c41-4c1b-9a57-7d0b7c1e2f30"
UPDATED_CHECK = {
    "id": {"S": CHECK_ID},
    "name": {"S": "nightly backup"},
    "status": {"S": "up"},
    "timeout": {"N": "3600"},
    "grace": {"N": "600"},
    "last_ping": {"N": "1767225600123"},
    "n_pings": {"N": "1001"},
    "success_streak": {"N": "1001"},
    "rev": {"N": "1002"},
}
CANNED = {
    "UpdateItem": {"Attributes": UPDATED_CHECK},
    "PutItem": {},
}


class _Handler(BaseHTTPRequestHandler):
    counts: ClassVar[Counter[str]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        operation = self.headers.get("X-Amz-Target", ".").split(".", 1)[1]
        with self.lock:
            self.counts[operation] += 1
        body = json.dumps(CANNED.get(operation, {})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        """`GET /counts` returns and resets the call counts by operation."""
        with self.lock:
            body = json.dumps(dict(self.counts)).encode()
            self.counts.clear()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
