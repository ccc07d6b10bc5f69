"""The Healthchecks.io ping protocol: which check a URL names, what a request reports, the reply.

Framework-free: the handler passes plain values in, hands the `PingRequest` to the ping service
and turns the service's outcome into a `Reply` with `reply_for`. The
URL rules follow Healthchecks.io's URL patterns (Django's lowercase `uuid` converter first, then
`<ping key>/<slug>`), so clients that work there work here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from cronbeat.domain.model import Ping, Sender
from cronbeat.service.ping import Address, Outcome

CHECK_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RID = re.compile(CHECK_UUID.pattern, re.IGNORECASE)
PING_KEY = re.compile(r"[-a-zA-Z0-9_]{1,128}")
SLUG = re.compile(r"[a-z0-9_-]+")
_SLUG_LIMIT_CHARS = 200
"""Longer slugs cannot exist (the API takes 100), and the index key is capped at 2048 bytes."""
_DIGITS = re.compile(r"[0-9]+")
_IPV4_WITH_PORT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):\d+")
_SUFFIXES = ("start", "fail", "log", "progress")

METHODS = ("GET", "POST", "HEAD")
UA_LIMIT_CHARS = 200
_ADDR_LIMIT_CHARS = 100
_SCHEME_LIMIT_CHARS = 16

Suffix = Literal["", "start", "fail", "log", "progress"]


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    text: str


OK = Reply(200, "OK")
CREATED = Reply(201, "Created")
NOT_FOUND = Reply(404, "not found")
INVALID_URL = Reply(400, "invalid url format")
INVALID_UUID = Reply(400, "invalid uuid format")
INVALID_COUNT = Reply(400, "invalid count")
INVALID_ATTEMPT = Reply(400, "invalid attempt")
_COUNT_LIMIT = 10**15
_ATTEMPT_LIMIT = 1000
METHOD_NOT_ALLOWED = Reply(405, "method not allowed")
AMBIGUOUS_SLUG = Reply(409, "ambiguous slug")
BUSY = Reply(503, "busy, try again")


class Rejected(Exception):
    """A request the protocol refuses before anything is read or recorded."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


@dataclass(frozen=True, slots=True)
class Target:
    """What a ping URL names (a check id, or a ping key and slug) and what it reports."""

    suffix: Suffix = ""
    exit_status: int | None = None
    check_id: str | None = None
    ping_key: str | None = None
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class PingRequest:
    target: Target
    ping: Ping
    sender: Sender
    create: bool = False

    @property
    def address(self) -> Address:
        target = self.target
        return Address(target.check_id, target.ping_key, target.slug)


_REPLIES: dict[Outcome, Reply] = {
    "recorded": OK,
    "created": CREATED,
    "not_found": NOT_FOUND,
    "ambiguous_slug": AMBIGUOUS_SLUG,
    "busy": BUSY,
}


def reply_for(outcome: Outcome) -> Reply:
    """Healthchecks.io's status and wording for what the ping service did."""
    return _REPLIES[outcome]


def _suffix(segment: str) -> tuple[Suffix, int | None] | None:
    """`start`, `fail`, `log` or an exit status; None if the segment is none of them."""
    if segment in _SUFFIXES:
        return segment, None  # type: ignore[return-value]
    if _DIGITS.fullmatch(segment):
        significant = segment.lstrip("0")
        if len(significant) > 3 or int(significant or "0") > 255:
            raise Rejected(INVALID_URL)
        return "", int(significant or "0")
    return None


def parse_target(path: str) -> Target:
    """The target of `/ping/...`; Rejected with 404 or 400 `invalid url format` otherwise."""
    if not path.startswith("/ping/"):
        raise Rejected(NOT_FOUND)
    parts = path[len("/ping/") :].split("/")
    if CHECK_UUID.fullmatch(parts[0]):
        if len(parts) == 1 or (len(parts) == 2 and parts[1] == ""):
            return Target(check_id=parts[0])
        if len(parts) == 2 and (suffix := _suffix(parts[1])) is not None:
            return Target(suffix[0], suffix[1], check_id=parts[0])
    if len(parts) not in (2, 3) or not PING_KEY.fullmatch(parts[0]):
        raise Rejected(NOT_FOUND)
    if not parts[1] or len(parts[1]) > _SLUG_LIMIT_CHARS:
        raise Rejected(NOT_FOUND)
    if not SLUG.fullmatch(parts[1]):
        raise Rejected(INVALID_URL)
    if len(parts) == 2:
        return Target(ping_key=parts[0], slug=parts[1])
    suffix = _suffix(parts[2])
    if suffix is None:
        raise Rejected(NOT_FOUND)
    return Target(suffix[0], suffix[1], ping_key=parts[0], slug=parts[1])


