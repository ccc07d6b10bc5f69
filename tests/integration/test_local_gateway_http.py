"""Local mode's HTTP server over a real socket, with a recording function in place of a handler."""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cronbeat.local.console import Console
from cronbeat.local.gateway import BODY_DEADLINE_S, GatewayServer, Route


class Recorder:
    """Answers like a handler and keeps each event it was given."""

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = result
        self.error = error

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def served() -> Iterator[tuple[Recorder, GatewayServer, io.StringIO]]:
    function = Recorder(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "text/plain", "Ping-Body-Limit": "10000"},
            "body": "OK",
            "isBase64Encoded": False,
        }
    )
    out, err = io.StringIO(), io.StringIO()

    def router(method: str, path: str) -> Route | None:
        return Route(function, "ANY /ping/{proxy+}") if path.startswith("/ping/") else None

    server = GatewayServer(("127.0.0.1", 0), Console(out, err), router)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield function, server, err
    server.shutdown()
    server.server_close()
    thread.join(5)


def connect(server: GatewayServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)


def test_reply_and_event_over_http(served: tuple[Recorder, GatewayServer, io.StringIO]) -> None:
    function, server, _ = served
    # When a client posts a body to a ping URL
    conn = connect(server)
    conn.request("POST", "/ping/abc?rid=1", body=b"done", headers={"Content-Type": "text/plain"})
    reply = conn.getresponse()
    # Then it gets the handler's status, headers and body, plus API Gateway's request id
    assert (reply.status, reply.read()) == (200, b"OK")
    assert reply.getheader("Ping-Body-Limit") == "10000"
    assert reply.getheader("apigw-requestid") == function.events[0]["requestContext"]["requestId"]
    # And the handler saw the body and the port it came in on
    event = function.events[0]
    assert (event["body"], event["rawQueryString"]) == ("done", "rid=1")
    assert event["headers"]["x-forwarded-port"] == str(server.server_address[1])


def test_head_gets_headers_and_no_body(served: tuple[Recorder, GatewayServer, io.StringIO]) -> None:
    function, server, _ = served
    conn = connect(server)
    conn.request("HEAD", "/ping/abc")
    reply = conn.getresponse()
    assert (reply.status, reply.getheader("Content-Length"), reply.read()) == (200, "2", b"")
    assert function.events[0]["requestContext"]["http"]["method"] == "HEAD"
    # And the connection stays usable for the next request (HTTP/1.1 keep-alive)
    conn.request("GET", "/ping/abc")
    assert conn.getresponse().read() == b"OK"


def test_chunked_body_reaches_the_handler_whole(
    served: tuple[Recorder, GatewayServer, io.StringIO],
) -> None:
    function, server, _ = served
    # When a client streams its body in chunks (as curl does when reading stdin)
    conn = connect(server)
    conn.request(
        "POST",
        "/ping/abc",
        body=iter([b"\xff\x00binary ", b"output"]),
        headers={"Content-Type": "application/octet-stream"},
        encode_chunked=True,
    )
    assert conn.getresponse().status == 200
    # Then the handler gets all of it, base64-encoded as binary
    event = function.events[0]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00binary output"


def test_unrouted_path_is_api_gateways_404(
    served: tuple[Recorder, GatewayServer, io.StringIO],
) -> None:
    function, server, _ = served
    conn = connect(server)
    conn.request("GET", "/nothing-here")
    reply = conn.getresponse()
    assert (reply.status, reply.read()) == (404, b'{"message": "Not Found"}')
    assert function.events == []


def test_handler_crash_is_a_500_and_a_traceback_on_the_console(
    served: tuple[Recorder, GatewayServer, io.StringIO],
) -> None:
    function, server, err = served
    function.error = RuntimeError("boom")
    conn = connect(server)
    conn.request("GET", "/ping/abc")
    reply = conn.getresponse()
    assert (reply.status, reply.read()) == (500, b'{"message": "Internal Server Error"}')
    assert "RuntimeError: boom" in err.getvalue()


