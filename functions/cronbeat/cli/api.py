"""A read-only client of the Healthchecks.io v3 management API, as far as the queries need it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from cronbeat.cli.ping import network_reason, user_agent

JsonObject = dict[str, Any]


class ApiError(Exception):
    """A query that cannot be answered, in one line a person can act on."""


class NotFound(ApiError):
    pass


class PingsNotPaged(Exception):
    """The monitor served the same pings again when asked for older ones."""

    def __init__(self, read: int) -> None:
        super().__init__(f"the monitor serves only its newest {read} pings")
        self.read = read


PING_PAGE_SIZE = 1000
"""The most pings the management API returns in one reply."""


@dataclass(frozen=True)
class ManagementApi:
    base_url: str
    api_key: str
    timeout_s: float = 10.0

    def checks(self) -> list[JsonObject]:
        return _objects(self._get_json("checks/"), "checks")

    def ping_pages(self, check_key: str) -> Iterator[list[JsonObject]]:
        """The check's pings page by page, newest first, each page older than the one before.

        `check_key` is its uuid or its read-only unique_key. cronbeat pages back with `before`;
        a monitor that ignores it (Healthchecks.io serves its whole ping log at once) repeats its
        page, and then `PingsNotPaged` says how many pings could be read.
        """
        path = f"checks/{_segment(check_key)}/pings/?limit={PING_PAGE_SIZE}"
        before: int | None = None
        read = 0
        while True:
            query = f"&before={before}" if before is not None else ""
            page = _objects(self._get_json(path + query), "pings")
            numbers = [ping["n"] for ping in page if isinstance(ping.get("n"), int)]
            if before is not None and any(n >= before for n in numbers):
                raise PingsNotPaged(read)
            yield page
            read += len(page)
            if len(page) < PING_PAGE_SIZE or not numbers:
                return
            before = min(numbers)

    def ping_body(self, check_key: str, n: int) -> bytes | None:
        """A ping's stored body, or None when the monitor no longer holds it."""
        try:
            return self._get(f"checks/{_segment(check_key)}/pings/{n}/body")
        except NotFound:
            return None

    def find_check(self, reference: str) -> JsonObject:
        """The one check whose uuid, unique_key, slug or exact name is `reference`."""
        checks = self.checks()
        for field in ("uuid", "unique_key"):
            for check in checks:
                if check.get(field) == reference:
                    return check
        for field in ("slug", "name"):
            found = [check for check in checks if check.get(field) == reference]
            if len(found) == 1:
                return found[0]
            if found:
                raise ApiError(f"{len(found)} checks have the {field} {reference!r}: use a uuid")
        raise ApiError(f"unknown check: {reference!r} (no uuid, slug or name matches)")

    def _get_json(self, path: str) -> Any:
        raw = self._get(path)
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(f"{self._host}: the reply to {path} is not JSON") from None

    def _get(self, path: str) -> bytes:
        url = f"{self.base_url.rstrip('/')}/api/v3/{path}"
        request = urllib.request.Request(  # noqa: S310 (the URL's scheme is checked on input)
            url, headers={"X-Api-Key": self.api_key, "User-Agent": user_agent()}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as error:
            error.close()
            if error.code in (401, 403):
                raise ApiError(f"{self._host} rejected the API key (HTTP {error.code})") from None
            if error.code == 404:
                raise NotFound(f"{self._host}: not found: {path}") from None
            raise ApiError(f"{self._host}: HTTP {error.code} for {path}") from None
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise ApiError(
                f"cannot reach {self._host}: {network_reason(error, self.timeout_s)}"
            ) from None

    @property
    def _host(self) -> str:
        parts = urllib.parse.urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


def check_key(check: JsonObject) -> str:
    """How the API addresses a check: its uuid, or with a read-only key its unique_key."""
    return str(check.get("uuid") or check.get("unique_key") or "")


def _objects(document: Any, key: str) -> list[JsonObject]:
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ApiError(f"the monitor's reply has no {key!r} list")
    return [item for item in items if isinstance(item, dict)]


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")