def parse_rid(raw: str | None) -> str | None:
    """A run id in canonical dashed form, any letter case; stored in lowercase so pairs match."""
    if raw is None:
        return None
    if not _RID.fullmatch(raw):
        raise Rejected(INVALID_UUID)
    return raw.lower()


def request_body(body: str | None, is_base64: bool, limit_bytes: int) -> bytes:
    """The raw request body (decoded when API Gateway base64-encoded it), cut to the limit."""
    if not body or limit_bytes <= 0:
        return b""
    if not is_base64:
        return body[:limit_bytes].encode("utf-8", errors="replace")[:limit_bytes]
    # Decode only the prefix that can hold `limit_bytes`: a 10 MB body costs no more than 10 kB.
    prefix = body[: 4 * (limit_bytes // 3 + 1)]
    for candidate in (prefix, body):
        try:
            return base64.b64decode(candidate)[:limit_bytes]
        except (binascii.Error, ValueError):
            continue
    return body[:limit_bytes].encode("utf-8", errors="replace")[:limit_bytes]


def storable(text: str, limit_chars: int) -> str:
    """`text` cut to `limit_chars`, with what UTF-8 cannot encode (lone surrogates) as `?`.

    A header the event carries as a lone surrogate would otherwise fail the DynamoDB write: a 5xx.
    """
    return text[:limit_chars].encode("utf-8", errors="replace").decode("utf-8")


def remote_address(headers: Mapping[str, str], source_ip: str) -> str:
    """First X-Forwarded-For entry (without an IPv4 port), else the connection's address."""
    address = (headers.get("x-forwarded-for") or "").split(",")[0].strip() or source_ip
    if match := _IPV4_WITH_PORT.fullmatch(address):
        address = match.group(1)
    return storable(address, _ADDR_LIMIT_CHARS)


def _whole(raw: str | None, lowest: int, highest: int, refusal: Reply) -> int | None:
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or not lowest <= int(raw) <= highest:
        raise Rejected(refusal)
    return int(raw)


def parse_count(query: Mapping[str, str]) -> int | None:
    """`?count=N`, or Cronitor's `?metric=count:N`; other metrics are ignored."""
    raw = query.get("count")
    metric = query.get("metric")
    if raw is None and metric is not None and metric.startswith("count:"):
        raw = metric[len("count:") :]
    return _whole(raw, 0, _COUNT_LIMIT, INVALID_COUNT)


def parse_attempts(query: Mapping[str, str]) -> tuple[int | None, int | None]:
    """`?attempt=N&attempts=M` from `cronbeat run --retries-job`: both or neither, N ≤ M."""
    attempt = _whole(query.get("attempt"), 1, _ATTEMPT_LIMIT, INVALID_ATTEMPT)
    attempts = _whole(query.get("attempts"), 1, _ATTEMPT_LIMIT, INVALID_ATTEMPT)
    if (attempt is None) != (attempts is None):
        raise Rejected(INVALID_ATTEMPT)
    if attempt is not None and attempts is not None and attempt > attempts:
        raise Rejected(INVALID_ATTEMPT)
    return attempt, attempts


def make_ping(target: Target, *, rid: str | None, method: str, body: bytes) -> Ping:
    if target.exit_status is not None:
        return Ping.exit_code(target.exit_status, rid=rid, method=method, body=body)
    if target.suffix == "start":
        return Ping.start(rid=rid, method=method, body=body)
    if target.suffix == "fail":
        return Ping.fail(rid=rid, method=method, body=body)
    if target.suffix == "log":
        return Ping.log(rid=rid, method=method, body=body)
    if target.suffix == "progress":
        return Ping.progress(rid=rid, method=method, body=body)
    return Ping.success(rid=rid, method=method, body=body)


def parse_request(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    source_ip: str,
    body: str | None,
    is_base64: bool,
    body_limit_bytes: int,
) -> PingRequest:
    """Everything a ping reports, validated; Rejected (4xx, nothing recorded) otherwise.

    `headers` must answer lowercase names (API Gateway's payload v2 lowercases them).
    """
    target = parse_target(path)
    rid = parse_rid(query.get("rid"))
    method = method.upper()
    if method not in METHODS:
        raise Rejected(METHOD_NOT_ALLOWED)
    raw = request_body(body, is_base64, body_limit_bytes)
    sender = Sender(
        scheme=storable(headers.get("x-forwarded-proto") or "http", _SCHEME_LIMIT_CHARS),
        remote_addr=remote_address(headers, source_ip),
        ua=storable(headers.get("user-agent") or "", UA_LIMIT_CHARS),
    )
    count = parse_count(query)
    attempt, attempts = parse_attempts(query)
    ping = replace(
        make_ping(target, rid=rid, method=method, body=raw),
        count=count,
        attempt=attempt,
        attempts=attempts,
    )
    return PingRequest(target, ping, sender, create=query.get("create") == "1")
