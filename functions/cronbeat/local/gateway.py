"""A local stand-in for the HTTP API: requests become payload v2 events for the real handlers.

Routes are the stack's: `ANY /ping/{proxy+}` to the ping function; `ANY /api/{proxy+}`, `GET /`
and the badges' `GET` and `OPTIONS /badge/{proxy+}` and `/b/{proxy+}` to the API function;
anything else 404 as API Gateway answers it. The event carries what
API Gateway puts in it (lower-cased headers joined by commas, cookies apart, the X-Forwarded-*
headers it adds, a base64 body unless the content type is text), and the reply goes back with
exactly the status, headers and body the handler returned.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from cronbeat.local.console import Console
from cronbeat.local.functions import ACCOUNT_ID, API, PING, Invocable

API_ID = "local"
MAX_BODY_BYTES = 10 * 1024 * 1024
"""API Gateway's payload limit: a larger request never reaches the function."""
WORKERS = 16
"""Connections served at once. Handlers share one interpreter and moto serialises DynamoDB, so
more threads add memory and contention, not throughput."""
QUEUED_CONNECTIONS = 32
"""Accepted connections waiting for a worker; past this the server answers 503 at once."""
REFUSALS_QUEUED = 512
"""Connections waiting for their 503 (a socket each, a few kB); past this they are closed."""
LISTEN_BACKLOG = 128
RETRY_AFTER_S = 1
BODY_DEADLINE_S = 2.0
"""A declared body must arrive within this, or the request is a 400 and the connection closes."""
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""What API Gateway's `ANY` routes take; anything else is a 405."""

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True, slots=True)
class Route:
    function: Invocable
    route_key: str
    path_parameters: dict[str, str] | None = None


BADGE_PREFIXES = ("/badge/", "/b/")
"""The public badge routes: GET and OPTIONS only, as the stack routes them."""


def route(method: str, path: str) -> Route | None:
    """The stack's route for a request, or None where API Gateway answers 404 itself."""
    for prefix, function in (("/ping/", PING), ("/api/", API)):
        if path.startswith(prefix) and len(path) > len(prefix):
            return Route(
                function, f"ANY {prefix}{{proxy+}}", {"proxy": unquote(path[len(prefix) :])}
            )
    for prefix in BADGE_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix) and method in ("GET", "OPTIONS"):
            return Route(
                API, f"{method} {prefix}{{proxy+}}", {"proxy": unquote(path[len(prefix) :])}
            )
    if path == "/" and method == "GET":
        return Route(API, "GET /")
    return None


def is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)


