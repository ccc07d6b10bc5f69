"""Fixtures the management API tests share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import Aws
from tests.integration.api_requests import RO_KEY, Api, seed_keys
from tests.integration.http_receiver import Receiver, serve


@pytest.fixture
def api(aws: Aws) -> Api:
    """A read-write client (both keys exist)."""
    seed_keys(aws)
    return Api()


@pytest.fixture
def readonly(api: Api) -> Api:
    """A read-only client (both keys exist)."""
    return Api(key=RO_KEY)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A scriptable receiver on 127.0.0.1 that records every POST (`http_receiver`)."""
    yield from serve()


@pytest.fixture
def receiver_url() -> Iterator[tuple[str, list[bytes]]]:
    """A webhook receiver on 127.0.0.1 that answers 204: its URL, and the bodies it got."""
    received: list[bytes] = []

    class Accept(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `received`."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}/hook", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
