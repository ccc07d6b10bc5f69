"""Local mode's HTTP server over a real socket, with a recording function in place of a handler."""

from __future__ import annotations

import base64
import http.client
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cronbeat.local.console import Console
from cronbeat.local.gateway import GatewayServer, Route


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


@pytest.mark.parametrize(("length", "status"), [(str(11 * 1024 * 1024), 413), ("many", 400)])
def test_bodies_api_gateway_refuses_never_reach_the_handler(
    served: tuple[Recorder, GatewayServer, io.StringIO], length: str, status: int
) -> None:
    function, server, _ = served
    # When a request announces a body over the 10 MB payload limit, or an unreadable length
    conn = connect(server)
    conn.putrequest("POST", "/ping/abc")
    conn.putheader("Content-Length", length)
    conn.endheaders()
    # Then API Gateway's answer comes back at once and the handler is never called
    assert conn.getresponse().status == status
    assert function.events == []
