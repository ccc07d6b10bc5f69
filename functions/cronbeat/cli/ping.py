"""Pings in the Healthchecks.io protocol, retried so that a monitor hiccup never costs a run."""

from __future__ import annotations

import functools
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.client import HTTPException

BACKOFF_BASE_S = 1.0
NO_SUCH_CHECK = "no such check (HTTP 404): check the --uuid, or the slug and the ping key"
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class PingTarget:
    """Where a check's pings go: `/ping/<uuid>` or `/ping/<ping key>/<slug>`."""

    check_url: str
    create: bool = False

    @classmethod
    def for_uuid(cls, base_url: str, uuid: str, *, create: bool = False) -> PingTarget:
        return cls(f"{base_url.rstrip('/')}/ping/{_segment(uuid)}", create)

    @classmethod
    def for_slug(
        cls, base_url: str, ping_key: str, slug: str, *, create: bool = False
    ) -> PingTarget:
        return cls(f"{base_url.rstrip('/')}/ping/{_segment(ping_key)}/{_segment(slug)}", create)

    def url(
        self, kind: str, rid: str | None = None, params: Mapping[str, int] | None = None
    ) -> str:
        """The URL of one ping: `kind` is `start`, `progress`, an exit status such as `0`, or ``
        for success; `params` are the finish's figures (`count`, `attempt`, `attempts`), which a
        Healthchecks.io server ignores."""
        query = {"rid": rid} if rid else {}
        query.update({name: str(value) for name, value in (params or {}).items()})
        if self.create:
            query["create"] = "1"
        path = f"{self.check_url}/{kind}" if kind else self.check_url
        return f"{path}?{urllib.parse.urlencode(query)}" if query else path

    @property
    def host(self) -> str:
        """The monitor's address without the check's secret path, safe to print in a warning."""
        parts = urllib.parse.urlsplit(self.check_url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class PingReply:
    status: int
    body_limit_bytes: int | None


class PingFailed(Exception):
    """A ping that did not get through, after every retry it deserved."""


class _Transient(Exception):
    """A failure worth retrying: the network, a timeout, 408, 429 or a 5xx."""


@dataclass
class Pinger:
    """Sends pings: `retries` more tries after the first, with exponential backoff and jitter."""

    retries: int = 3
    timeout_s: float = 5.0
    backoff_base_s: float = field(default_factory=lambda: BACKOFF_BASE_S)
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def send(self, url: str, body: bytes | None = None) -> PingReply:
        """GET the URL, or POST `body` to it; raises PingFailed with a one-line reason."""
        for attempt in range(self.retries + 1):
            try:
                return self._send_once(url, body)
            except _Transient as failure:
                if attempt == self.retries:
                    raise PingFailed(str(failure)) from None
                self.sleep(self.backoff_s(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff_s(self, attempt: int) -> float:
        return backoff_s(self.backoff_base_s, attempt, self.jitter())

    def _send_once(self, url: str, body: bytes | None) -> PingReply:
        headers = {"User-Agent": user_agent()}
        if body is not None:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        request = urllib.request.Request(  # noqa: S310 (the URL's scheme is checked on input)
            url, data=body, headers=headers, method="GET" if body is None else "POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                response.read()
                return PingReply(
                    response.status, _body_limit(response.headers.get("Ping-Body-Limit"))
                )
        except urllib.error.HTTPError as error:
            error.close()
            if error.code in RETRYABLE_STATUSES or error.code >= 500:
                raise _Transient(f"HTTP {error.code}") from None
            if error.code == HTTPStatus.NOT_FOUND:
                raise PingFailed(NO_SUCH_CHECK) from None
            raise PingFailed(f"HTTP {error.code} {error.reason}".rstrip()) from None
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise _Transient(network_reason(error, self.timeout_s)) from None


def backoff_s(base_s: float, attempt: int, jitter: float) -> float:
    """The wait before retry `attempt` + 1: between half and all of `base_s` * 2^attempt.

    Half fixed, half random ("equal jitter", `jitter` in [0, 1]): spread out, yet never an
    instant retry. Pings and `--retries-job` both wait this way.
    """
    ceiling = base_s * 2.0**attempt
    return ceiling / 2 + jitter * ceiling / 2


@functools.cache
def user_agent() -> str:
    import importlib.metadata  # only when a ping goes out: it is slow to import

    try:
        return f"cronbeat/{importlib.metadata.version('cronbeat')}"
    except importlib.metadata.PackageNotFoundError:
        return "cronbeat"


def network_reason(error: BaseException, timeout_s: float) -> str:
    """`connection refused`, not `<urlopen error [Errno 111] Connection refused>`."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[0].lower() + reason.strerror[1:]
    return str(reason) or type(reason).__name__


def _body_limit(header: str | None) -> int | None:
    try:
        limit = int(header or "")
    except ValueError:
        return None
    return limit if limit >= 0 else None


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")
