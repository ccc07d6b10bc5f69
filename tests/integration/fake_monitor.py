"""A small monitor on 127.0.0.1 for the CLI's tests: it records pings, answers them as scripted,
and serves a seeded Healthchecks.io v3 management API."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class RecordedPing:
    method: str
    path: str
    query: dict[str, str]
    body: bytes

    @property
    def kind(self) -> str:
        """The last path segment: `start`, an exit status, or the check's own id for success."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class FakeMonitor:
    url: str = ""
    body_limit_bytes: int | None = None
    api_key: str = "rw-key"
    checks: list[dict[str, Any]] = field(default_factory=list)
    pings_by_check: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bodies: dict[tuple[str, int], bytes] = field(default_factory=dict)
    pings: list[RecordedPing] = field(default_factory=list)
    api_requests: list[str] = field(default_factory=list)
    pages_pings: bool = True
    """Honour `limit` and `before` as cronbeat does; False serves every ping at once, as
    Healthchecks.io does."""
    _script: list[int] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def script(self, *statuses: int) -> None:
        """The statuses of the next pings, in order of arrival; 200 once the script runs out."""
        with self._changed:
            self._script.extend(statuses)

    def wait_for_pings(self, count: int, timeout_s: float = 10.0) -> list[RecordedPing]:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self.pings) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} pings, got {self.pings}")
                self._changed.wait(left)
            return list(self.pings)

    def record(self, ping: RecordedPing) -> int:
        with self._changed:
            self.pings.append(ping)
            self._changed.notify_all()
            return self._script.pop(0) if self._script else 200


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path.startswith("/api/v3/"):
            self._api()
        else:
            self._ping(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._ping(self.rfile.read(length))

    def _ping(self, body: bytes) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        monitor = self.server.monitor
        status = monitor.record(RecordedPing(self.command, parts.path, query, body))
        headers = {}
        if monitor.body_limit_bytes is not None:
            headers["Ping-Body-Limit"] = str(monitor.body_limit_bytes)
        self._reply(status, b"OK" if status == 200 else b"unavailable", "text/plain", headers)

    def _api(self) -> None:
        monitor = self.server.monitor
        monitor.api_requests.append(self.path)
        if self.headers.get("X-Api-Key") != monitor.api_key:
            self._json(401, {"error": "wrong api key"})
            return
        path, _, query = self.path.partition("?")
        segments = path.removeprefix("/api/v3/").strip("/").split("/")
        if segments == ["checks"]:
            self._json(200, {"checks": monitor.checks})
        elif len(segments) == 3 and segments[0] == "checks" and segments[2] == "pings":
            pings = monitor.pings_by_check.get(segments[1])
            if pings is None:
                self._json(404, {"error": "not found"})
            elif not monitor.pages_pings:
                self._json(200, {"pings": pings})
            else:
                asked = dict(parse_qsl(query))
                before = int(asked.get("before", 10**10))
                older = [ping for ping in pings if ping["n"] < before]
                self._json(200, {"pings": older[: int(asked.get("limit", 100))]})
        elif len(segments) == 5 and segments[2] == "pings" and segments[4] == "body":
            body = monitor.bodies.get((segments[1], int(segments[3])))
            if body is None:
                self._json(404, {"error": "not found"})
            else:
                self._reply(200, body, "text/plain", {})
        else:
            self._json(404, {"error": "not found"})

    def _json(self, status: int, document: object) -> None:
        self._reply(status, json.dumps(document).encode(), "application/json", {})

    def _reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was recorded, not on an access log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    monitor: FakeMonitor


@contextmanager
def running_monitor(**seed: Any) -> Iterator[FakeMonitor]:
    """A FakeMonitor serving on a free port of 127.0.0.1 until the block ends."""
    monitor = FakeMonitor(**seed)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.monitor = monitor
    monitor.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield monitor
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def unused_url() -> str:
    """A URL where nothing listens: a port the OS handed out, then closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class SilentMonitor:
    """A monitor that accepts each connection and never answers: a hung server."""

    url: str
    _connections: list[socket.socket] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def hold(self, connection: socket.socket) -> None:
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()

    def wait_for_connections(self, count: int, timeout_s: float = 10.0) -> int:
        """How many connections came, once at least `count` have (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self._connections) < count and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return len(self._connections)

    def close(self) -> None:
        with self._changed:
            for connection in self._connections:
                connection.close()


@contextmanager
def silent_monitor() -> Iterator[SilentMonitor]:
    """A SilentMonitor on a free port of 127.0.0.1 until the block ends."""
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.05)
        monitor = SilentMonitor(f"http://127.0.0.1:{listener.getsockname()[1]}")

        def accept() -> None:
            while not stop.is_set():
                try:
                    monitor.hold(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield monitor
        finally:
            stop.set()
            thread.join(5)
            monitor.close()