@pytest.mark.parametrize(
    ("length", "status"),
    [(str(11 * 1024 * 1024), 413), ("many", 400), ("-5", 400), ("+-1", 400)],
)
def test_bodies_api_gateway_refuses_never_reach_the_handler(
    served: tuple[Recorder, GatewayServer, io.StringIO], length: str, status: int
) -> None:
    function, server, _ = served
    # When a request announces a body over the 10 MB payload limit, or an unreadable or
    # negative length
    conn = connect(server)
    conn.putrequest("POST", "/ping/abc")
    conn.putheader("Content-Length", length)
    conn.endheaders()
    # Then API Gateway's answer comes back at once and the handler is never called
    assert conn.getresponse().status == status
    assert function.events == []


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_a_method_api_gateway_does_not_route_is_a_405_naming_the_allowed_ones(
    served: tuple[Recorder, GatewayServer, io.StringIO], method: str
) -> None:
    function, server, _ = served
    conn = connect(server)
    conn.request(method, "/ping/abc")
    reply = conn.getresponse()
    assert (reply.status, reply.read()) == (405, b'{"message": "Method Not Allowed"}')
    assert reply.getheader("Allow") == "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    assert function.events == []


def test_a_malformed_request_line_gets_a_json_400_not_an_html_page(
    served: tuple[Recorder, GatewayServer, io.StringIO],
) -> None:
    _, server, _ = served
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as raw:
        raw.sendall(b"GET /ping/abc HTTP/1.1 extra words\r\n\r\n")
        answer = raw.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    assert "message" in json.loads(body)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_shorter_than_declared_is_a_400_within_the_deadline(
    served: tuple[Recorder, GatewayServer, io.StringIO], chunked: bool
) -> None:
    function, server, _ = served
    # When a client declares 100 bytes (or a 100-byte chunk), sends 10 and waits
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as raw:
        framing = (
            b"Transfer-Encoding: chunked\r\n\r\n64\r\n"
            if chunked
            else b"Content-Length: 100\r\n\r\n"
        )
        raw.sendall(b"POST /ping/abc HTTP/1.1\r\nHost: x\r\n" + framing + b"0123456789")
        started = time.monotonic()
        answer = raw.makefile("rb").read()
        waited_s = time.monotonic() - started
    # Then the server answers 400 and closes once the body deadline passes, never holding on
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in answer
    assert waited_s < BODY_DEADLINE_S + 1.5
    assert function.events == []


class Gate:
    """A handler that holds every request until released, counting those it holds."""

    def __init__(self) -> None:
        self.held = 0
        self.release = threading.Event()
        self.changed = threading.Condition()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.changed:
            self.held += 1
            self.changed.notify_all()
        self.release.wait(10)
        return {"statusCode": 200, "body": "OK"}

    def wait_held(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.held >= count, timeout=10)


def send_ping(port: int) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    raw.sendall(b"GET /ping/abc HTTP/1.1\r\nHost: x\r\n\r\n")
    return raw


@contextmanager
def gated_server(gate: Gate, err: io.StringIO, **pool: int) -> Iterator[GatewayServer]:
    """A served GatewayServer whose every route is `gate`, with the pool sizes given."""
    server = GatewayServer(
        ("127.0.0.1", 0),
        Console(io.StringIO(), err),
        lambda method, path: Route(gate, "ANY /ping/{proxy+}"),
        **pool,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        gate.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_past_the_pool_and_its_queue_the_server_answers_503_with_retry_after() -> None:
    # Given a server with 2 workers and room for 2 waiting connections, both workers held
    gate = Gate()
    err = io.StringIO()
    with gated_server(gate, err, workers=2, queued=2) as server:
        port = server.server_address[1]
        held = [send_ping(port) for _ in range(2)]
        gate.wait_held(2)
        waiting = [send_ping(port) for _ in range(2)]
        # When one more client comes
        with send_ping(port) as refused:
            answer = refused.makefile("rb").read()
        # Then it is told at once that the server is busy and when to retry
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b"\r\nretry-after: 1\r\n" in answer.lower()
        assert gate.held == 2
        # And once the workers are free, the waiting clients are served too
        gate.release.set()
        for raw in held + waiting:
            assert raw.makefile("rb").readline().startswith(b"HTTP/1.1 200 ")
            raw.close()
        assert err.getvalue() == ""


def test_a_client_that_hangs_up_before_its_reply_leaves_no_traceback() -> None:
    # Given a handler that is still working when its client resets the connection, on a server
    # with one worker (so the next request is served only once that one is over)
    gate = Gate()
    err = io.StringIO()
    with gated_server(gate, err, workers=1) as server:
        raw = send_ping(server.server_address[1])
        gate.wait_held(1)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        # When the reply is written to the closed connection
        gate.release.set()
        # Then the server still answers, and the console shows no traceback
        with send_ping(server.server_address[1]) as again:
            assert again.makefile("rb").readline().startswith(b"HTTP/1.1 200 ")
        assert err.getvalue() == ""
