"""One HTTP POST under one wall-clock deadline, to an address that was checked, and what its
outcome means for retrying.

Channel modules build an `HttpPost`; `delivery.attempt` sends it. The deadline covers the DNS
lookup, connecting, TLS, sending and the whole reply: a watchdog shuts the socket down when it
passes, so a receiver that trickles its reply a byte at a time is cut off too (a per-read
timeout would not). The host is resolved once, every address is checked, and the connection goes
to a checked address (TLS still verifies the host name), so DNS cannot swap in another between
the check and the connect.

Error texts never contain the URL: webhook URLs and Telegram bot tokens are credentials, and
errors are stored on delivery records and written to logs.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

USER_AGENT = "cronbeat"
_ERROR_SNIPPET_CHARS = 100
"""What of a failed reply is kept, to say why (Slack's `invalid_token`, Telegram's "chat not
found"): the API shows it to every key, so never more than a line."""
_READ_LIMIT_BYTES = 4096
"""Replies are read only this far: enough for an error message, never a receiver's whole page."""


class InvalidChannelConfig(ValueError):
    """A channel whose configuration cannot work, so retrying is pointless."""


class UnsafeDestination(InvalidChannelConfig):
    """The URL resolves to an address the deployment must not reach (metadata, private nets)."""


@dataclass(frozen=True, slots=True)
class HttpPost:
    """What a channel sends: built fresh for every attempt (the webhook timestamp changes)."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def json_post(url: str, document: Any, headers: Mapping[str, str] | None = None) -> HttpPost:
    """A POST of `document` as UTF-8 JSON, its characters as they are (`ensure_ascii` off)."""
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return HttpPost(url, body, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})})


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one POST: a status code, or an error when no response came."""

    status_code: int | None
    error: str | None = None
    retry_after_s: float | None = None
    """The receiver's `Retry-After` (seconds form), when it sent one."""
    refused: bool = False
    """The destination was refused as unsafe: permanent."""

    @property
    def delivered(self) -> bool:
        """Any 2xx: the receiver took the alert."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Timeouts, connection errors, 429 and 5xx may pass on a later try; anything else won't."""
        if self.status_code is None:
            return not self.refused
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
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise InvalidChannelConfig(f"{kind} channel {key} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidChannelConfig(f"{kind} channel {key} must be an http(s) URL with a host")
    return url


def api_base(config: Mapping[str, str], kind: str, default: str) -> str:
    """The channel's `api_base` (a self-hosted, regional or test endpoint), else the public
    service's `default`; without a trailing slash, so paths join with one."""
    base = config.get("api_base", "").strip() or default
    return require_url(base, kind, "api_base").rstrip("/")


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def form_post(url: str, fields: Mapping[str, str]) -> HttpPost:
    """A POST of `fields` as an HTML form, UTF-8 and percent-encoded."""
    body = urlencode(fields).encode("ascii")
    return HttpPost(url, body, {"Content-Type": FORM_CONTENT_TYPE})


Resolver = Callable[[str, int], list[str]]
"""Host and port → IP addresses, in the order to try them; OSError when the name does not
resolve."""


def resolve_host(host: str, port: int) -> list[str]:
    """The system resolver's TCP addresses for `host`, each once, in its preferred order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except UnicodeError as exc:  # a name IDNA cannot encode resolves to nothing
        raise OSError("host name cannot be encoded") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_SHARED = ipaddress.ip_network("100.64.0.0/10")
"""Carrier-grade NAT space: not in `is_private`, yet as internal as 10/8 to a cloud VPC."""


def refused_address(ip: str) -> str | None:
    """Why an address must not be a target ("loopback", "private", ...), or None when it may."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address in _SHARED or address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def _is_localhost(host: str) -> bool:
    """RFC 6761 names that always mean this machine, whatever DNS says."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _host_port(parsed: SplitResult) -> tuple[str, int]:
    return parsed.hostname or "", parsed.port or (443 if parsed.scheme == "https" else 80)


def check_destination(
    url: str, *, allow_private: bool, resolve: Resolver = resolve_host
) -> list[str]:
    """The addresses an absolute http(s) `url` may be sent to; UnsafeDestination when any of
    them is refused.

    One refused address refuses the URL: a name that resolves to a public and a private address
    could otherwise be steered to the private one. OSError when the name does not resolve.
    """
    host, port = _host_port(urlsplit(url))
    if _is_localhost(host) and not allow_private:
        raise UnsafeDestination("url resolves to a loopback address (localhost)")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise OSError("host has no address")
    if not allow_private:
        for address in addresses:
            reason = refused_address(address)
            if reason is not None:
                article = "an" if reason[0] in "aeiou" else "a"
                raise UnsafeDestination(f"url resolves to {article} {reason} address ({address})")
    return addresses


class _Deadline:
    """Shuts the watched socket down when the deadline passes, whatever call is blocked on it."""

    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """What is left, as a socket timeout (never zero, which would mean non-blocking)."""
        return max(self._at - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                self._shut(self._sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # The plain socket's shutdown, even on a TLS socket: SSLSocket.shutdown would also drop
        # the TLS state under a handshake running in the other thread. Closed sockets are skipped.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


@cache
def _tls() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs more than a whole local POST."""
    return ssl.create_default_context()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _PinnedConnection(http.client.HTTPConnection):
    """Connects only to the checked addresses, never resolving again, but presents itself as the
    URL's host: in the Host header and as the TLS server name the certificate must match."""

    def __init__(self, parsed: SplitResult, addresses: list[str], deadline: _Deadline) -> None:
        host, port = _host_port(parsed)
        if not _is_ip(host):
            host = host.encode("idna").decode("ascii")  # http.client sends ASCII only
        super().__init__(host, port, timeout=deadline.remaining())
        self.default_port = 443 if parsed.scheme == "https" else 80  # Host omits only that port
        self._tls = parsed.scheme == "https"
        self._addresses = addresses
        self._deadline = deadline

    def connect(self) -> None:
        failure = OSError("no address")
        for address in self._addresses:
            if self._deadline.expired:
                raise TimeoutError
            try:
                sock = socket.create_connection(
                    (address, self.port), timeout=self._deadline.remaining()
                )
            except TimeoutError:
                raise  # the deadline is spent: no time for another address
            except OSError as exc:  # refused or unreachable: the next checked address may work
                failure = exc
                continue
            self.sock = sock  # from here on, close() closes it, whatever fails next
            self._deadline.watch(sock)
            if self._tls:
                # The handshake runs after the TLS socket is watched: wrapping detaches the plain
                # socket, so a shutdown of that one would no longer reach the connection.
                tls = _tls().wrap_socket(
                    sock, server_hostname=self.host, do_handshake_on_connect=False
                )
                self.sock = tls
                self._deadline.watch(tls)
                tls.settimeout(self._deadline.remaining())
                tls.do_handshake()
            return
        raise failure


def _within(deadline: _Deadline, work: Callable[[], list[str]]) -> list[str]:
    """`work()` (a DNS lookup, which takes no timeout) given only what is left of the deadline;
    TimeoutError when it takes longer (the lookup's thread ends by itself later)."""
    outcome: list[list[str] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    thread = threading.Thread(target=run, name="cronbeat-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if not outcome:
        raise TimeoutError
    [result] = outcome
    if isinstance(result, BaseException):
        raise result
    return result


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


def _exchange(
    conn: _PinnedConnection, parsed: SplitResult, request: HttpPost, deadline: _Deadline
) -> Attempt:
    """Send the POST and read the status, headers and at most `_READ_LIMIT_BYTES` of a failure's
    reply; the connection is closed, not reused, as the reply may not have been read to its end."""
    target = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    try:
        conn.request(
            "POST", target, body=request.body, headers={"User-Agent": USER_AGENT, **request.headers}
        )
        conn.sock.settimeout(deadline.remaining())
        response = conn.getresponse()
        status = response.status
        if 200 <= status < 300:
            return Attempt(status)
        retry_after = _retry_after_s(response.getheader("Retry-After"))
        if 300 <= status < 400:
            return Attempt(status, f"HTTP {status} (redirects are not followed)", retry_after)
        reply = bytearray()
        # Piece by piece, so what came in time is kept whichever ends the read: the deadline's
        # shutdown, the socket's own timeout (one read() would drop its partial bytes) or the
        # receiver closing early. The status says what matters; the bytes are the detail.
        with contextlib.suppress(OSError, http.client.HTTPException):
            while len(reply) < _READ_LIMIT_BYTES:
                piece = response.read1(_READ_LIMIT_BYTES - len(reply))
                if not piece:
                    break
                reply += piece
        snippet = _snippet(bytes(reply))
        return Attempt(
            status, f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}", retry_after
        )
    finally:
        conn.close()


def post(
    request: HttpPost,
    *,
    deadline_s: float = 10.0,
    allow_private: bool = False,
    resolve: Resolver = resolve_host,
) -> Attempt:
    """Send one POST, all of it within `deadline_s`, to a checked address; never raises.

    A refused destination is a permanent failure; a name that does not resolve, a timeout or a
    broken connection may pass later.
    """
    timed_out = Attempt(None, f"timed out after {deadline_s:g} s")
    deadline = _Deadline(deadline_s)
    try:
        try:
            parsed = urlsplit(request.url)
            addresses = _within(
                deadline,
                lambda: check_destination(
                    request.url, allow_private=allow_private, resolve=resolve
                ),
            )
        except TimeoutError:
            return timed_out
        except UnsafeDestination as refused:
            return Attempt(None, str(refused), refused=True)
        except (OSError, ValueError):  # ValueError includes IDNA's UnicodeError
            return Attempt(None, "host did not resolve")
        try:
            conn = _PinnedConnection(parsed, addresses, deadline)
            return _exchange(conn, parsed, request, deadline)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.expired or isinstance(exc, TimeoutError):
                return timed_out
            return Attempt(None, f"connection failed ({type(exc).__name__})")
    finally:
        deadline.cancel()
