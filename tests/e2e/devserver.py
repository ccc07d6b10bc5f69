"""Drive `cronbeat dev` as a user does: a subprocess on a free port, spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0


class Output:
    """Lines a pipe produced so far, with a bounded wait for one that matches."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.times: list[float] = []
        """When each line arrived (wall clock), for measuring how soon something was said."""
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self.times.append(time.time())
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        """The first line matching `pattern`; AssertionError if none arrives in time."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for line in self.lines:
                    found = regex.search(line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise AssertionError(f"no line matching {pattern!r} in:\n{self.text()}")
                self._changed.wait(left)

    def wait_for_at(self, pattern: str, timeout_s: float) -> float:
        """When the first line matching `pattern` arrived (wall clock)."""
        found = self.wait_for(pattern, timeout_s)
        with self._changed:
            return next(
                t for line, t in zip(self.lines, self.times, strict=True) if found[0] in line
            )

    def wait_closed(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    req = Request(url, data=body, method=method, headers=headers or {})
    try:
        with urlopen(req, timeout=10) as reply:
            return Reply(reply.status, dict(reply.headers.items()), reply.read())
    except HTTPError as error:
        return Reply(error.code, dict(error.headers.items()), error.read())


def poll(condition: Callable[[], bool], what: str, within_s: float) -> None:
    """Wait for `condition` with a bounded deadline; fail saying what never happened."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {within_s:g} s: {what}")
        time.sleep(0.1)


@dataclass
class DevServer:
    process: subprocess.Popen[str]
    stdout: Output
    stderr: Output
    base_url: str = ""
    api_key: str = ""
    read_only_key: str = ""
    ping_key: str = ""

    def api(self, method: str, path: str, document: Any = None, *, key: str | None = None) -> Reply:
        body = None if document is None else json.dumps(document).encode()
        headers = {"X-Api-Key": key or self.api_key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return request(f"{self.base_url}/api/v3/{path}", method=method, body=body, headers=headers)

    def ping(self, path: str, body: bytes | None = None) -> Reply:
        headers = {"Content-Type": "text/plain"} if body is not None else {}
        method = "POST" if body is not None else "GET"
        return request(f"{self.base_url}/ping/{path}", method=method, body=body, headers=headers)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """SIGTERM as a service manager stops it (or SIGINT, Ctrl-C); the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            status = self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)
            raise AssertionError(f"cronbeat dev ignored SIGTERM:\n{self.stdout.text()}") from None
        self.stdout.wait_closed(STOP_TIMEOUT_S)
        self.stderr.wait_closed(STOP_TIMEOUT_S)
        return status


def spawn(*args: str) -> DevServer:
    """`cronbeat dev ARGS` in a subprocess (the CLI's dispatch included); not waited for."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "functions"), env.get("PYTHONPATH")])
    )
    env["PYTHONUNBUFFERED"] = "1"
    for name in ("CRONBEAT_API_KEY", "CRONBEAT_READ_ONLY_KEY", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "cronbeat.cli", "dev", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    return DevServer(process, Output(process.stdout), Output(process.stderr))


def start(*args: str, timeout_s: float = START_TIMEOUT_S) -> DevServer:
    """`cronbeat dev` on a free port, once its banner says it serves; keys read from the banner."""
    server = spawn("--port", "0", *args)
    try:
        server.base_url = server.stdout.wait_for(r"Base URL\s+(\S+)", timeout_s)[1]
    except AssertionError:
        server.process.kill()
        server.process.wait(STOP_TIMEOUT_S)
        raise AssertionError(f"cronbeat dev did not start:\n{server.stderr.text()}") from None
    server.api_key = server.stdout.wait_for(r"API key\s+(\S+)", 1)[1]
    server.read_only_key = server.stdout.wait_for(r"Read-only key\s+(\S+)", 1)[1]
    server.ping_key = server.stdout.wait_for(r"Ping key\s+(\S+)", 1)[1]
    server.stdout.wait_for(r"Press Ctrl-C to stop", 1)
    return server


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    received_s: float = field(default_factory=time.time)
    """Wall-clock arrival time, for measuring detection lag."""


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that records every POST and answers 200."""

    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._changed:
                    receiver.deliveries.append(
                        Delivery(self.path, dict(self.headers.items()), body)
                    )
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cronbeat"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def wait_for(self, count: int, timeout_s: float, diagnose: Callable[[], str]) -> list[Delivery]:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.deliveries)} of {count} webhooks arrived:\n{diagnose()}"
                    )
                self._changed.wait(left)
            return list(self.deliveries)


HOLD_LIMIT_S = 40.0
"""How long a bad receiver holds a connection at most, so every server thread ends by itself."""


@dataclass
class BadReceiver:
    """A receiver that misbehaves in one way, recording how long each request was held."""

    behaviour: str
    """`never` answers, `trickle`s its reply a byte every 0.5 s, or answers `500`."""
    url: str = ""
    held_s: list[float] = field(default_factory=list)
    requests: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.behaviour} receiver: no {what} in {timeout_s} s")
                self.changed.wait(left)

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                began = time.monotonic()
                with receiver.changed:
                    receiver.requests += 1
                    receiver.changed.notify_all()
                if receiver.behaviour == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.connection.settimeout(HOLD_LIMIT_S)
                try:
                    if receiver.behaviour == "never":
                        # Blocks until the client gives up and closes (b"") or the hold limit.
                        self.connection.recv(1)
                    else:
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                            self.connection.sendall(bytes([byte]))
                            if time.monotonic() - began > HOLD_LIMIT_S:
                                break
                            time.sleep(0.5)  # the trickle itself, not a synchronisation
                except OSError:
                    pass
                with receiver.changed:
                    receiver.held_s.append(time.monotonic() - began)
                    receiver.changed.notify_all()
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}/{self.behaviour}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
