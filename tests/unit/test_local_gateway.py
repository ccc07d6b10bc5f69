"""Local mode's stand-in for API Gateway: routes, the v2 event it builds, and the reply it sends."""

from __future__ import annotations

import base64
import json

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from cronbeat.local.functions import API, PING
from cronbeat.local.gateway import Route, http_event, reply_from, route

AT_MS = 1_795_000_000_123


def event_for(
    target: str,
    *,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> APIGatewayProxyEventV2:
    matched = route(method, target.split("?", 1)[0])
    assert matched is not None
    raw = http_event(
        method=method,
        target=target,
        headers=headers or [("Host", "127.0.0.1:8000")],
        body=body,
        source_ip="127.0.0.1",
        server_port=8000,
        at_ms=AT_MS,
        request_id="req-1",
        matched=matched,
    )
    return APIGatewayProxyEventV2(raw)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/ping/5c3e9b1c-0000-4000-8000-000000000000", Route(PING, "ANY /ping/{proxy+}")),
        ("HEAD", "/ping/key/my-slug/fail", Route(PING, "ANY /ping/{proxy+}")),
        ("POST", "/api/v3/checks/", Route(API, "ANY /api/{proxy+}")),
        ("GET", "/", Route(API, "GET /")),
    ],
)
def test_routes_are_the_stacks(method: str, path: str, expected: Route) -> None:
    # When a request arrives for a route the stack defines
    matched = route(method, path)
    # Then it goes to the same function, under the same route key
    assert matched is not None
    assert (matched.function, matched.route_key) == (expected.function, expected.route_key)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/ping/"), ("GET", "/ping"), ("POST", "/"), ("GET", "/favicon.ico")],
)
def test_paths_without_a_route_get_api_gateways_404(method: str, path: str) -> None:
    # When nothing in the stack matches, Then no function is called
    assert route(method, path) is None


def test_event_carries_path_query_and_headers_as_api_gateway_does() -> None:
    # Given a ping with a query string, repeated headers and a cookie
    event = event_for(
        "/ping/abc/start?rid=R-1&create=1&tag=a&tag=b",
        headers=[
            ("Host", "127.0.0.1:8000"),
            ("User-Agent", "curl/8.5"),
            ("X-Forwarded-For", "203.0.113.9"),
            ("Accept", "text/plain"),
            ("Accept", "*/*"),
            ("Cookie", "a=1; b=2"),
        ],
    )
    # Then the handler sees what API Gateway would hand it
    assert event.raw_path == "/ping/abc/start"
    assert event.path_parameters == {"proxy": "abc/start"}
    assert event.raw_query_string == "rid=R-1&create=1&tag=a&tag=b"
    assert event.query_string_parameters == {"rid": "R-1", "create": "1", "tag": "a,b"}
    assert event.headers["accept"] == "text/plain,*/*"
    assert event.headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert event.headers["x-forwarded-proto"] == "http"
    assert "cookie" not in event.headers
    assert event.cookies == ["a=1", "b=2"]
    context = event.request_context
    assert (context.http.method, context.http.source_ip) == ("GET", "127.0.0.1")
    assert context.http.user_agent == "curl/8.5"
    assert (context.time_epoch, context.request_id, context.stage) == (AT_MS, "req-1", "$default")
    assert context.domain_name == "127.0.0.1:8000"
    assert event.body is None


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("text/plain", b"backup done\n", False),
        ("application/json; charset=utf-8", b'{"name": "x"}', False),
        ("text/plain", b"\xffnot utf-8", True),
        ("application/x-www-form-urlencoded", b"disk full", True),
        ("application/octet-stream", b"\x00\x01", True),
    ],
)
def test_body_is_base64_unless_it_is_text(content_type: str, body: bytes, encoded: bool) -> None:
    # When a request carries a body of some content type
    event = event_for(
        "/ping/abc",
        method="POST",
        headers=[("Host", "h"), ("Content-Type", content_type)],
        body=body,
    )
    # Then binary and form bodies arrive base64-encoded, text as it is, and decode to the bytes sent
    assert event.is_base64_encoded is encoded
    raw = base64.b64decode(event.body or "") if encoded else (event.body or "").encode()
    assert raw == body


def test_reply_is_sent_exactly_as_the_handler_returned_it() -> None:
    # Given a handler reply with a base64 body and cookies
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/octet-stream", "Ping-Body-Limit": "10000"},
        "cookies": ["session=1; HttpOnly"],
        "body": base64.b64encode(b"\x00\xffbytes").decode(),
        "isBase64Encoded": True,
    }
    # When it becomes the HTTP reply
    reply = reply_from(result)
    # Then status, headers and the decoded body are unchanged
    assert reply.status == 201
    assert ("Ping-Body-Limit", "10000") in reply.headers
    assert ("set-cookie", "session=1; HttpOnly") in reply.headers
    assert reply.body == b"\x00\xffbytes"


def test_a_bare_return_value_is_a_json_200_as_format_2_infers() -> None:
    reply = reply_from({"checks": []})
    assert (reply.status, json.loads(reply.body)) == (200, {"checks": []})
    assert ("content-type", "application/json") in reply.headers
