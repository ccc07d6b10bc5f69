"""Requests as Healthchecks.io clients send them, made into the one form the routes know.

- `/api/v1/` and `/api/v2/` reach the `/api/v3/` routes; the version asked for is kept in the
  event under `API_VERSION`, as the replies differ a little by version.
- Collections end in a slash (`checks/`, `pings/`), single resources do not (`checks/<uuid>`);
  either form is accepted, as clients differ.
- A body is JSON whatever its content type: Healthchecks.io's documented `curl --data` sends
  `application/x-www-form-urlencoded`, and Healthchecks.io parses it as JSON all the same.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

_OLD_VERSION = re.compile(r"^((?:/[^/]+)?/api)/v([12])(?=/|$)")
API_VERSION = "cronbeatApiVersion"
"""The event key holding the API version the request's path named (1, 2 or 3)."""
_COLLECTIONS = (
    "/checks",
    "/channels",
    "/status",
    "/pings",
    "/flips",
    "/deliveries",
    "/badges",
    "/schedule",
    "/key",
)


def requested_version(path: str) -> int:
    old = _OLD_VERSION.match(path)
    return int(old[2]) if old else 3


def canonical_path(path: str) -> str:
    path = _OLD_VERSION.sub(r"\1/v3", path)
    if not path.startswith("/api/") and "/api/" not in path:
        return path
    trimmed = path.rstrip("/") or "/"
    if trimmed.endswith(_COLLECTIONS):
        return trimmed + "/"
    return trimmed


def canonical_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an HTTP API v2 event with the path and content type the routes expect."""
    canonical = copy.copy(dict(event))
    raw_path = canonical.get("rawPath")
    if isinstance(raw_path, str):
        canonical["rawPath"] = canonical_path(raw_path)
        canonical[API_VERSION] = requested_version(raw_path)
        if raw_path != canonical["rawPath"] or "/api/" in raw_path:
            headers = dict(canonical.get("headers") or {})
            for name in [n for n in headers if n.lower() == "content-type"]:
                del headers[name]
            headers["content-type"] = "application/json"
            canonical["headers"] = headers
    return canonical


def base_url(configured: str, headers: Mapping[str, str]) -> str:
    """The public scheme and host: the configured base URL, else the request's Host header."""
    if configured:
        return configured.rstrip("/")
    lowered = {k.lower(): v for k, v in headers.items()}
    host = lowered.get("host", "").split(",")[0].strip()
    if not host or not re.fullmatch(
        r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?", host
    ):
        return ""
    scheme = lowered.get("x-forwarded-proto", "http").split(",")[0].strip().lower()
    return f"{'https' if scheme == 'https' else 'http'}://{host}"
