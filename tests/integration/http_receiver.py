"""A scriptable HTTP receiver on 127.0.0.1 for channel tests: it records every POST and
answers what the test scripted (200 by default), or holds the request until the test ends."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer; `hang` holds the request unanswered until the test ends."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    hang: bool = False


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the test server saw, and what it will answer next (default: 200)."""

    base_url: str = ""
    port: int = 0
    script: deque[Reply] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    replies_cut: list[int] = field(default_factory=list)
    """Byte counts of replies the client stopped reading before their end."""
    answered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        self.script.extend(Reply(status, headers or {}) for status in statuses)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                reply = receiver.script.popleft() if receiver.script else Reply()
                received = Received(self.path, dict(self.headers), body, reply.status)
                receiver.received.append(received)
            if reply.hang:
                receiver.release.wait(timeout=60)
                return
            content = reply.body
            if content is None:
                ok = reply.status < 300
                content = b'{"ok": true}' if ok else b'{"ok": false, "error": "scripted"}'
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            try:
                self.wfile.write(content)
            except ConnectionError:
                receiver.replies_cut.append(len(content))
            finally:
                receiver.answered.set()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `received`, not the log."""

    return Handler


def serve() -> Iterator[Receiver]:
    """A threaded HTTP server on a free port of 127.0.0.1 while the test runs; shut down (and
    unblocked) at the end."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    host, port = server.server_address[:2]
    state.base_url, state.port = f"http://{host!s}:{port}", int(port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive()
