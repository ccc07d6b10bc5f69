"""Management API requests as API Gateway's HTTP API (payload v2) delivers them, sent through the
real handler in-process, plus the keys that `conftest.py`'s `api` fixture seeds.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from cronbeat.store.keys import ApiKeyStore

if TYPE_CHECKING:
    # Not at run time: the ping benchmark builds its events here without loading moto.
    from tests.conftest import Aws

HOST = "hc.example.test"
BASE = f"https://{HOST}"
RW_KEY = "rw-key-0123456789abcdefghijklmno"
RO_KEY = "ro-key-0123456789abcdefghijklmno"
assert len(RW_KEY) == len(RO_KEY) == 32


@dataclass(frozen=True)
class LambdaContext:
    function_name: str = "cronbeat-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cronbeat-api"
    aws_request_id: str = "5b0f3c1e-7a2d-4c8e-9f10-2e3d4c5b6a70"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        message: str = self.json()["error"]
        return message


def api_event(
    method: str,
    path: str,
    *,
    query: dict[str, str | list[str]] | None = None,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API v2 event as API Gateway builds it for `ANY /api/{proxy+}` (or `GET /`)."""
    all_headers = {
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
    }
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "GET /",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": HOST,
            "domainPrefix": "hc",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": uuid.uuid4().hex[:16],  # API Gateway's: one per request
            "routeKey": "GET /",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }
    for prefix, routed in (
        ("/api/", "ANY"),
        ("/ping/", "ANY"),
        ("/badge/", method),
        ("/b/", method),
    ):
        if path.startswith(prefix):
            event["pathParameters"] = {"proxy": path.removeprefix(prefix)}
            event["routeKey"] = event["requestContext"]["routeKey"] = f"{routed} {prefix}{{proxy+}}"
    if query:
        # API Gateway joins repeated parameters with commas.
        event["queryStringParameters"] = {
            k: ",".join(v) if isinstance(v, list) else v for k, v in query.items()
        }
        event["rawQueryString"] = urlencode(
            [(k, x) for k, v in query.items() for x in (v if isinstance(v, list) else [v])]
        )
    if body is not None:
        raw = body.encode() if isinstance(body, str) else body
        if base64_body or isinstance(body, bytes):
            event["body"] = base64.b64encode(raw).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = body
    return event


def send(event: dict[str, Any]) -> Reply:
    """Hand the event to the function API Gateway routes it to, as the stack does."""
    if event["rawPath"].startswith("/ping/"):
        from cronbeat.handlers.ping import handler
    else:
        from cronbeat.handlers.api import handler

    result = handler(event, LambdaContext())
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(values)
    return Reply(int(result["statusCode"]), headers, body)


@dataclass
class Api:
    """A client of the management API that calls the handler in-process."""

    key: str | None = RW_KEY
    prefix: str = "/api/v3/"
    extra_headers: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        raw: bytes | str | None = None,
        query: dict[str, str | list[str]] | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(self.extra_headers)
        chosen = key if key is not None else self.key
        if chosen is not None:
            all_headers["x-api-key"] = chosen
        all_headers.update(headers or {})
        body = raw if raw is not None else (json.dumps(payload) if payload is not None else None)
        full = path if path.startswith("/") else self.prefix + path
        if body is not None:
            all_headers.setdefault("content-type", "application/json")
        return send(api_event(method, full, query=query, body=body, headers=all_headers))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, payload, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def ping(self, target: str, suffix: str = "", *, body: str | None = None) -> Reply:
        """Ping a check through the ping function, as a job would."""
        method = "POST" if body is not None else "GET"
        path, _, query = f"/ping/{target}{suffix}".partition("?")
        params: dict[str, str | list[str]] = dict(parse_qsl(query))
        headers = {"content-type": "text/plain"} if body is not None else None
        return send(api_event(method, path, query=params, body=body, headers=headers))

    def create(self, **fields: Any) -> dict[str, Any]:
        """Create a check and return its JSON (asserting it was created)."""
        reply = self.post("checks/", fields)
        assert reply.status == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created


def seed_keys(aws: Aws) -> ApiKeyStore:
    """The key store on the test tables, holding one read-write and one read-only key."""
    store = ApiKeyStore(aws.dynamodb, aws.events_table)
    store.create(read_only=False, name="rw", key=RW_KEY, at_ms=1)
    store.create(read_only=True, name="ro", key=RO_KEY, at_ms=1)
    return store
