"""One HTTP POST with a timeout, and what its outcome means for retrying.

Channel modules build an `HttpPost`; `delivery.deliver` sends it with retries. Error texts never
contain the URL: webhook URLs and Telegram bot tokens are credentials, and errors are stored on
delivery records and written to logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import urllib3
from urllib3.exceptions import HTTPError, LocationParseError, NewConnectionError
from urllib3.exceptions import TimeoutError as HttpTimeout

USER_AGENT = "cronbeat"
_ERROR_SNIPPET_CHARS = 200
_READ_LIMIT_BYTES = 4096
"""Replies are read only this far: enough for an error message, never a receiver's whole page."""


class InvalidChannelConfig(ValueError):
    """A channel whose configuration cannot work, so retrying is pointless."""


@dataclass(frozen=True, slots=True)
class HttpPost:
    """What a channel sends: built fresh for every attempt (the webhook timestamp changes)."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one POST: a status code, or an error when no response came."""

    status_code: int | None
    error: str | None = None
    retry_after_s: float | None = None
    """The receiver's `Retry-After` (seconds form), when it sent one."""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Timeouts, connection errors, 429 and 5xx may pass on a later try; anything else won't."""
        if self.status_code is None:
            return True
        return self.status_code == 429 or self.status_code >= 500


def require(config: Mapping[str, str], key: str, kind: str) -> str:
    """A config value that is not blank (returned unchanged), or InvalidChannelConfig."""
    value = config.get(key, "")
    if not isinstance(value, str) or not value.strip():
        raise InvalidChannelConfig(f"{kind} channel has no {key}")
    return value


def require_url(url: str, kind: str, key: str = "url") -> str:
    """An absolute http(s) URL with a host, or InvalidChannelConfig (without echoing the URL)."""
    url = url.strip()
    try:
        parsed = urllib3.util.parse_url(url)
    except LocationParseError as exc:
        raise InvalidChannelConfig(f"{kind} channel {key} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidChannelConfig(f"{kind} channel {key} must be an http(s) URL with a host")
    return url


@cache
def _pool() -> urllib3.PoolManager:
    """One pool per process, built on first use; urllib3's own retries and redirects are off."""
    return urllib3.PoolManager(
        num_pools=16, retries=False, headers={"User-Agent": USER_AGENT}, block=False
    )


def _retry_after_s(value: str | None) -> float | None:
    """The seconds form of Retry-After; the HTTP-date form is ignored (backoff applies instead)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _snippet(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", errors="replace").split())
    return text[:_ERROR_SNIPPET_CHARS]


def post(request: HttpPost, *, timeout_s: float) -> Attempt:
    """Send one POST, bounded by `timeout_s` for connecting and for each read; never raises."""
    try:
        response = _pool().request(
            "POST",
            request.url,
            body=request.body,
            headers=dict(request.headers),
            timeout=urllib3.Timeout(total=timeout_s),
            retries=False,
            redirect=False,
            preload_content=False,
        )
    except NewConnectionError as exc:
        return Attempt(None, f"connection failed ({type(exc).__name__})")
    except HttpTimeout:
        return Attempt(None, f"timed out after {timeout_s:g} s")
    except (HTTPError, OSError) as exc:
        return Attempt(None, f"connection failed ({type(exc).__name__})")
    try:
        status = response.status
        retry_after = _retry_after_s(response.headers.get("Retry-After"))
        if 200 <= status < 300:
            return Attempt(status)
        try:
            reply = response.read(_READ_LIMIT_BYTES)
        except (HTTPError, OSError):
            reply = b""
        error = f"HTTP {status}"
        if 300 <= status < 400:
            error += " (redirects are not followed)"
        elif reply:
            error += f": {_snippet(reply)}"
        return Attempt(status, error, retry_after)
    finally:
        # Closing drops the connection instead of reusing it: the reply may not be fully read.
        response.close()
        response.release_conn()
