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
import json
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from cronbeat.local.console import Console
from cronbeat.local.functions import ACCOUNT_ID, API, PING, Invocable

API_ID = "local"
MAX_BODY_BYTES = 10 * 1024 * 1024
"""API Gateway's payload limit: a larger request never reaches the function."""

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


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        console: Console,
        router: Callable[[str, str], Route | None] = route,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.console = console
        self.router = router
        self.in_flight = InFlight()
        super().__init__(address, GatewayRequestHandler)


class GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cronbeat-dev"
    timeout = 10
    """Idle keep-alive connections close after this many seconds."""
    server: GatewayServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _serve(self) -> None:
        with self.server.in_flight:
            started = time.perf_counter()
            reply = self._reply()
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
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise UnreadableBody(400, "Bad Request") from None
        if length > MAX_BODY_BYTES:
            raise UnreadableBody(413, "Request Entity Too Large")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise UnreadableBody(400, "Bad Request") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise UnreadableBody(413, "Request Entity Too Large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

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