def http_event(
    *,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    server_port: int,
    at_ms: int,
    request_id: str,
    matched: Route,
) -> dict[str, Any]:
    """The HTTP API payload v2 event API Gateway would hand the function for this request."""
    parts = urlsplit(target)
    raw_path = parts.path or "/"
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    forwarded_for = joined.get("x-forwarded-for")
    joined["x-forwarded-for"] = f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip
    joined.setdefault("x-forwarded-proto", "http")
    joined.setdefault("x-forwarded-port", str(server_port))
    joined["x-amzn-trace-id"] = f"Root=1-{at_ms // 1000:08x}-{uuid.uuid4().hex[:24]}"
    domain_name = joined.get("host", f"127.0.0.1:{server_port}")

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": matched.route_key,
        "rawPath": raw_path,
        "rawQueryString": parts.query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": matched.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(at_ms / 1000)),
            "timeEpoch": at_ms,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if parts.query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if matched.path_parameters is not None:
        event["pathParameters"] = matched.path_parameters
    if body:
        text = _as_text(body, joined.get("content-type", ""))
        if text is None:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _as_text(body: bytes, content_type: str) -> str | None:
    if not is_text(content_type):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def reply_from(result: Any) -> Reply:
    """What API Gateway sends back for a function's return value (payload format 2.0)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A bare value is a 200 JSON body, as API Gateway infers for format 2.0.
        text = result if isinstance(result, str) else json.dumps(result)
        return Reply(200, [("content-type", "application/json")], text.encode())
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
    return Reply(int(result["statusCode"]), headers, body)


def _gateway_error(status: int, message: str) -> Reply:
    body = json.dumps({"message": message}).encode()
    return Reply(status, [("content-type", "application/json")], body)


class UnreadableBody(Exception):
    """A body API Gateway would refuse before any function sees it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class InFlight:
    """Counts requests being handled, so shutdown can let them finish before saving state."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self) -> None:
        with self._idle:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._idle:
            self._count -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout_s)


class GatewayServer(HTTPServer):
    """A fixed pool of workers behind a bounded queue, so overload costs replies, not memory.

    Each accepted connection waits in the queue for a worker. When the queue is full, two more
    threads answer 503 with `Retry-After` and close; when their own queue is full too, the
    connection is closed unanswered. A keep-alive connection gives its worker up after a reply
    when others are waiting.
    """

    def __init__(
        self,
        address: tuple[str, int],
        console: Console,
        router: Callable[[str, str], Route | None] = route,
        workers: int = WORKERS,
        queued: int = QUEUED_CONNECTIONS,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.console = console
        self.router = router
        self.in_flight = InFlight()
        self.request_queue_size = LISTEN_BACKLOG
        self._waiting: queue.Queue[tuple[socket.socket, Any]] = queue.Queue(maxsize=queued)
        self._refusing: queue.Queue[tuple[socket.socket, Any]] = queue.Queue(
            maxsize=REFUSALS_QUEUED
        )
        super().__init__(address, GatewayRequestHandler)
        for number in range(workers):
            self._start_thread(f"cronbeat-http-{number}", self._waiting, GatewayRequestHandler)
        for number in range(2):
            self._start_thread(f"cronbeat-http-busy-{number}", self._refusing, BusyRequestHandler)

    def _start_thread(
        self,
        name: str,
        connections: queue.Queue[tuple[socket.socket, Any]],
        handler: type[BaseHTTPRequestHandler],
    ) -> None:
        thread = threading.Thread(
            target=self._serve_connections, args=(connections, handler), name=name, daemon=True
        )
        thread.start()

    def _serve_connections(
        self,
        connections: queue.Queue[tuple[socket.socket, Any]],
        handler: type[BaseHTTPRequestHandler],
    ) -> None:
        while True:
            connection, client_address = connections.get()
            try:
                handler(connection, client_address, self)
            except Exception:
                self.handle_error(connection, client_address)
            finally:
                self.shutdown_request(connection)

    def process_request(self, request: Any, client_address: Any) -> None:
        for connections in (self._waiting, self._refusing):
            try:
                connections.put_nowait((request, client_address))
                return
            except queue.Full:
                continue
        self.shutdown_request(request)

    def others_waiting(self) -> bool:
        return not self._waiting.empty()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up or went quiet is its own business; anything else is shown."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        self.console.error(traceback.format_exc().rstrip())


class GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cronbeat-dev"
    timeout = 5
    """Idle keep-alive connections close after this many seconds, freeing their worker."""
    server: GatewayServer

    def do_GET(self) -> None:
        self._serve(self._reply)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str) -> Any:
        # http.server looks up `do_<METHOD>` and answers an HTML 501 without one.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        reply = _gateway_error(405, "Method Not Allowed")
        self._serve(
            lambda: Reply(405, [*reply.headers, ("allow", ", ".join(ALLOWED_METHODS))], reply.body)
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Framing http.server refuses itself (a bad request line, headers too long): JSON."""
        self.close_connection = True
        self.request_version = self.protocol_version  # a status line even before one was read
        self._send(_gateway_error(code, message or HTTPStatus(code).phrase))

    def _serve(self, answer: Callable[[], Reply]) -> None:
        with self.server.in_flight:
            started = time.perf_counter()
            reply = answer()
            if self.server.others_waiting():
                self.close_connection = True
            self._send(reply)
            took_ms = (time.perf_counter() - started) * 1000
            path = urlsplit(self.path).path
            self.server.console.say(f"{self.command} {path} → {reply.status} ({took_ms:.0f} ms)")

    def _reply(self) -> Reply:
        try:
            body = self._read_body()
        except UnreadableBody as error:
            self.close_connection = True
            return _gateway_error(error.status, error.message)
        matched = self.server.router(self.command, urlsplit(self.path).path)
        if matched is None:
            return _gateway_error(404, "Not Found")
        request_id = str(uuid.uuid4())
        event = http_event(
            method=self.command,
            target=self.path,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
            server_port=self.server.server_address[1],
            at_ms=time.time_ns() // 1_000_000,
            request_id=request_id,
            matched=matched,
        )
        try:
            reply = reply_from(matched.function.invoke(event))
        except Exception:
            self.server.console.error(traceback.format_exc().rstrip())
            return _gateway_error(500, "Internal Server Error")
        return Reply(reply.status, [*reply.headers, ("apigw-requestid", request_id)], reply.body)

    def _read_body(self) -> bytes:
        deadline = time.monotonic() + BODY_DEADLINE_S
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(deadline)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise UnreadableBody(400, "Bad Request") from None
        if length < 0:
            raise UnreadableBody(400, "Bad Request")
        if length > MAX_BODY_BYTES:
            raise UnreadableBody(413, "Request Entity Too Large")
        return self._read_exactly(length, deadline)

    def _read_chunked(self, deadline: float) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self._read_line(deadline).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise UnreadableBody(400, "Bad Request") from None
            if size < 0:
                raise UnreadableBody(400, "Bad Request")
            if size == 0:
                while self._read_line(deadline).strip():
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise UnreadableBody(413, "Request Entity Too Large")
            chunks.append(self._read_exactly(size, deadline))
            self._read_line(deadline)

    def _read_exactly(self, length: int, deadline: float) -> bytes:
        """`length` bytes by `deadline`, or UnreadableBody: a short body never holds a worker."""
        chunks: list[bytes] = []
        left = length
        try:
            while left > 0:
                self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        except TimeoutError:
            pass
        finally:
            self.connection.settimeout(self.timeout)
        if left > 0:
            raise UnreadableBody(400, "Bad Request")
        return b"".join(chunks)

    def _read_line(self, deadline: float) -> bytes:
        try:
            self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
            line = self.rfile.readline(1024)
        except TimeoutError:
            raise UnreadableBody(400, "Bad Request") from None
        finally:
            self.connection.settimeout(self.timeout)
        if not line.endswith(b"\n"):
            raise UnreadableBody(400, "Bad Request")
        return line

    def _send(self, reply: Reply) -> None:
        self.send_response_only(reply.status)
        names = {name.lower() for name, _ in reply.headers}
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if "date" not in names:
            self.send_header("Date", formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged by `_serve`, one line each."""


class BusyRequestHandler(GatewayRequestHandler):
    """What a connection past the queue gets: a quick 503 that says when to come back."""

    timeout = 1

    def _reply(self) -> Reply:
        self.close_connection = True
        with contextlib.suppress(UnreadableBody):
            self._read_body()  # read, so closing does not reset the connection under the reply
        body = json.dumps({"message": "Service Unavailable: the local server is busy"}).encode()
        headers = [("content-type", "application/json"), ("retry-after", str(RETRY_AFTER_S))]
        return Reply(503, headers, body)
