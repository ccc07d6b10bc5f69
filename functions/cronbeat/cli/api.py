"""A client of the Healthchecks.io v3 management API and cronbeat's channel endpoints, as far as
the CLI's commands need it."""

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
from cronbeat.domain.ids import unique_key

JsonObject = dict[str, Any]


class ApiError(Exception):
    """A query that cannot be answered, in one line a person can act on."""


class NotFound(ApiError):
    pass


class Refused(ApiError):
    """The monitor refused a change (a 400 or 409) and said why."""


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

    def check(self, key: str) -> JsonObject:
        return self._object(self._get_json(f"checks/{_segment(key)}"))

    def create_check(self, fields: JsonObject) -> JsonObject:
        return self._object(self._send("POST", "checks/", fields))

    def update_check(self, key: str, fields: JsonObject) -> JsonObject:
        return self._object(self._send("POST", f"checks/{_segment(key)}", fields))

    def pause_check(self, key: str) -> JsonObject:
        return self._object(self._send("POST", f"checks/{_segment(key)}/pause", {}))

    def resume_check(self, key: str) -> JsonObject:
        return self._object(self._send("POST", f"checks/{_segment(key)}/resume", {}))

    def mute_check(self, key: str, seconds: int) -> JsonObject:
        body = {"seconds": seconds}
        return self._object(self._send("POST", f"checks/{_segment(key)}/mute", body))

    def unmute_check(self, key: str) -> JsonObject:
        return self._object(self._send("POST", f"checks/{_segment(key)}/unmute", {}))

    def delete_check(self, key: str) -> JsonObject:
        return self._object(self._send("DELETE", f"checks/{_segment(key)}", None))

    def channels(self) -> list[JsonObject]:
        return _objects(self._get_json("channels/"), "channels")

    def create_channel(self, fields: JsonObject) -> JsonObject:
        return self._object(self._send("POST", "channels/", fields))

    def update_channel(self, channel_id: str, fields: JsonObject) -> JsonObject:
        return self._object(self._send("POST", f"channels/{_segment(channel_id)}", fields))

    def delete_channel(self, channel_id: str) -> JsonObject:
        return self._object(self._send("DELETE", f"channels/{_segment(channel_id)}", None))

    def test_channel(self, channel_id: str) -> JsonObject:
        return self._object(self._send("POST", f"channels/{_segment(channel_id)}/test", {}))

    def find_channel(self, reference: str) -> JsonObject:
        """The channel whose id or exact name is `reference`."""
        channels = self.channels()
        for field in ("id", "name"):
            for channel in channels:
                if channel.get(field) == reference:
                    return channel
        raise ApiError(f"unknown channel: {reference!r} (no id or name matches)")

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
        """The one check whose uuid, unique_key, slug or exact name is `reference`.

        A read-only key sees each check's unique_key instead of its uuid; a uuid still finds
        its check there, through the key it derives.
        """
        checks = self.checks()
        keys = (reference, unique_key(reference))
        for field in ("uuid", "unique_key"):
            for check in checks:
                if check.get(field) in keys:
                    return check
        for field in ("slug", "name"):
            found = [check for check in checks if check.get(field) == reference]
            if len(found) == 1:
                return found[0]
            if found:
                raise ApiError(f"{len(found)} checks have the {field} {reference!r}: use a uuid")
        raise ApiError(f"unknown check: {reference!r} (no uuid, slug or name matches)")

    def _object(self, document: Any) -> JsonObject:
        if not isinstance(document, dict):
            raise ApiError(f"{self._host}: the reply is not a JSON object")
        return document

    def _get_json(self, path: str) -> Any:
        return self._parsed(self._get(path), path)

    def _send(self, method: str, path: str, fields: JsonObject | None) -> Any:
        body = None if fields is None else json.dumps(fields).encode("utf-8")
        return self._parsed(self._request(method, path, body), path)

    def _parsed(self, raw: bytes, path: str) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(f"{self._host}: the reply to {path} is not JSON") from None

    def _get(self, path: str) -> bytes:
        return self._request("GET", path, None)

    def _request(self, method: str, path: str, body: bytes | None) -> bytes:
        url = f"{self.base_url.rstrip('/')}/api/v3/{path}"
        headers = {"X-Api-Key": self.api_key, "User-Agent": user_agent()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 (the URL's scheme is checked on input)
            url, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                reply: bytes = response.read()
                return reply
        except urllib.error.HTTPError as error:
            detail = _error_text(error)
            if error.code in (401, 403):
                raise ApiError(f"{self._host} rejected the API key (HTTP {error.code})") from None
            if error.code == 404:
                raise NotFound(f"{self._host}: not found: {path}") from None
            if error.code == 405 and method != "GET":
                raise Refused(f"{self._host}: this needs a read-write API key") from None
            if error.code in (400, 409, 422) and detail:
                raise Refused(f"{self._host} refused it: {detail}") from None
            raise ApiError(f"{self._host}: HTTP {error.code} for {path}") from None
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise ApiError(
                f"cannot reach {self._host}: {network_reason(error, self.timeout_s)}"
            ) from None

    @property
    def _host(self) -> str:
        parts = urllib.parse.urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


def _error_text(error: urllib.error.HTTPError) -> str:
    """The `error` of a JSON error reply, on one line; empty when there is none."""
    try:
        document = json.loads(error.read(4096) or b"{}")
    except (ValueError, OSError):
        return ""
    finally:
        error.close()
    text = document.get("error") if isinstance(document, dict) else None
    return " ".join(str(text).split()) if text else ""


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
