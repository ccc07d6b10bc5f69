"""Channel delivery against real servers on 127.0.0.1: signatures, shapes, one attempt per call
under one deadline, refused destinations, and the retry schedule the queue follows.

The receivers run on loopback, so every test that means to reach them passes
`allow_private=True`; the tests of refusal pass False and check nothing arrived.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cronbeat.channels.alert import Alert
from cronbeat.channels.delivery import (
    FIRST_RETRY_S,
    MAX_ATTEMPTS,
    MAX_RETRY_S,
    DeliveryResult,
    attempt,
    retry_delay_s,
)
from cronbeat.channels.transport import Resolver
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import Check, Flip
from tests.integration.http_receiver import Receiver, Reply

T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
SECRET = "s3cret-for-tests"
DEADLINE_S = 1.5
"""The deadline of the tests that wait for it: short, and yet three trickled bytes long."""
PACE_S = 0.5
"""A trickling receiver's wait between bytes: each one alone would keep a per-read timeout happy."""


@dataclass
class Trickler:
    """A TCP server that answers one connection with `reply`, the first `at_once` bytes at once
    and then one byte every `PACE_S`, until the client goes away or the test ends."""

    reply: bytes
    at_once: int = 0
    port: int = 0
    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self, listener: socket.socket) -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            try:
                request = b""
                while b"\r\n\r\n" not in request and not request.startswith(b"\x16"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                conn.sendall(self.reply[: self.at_once])
                self.sent = self.at_once
                while self.sent < len(self.reply) and not self.stop.wait(PACE_S):
                    conn.sendall(self.reply[self.sent : self.sent + 1])
                    self.sent += 1
            except OSError:
                return  # the client cut the connection: what we want to see
            finally:
                self.done.set()


@pytest.fixture
def trickle() -> Iterator[Callable[[bytes, int], Trickler]]:
    """Start a `Trickler` on a free port of 127.0.0.1; every one is stopped at the end."""
    started: list[tuple[Trickler, socket.socket, threading.Thread]] = []

    def start(reply: bytes, at_once: int = 0) -> Trickler:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(10)  # bounded even if no client ever connects
        server = Trickler(reply, at_once, port=listener.getsockname()[1])
        thread = threading.Thread(target=server.serve, args=(listener,))
        thread.start()
        started.append((server, listener, thread))
        return server

    yield start
    for server, listener, thread in started:
        server.stop.set()
        thread.join(timeout=15)
        listener.close()
        assert not thread.is_alive()


def a_down_alert() -> Alert:
    check = Check(
        id="0b7c6f1e-1111-4000-8000-00000000abcd",
        name="nightly <backup> & co",
        slug="nightly-backup",
        tags="prod db",
        timeout_s=3600,
        grace_s=600,
        status="down",
        status_since_ms=T0 + 72 * 60_000,
        last_ping_ms=T0,
        last_exit=0,
        last_duration_ms=95_000,
    )
    return Alert(
        check,
        Flip(old="up", new="down", reason="timeout"),
        T0 + 72 * 60_000,
        last_output=b"x" * 1500 + b"\nerror: disk full\n",
        dashboard_url="https://cronbeat.example/#check/0b7c6f1e-1111-4000-8000-00000000abcd",
    )


def send(channel: Channel, **kwargs: Any) -> DeliveryResult:
    """One attempt at the down alert, allowed to reach loopback unless told otherwise."""
    kwargs.setdefault("allow_private", True)
    return attempt(channel, a_down_alert(), **kwargs)


def timed_send(channel: Channel, **kwargs: Any) -> tuple[DeliveryResult, float]:
    began = time.monotonic()
    result = send(channel, **kwargs)
    return result, time.monotonic() - began


def webhook_to(url: str, secret: str = SECRET) -> Channel:
    return Channel(id="ch-webhook", kind="webhook", config={"url": url, "secret": secret})


def webhook(receiver: Receiver, secret: str = SECRET) -> Channel:
    return webhook_to(receiver.url("/hook"), secret)


def resolving(name: str, *addresses: str) -> tuple[Resolver, list[tuple[str, int]]]:
    """A stub resolver that knows only `name`, and the lookups it was asked for."""
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        if host != name:
            raise OSError("Name or service not known")
        return list(addresses)

    return resolve, asked


def readme_verify() -> Callable[[bytes, bytes, str, str], bool]:
    """The receiver-side snippet from docs/webhooks.md, run as documented."""
    document = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    snippet = document.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own docs, checked so they stay true
    return namespace["verify"]  # type: ignore[no-any-return]


def test_webhook_is_signed_so_the_receiver_can_verify_body_and_timestamp(
    receiver: Receiver,
) -> None:
    # Given a webhook channel with a secret
    # When an alert is delivered
    result = send(webhook(receiver))
    # Then it arrives once, signed over the exact body, with a signed, fresh timestamp
    assert result == DeliveryResult(True, False, 200, None)
    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["User-Agent"] == "cronbeat"
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
    signature = request.headers["X-Cronbeat-Signature"]
    timestamp = request.headers["X-Cronbeat-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    verify = readme_verify()
    assert verify(SECRET.encode(), request.body, signature, timestamp)
    # And a tampered body, another secret, or a mismatched timestamp does not verify
    tampered = request.body.replace(b'"down"', b'"up"')
    assert not verify(SECRET.encode(), tampered, signature, timestamp)
    assert not verify(b"another secret", request.body, signature, timestamp)
    assert not verify(SECRET.encode(), request.body, signature, str(int(timestamp) - 1))


def test_the_signed_timestamp_is_the_injected_clocks(receiver: Receiver) -> None:
    # Given a clock reading 2026-01-01T00:00:00Z
    # When an alert is delivered
    send(webhook(receiver), now_s=lambda: T0 / 1000 + 0.9)
    # Then the timestamp header and payload carry that second
    [request] = receiver.received
    assert request.headers["X-Cronbeat-Timestamp"] == str(T0 // 1000)
    assert request.json()["timestamp"] == T0 // 1000


def test_webhook_payload_carries_every_documented_field(receiver: Receiver) -> None:
    # Given a delivered down alert
    send(webhook(receiver))
    # When the receiver parses the body
    payload = receiver.received[0].json()
    # Then the fields are those documented in docs/webhooks.md
    assert payload == {
        "kind": "flip",
        "alert_id": "0b7c6f1e-1111-4000-8000-00000000abcd/1767229920000",
        "timestamp": payload["timestamp"],
        "check_id": "0b7c6f1e-1111-4000-8000-00000000abcd",
        "name": "nightly <backup> & co",
        "slug": "nightly-backup",
        "tags": ["prod", "db"],
        "status": "down",
        "previous_status": "up",
        "reason": "timeout",
        "flip_time": "2026-01-01T01:12:00Z",
        "down_since": "2026-01-01T01:12:00Z",
        "summary": "no ping for 1 h 12 min, expected every 1 h, grace 10 min",
        "last_ping": "2026-01-01T00:00:00Z",
        "exit_status": 0,
        "duration_ms": 95000,
        "body_tail": payload["body_tail"],
        "url": "https://cronbeat.example/#check/0b7c6f1e-1111-4000-8000-00000000abcd",
    }
    assert isinstance(payload["timestamp"], int)
    assert payload["body_tail"].endswith("x\nerror: disk full")
    assert len(payload["body_tail"].encode()) <= 1000


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_one_retryable_attempt(receiver: Receiver, status: int) -> None:
    # Given a receiver that fails with a server error, then would accept
    receiver.answer(status, 200)
    # When an alert is attempted
    result = send(webhook(receiver))
    # Then exactly one request was made, and the failure is left for the queue to retry
    assert (result.delivered, result.permanent, result.status_code) == (False, False, status)
    assert result.error == f'HTTP {status}: {{"ok": false, "error": "scripted"}}'
    assert [r.answered for r in receiver.received] == [status]


def test_not_found_is_permanent_and_says_why(receiver: Receiver) -> None:
    # Given a receiver that answers 404
    receiver.answer(404)
    # When an alert is attempted
    result = send(webhook(receiver))
    # Then it fails permanently, quoting the reply
    assert result == DeliveryResult(
        False, True, 404, 'HTTP 404: {"ok": false, "error": "scripted"}'
    )
    assert len(receiver.received) == 1


def test_too_many_requests_is_retryable_and_carries_retry_after(receiver: Receiver) -> None:
    # Given a receiver that asks to wait 3 s
    receiver.answer(429, headers={"Retry-After": "3"})
    # When an alert is attempted
    result = send(webhook(receiver))
    # Then the failure is retryable and passes the receiver's wait on to the queue
    assert (result.permanent, result.status_code, result.retry_after_s) == (False, 429, 3.0)


def test_a_retry_after_date_is_ignored(receiver: Receiver) -> None:
    # Given a receiver that gives Retry-After as an HTTP date
    receiver.answer(503, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    # When an alert is attempted
    result = send(webhook(receiver))
    # Then the schedule's own backoff applies (no Retry-After is passed on)
    assert (result.permanent, result.status_code, result.retry_after_s) == (False, 503, None)


def test_a_redirect_is_not_followed_and_is_permanent(receiver: Receiver) -> None:
    # Given a receiver that redirects elsewhere
    receiver.answer(301, headers={"Location": receiver.url("/elsewhere")})
    # When an alert is attempted
    result = send(webhook(receiver))
    # Then the redirect is reported, not followed
    assert result == DeliveryResult(False, True, 301, "HTTP 301 (redirects are not followed)")
    assert [r.path for r in receiver.received] == ["/hook"]


def test_a_refused_connection_is_retryable_and_does_not_echo_the_url() -> None:
    # Given a port on 127.0.0.1 where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # When an alert is attempted there
    result = send(webhook_to(f"http://127.0.0.1:{closed_port}/token-in-path"))
    # Then it is a connection error, not permanent, and the URL is not echoed
    assert (result.delivered, result.permanent, result.status_code) == (False, False, None)
    assert result.error == "connection failed (ConnectionRefusedError)"


def test_a_name_that_does_not_resolve_is_retryable() -> None:
    # Given a resolver that knows no such name
    resolve, asked = resolving("other.example")
    # When an alert is attempted to that name
    result = send(webhook_to("https://gone.example/hook"), resolve=resolve)
    # Then it may resolve later: retryable
    assert result == DeliveryResult(False, False, None, "host did not resolve")
    assert asked == [("gone.example", 443)]


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        (Channel(id="a", kind="webhook", config={"url": "http://127.0.0.1:9/"}), "no secret"),
        (Channel(id="b", kind="webhook", config={"url": "ftp://x/", "secret": "s"}), "http(s)"),
        (Channel(id="c", kind="slack", config={}), "no url"),
        (Channel(id="d", kind="telegram", config={"bot_token": "1:a/b", "chat_id": "1"}), "token"),
        (Channel(id="e", kind="telegram", config={"bot_token": "1:ab"}), "no chat_id"),
        (Channel(id="f", kind="pager", config={}), "unknown channel kind 'pager'"),  # type: ignore[arg-type]
    ],
)
def test_a_channel_that_cannot_work_fails_permanently_without_sending(
    channel: Channel, error: str
) -> None:
    # Given a misconfigured channel, When an alert is attempted
    result = send(channel)
    # Then nothing is sent and the error says what is wrong
    assert (result.delivered, result.permanent, result.status_code) == (False, True, None)
    assert result.error is not None
    assert error in result.error


def test_slack_gets_a_coloured_attachment_with_the_facts(receiver: Receiver) -> None:
    # Given a Slack incoming webhook pointing at the local server
    channel = Channel(id="s", kind="slack", config={"url": receiver.url("/services/T/B/X")})
    # When an alert is delivered
    result = send(channel)
    # Then Slack's shape arrives: a plain text, one red attachment with fields, escaped text
    assert result.delivered
    [request] = receiver.received
    assert request.path == "/services/T/B/X"
    payload = request.json()
    assert payload["text"].startswith(
        "DOWN nightly &lt;backup&gt; &amp; co: no ping for 1 h 12 min"
    )
    [attachment] = payload["attachments"]
    assert attachment["color"] == "#e01e5a"
    assert attachment["title"] == "DOWN: nightly &lt;backup&gt; &amp; co"
    assert (
        attachment["title_link"]
        == "https://cronbeat.example/#check/0b7c6f1e-1111-4000-8000-00000000abcd"
    )
    assert attachment["ts"] == (T0 + 72 * 60_000) // 1000
    assert "error: disk full" in attachment["text"]
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Last ping"] == "2026-01-01 00:00:00 UTC, 1 h 12 min before this alert"
    assert fields["Tags"] == "prod db"
    assert all(set(f) == {"title", "value", "short"} for f in attachment["fields"])


def test_discord_gets_an_embed_and_mentions_nobody(receiver: Receiver) -> None:
    # Given a Discord webhook pointing at the local server
    channel = Channel(id="d", kind="discord", config={"url": receiver.url("/api/webhooks/1/t")})
    # When an alert is delivered
    result = send(channel)
    # Then one embed arrives with title, description, colour, fields and timestamp
    assert result.delivered
    payload = receiver.received[0].json()
    assert payload["allowed_mentions"] == {"parse": []}
    [embed] = payload["embeds"]
    assert embed["title"] == "DOWN: nightly <backup> & co"
    assert embed["description"].startswith("no ping for 1 h 12 min")
    assert "error: disk full" in embed["description"]
    assert embed["color"] == 0xE01E5A
    assert embed["timestamp"] == "2026-01-01T01:12:00Z"
    assert embed["url"] == "https://cronbeat.example/#check/0b7c6f1e-1111-4000-8000-00000000abcd"
    assert {"name": "Exit status", "value": "0", "inline": True} in embed["fields"]
    assert len(embed["fields"]) <= 25
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])


def telegram(receiver: Receiver) -> Channel:
    return Channel(
        id="t",
        kind="telegram",
        config={
            "bot_token": "123456:ABC-def_ghi",
            "chat_id": "-100200300",
            "api_base": receiver.base_url + "/",
        },
    )


def test_telegram_send_message_is_html_with_everything_escaped(receiver: Receiver) -> None:
    # Given a Telegram channel whose API base is the local server
    # When an alert is delivered
    result = send(telegram(receiver))
    # Then sendMessage is called for that bot, with HTML parse mode and escaped values
    assert result.delivered
    [request] = receiver.received
    assert request.path == "/bot123456:ABC-def_ghi/sendMessage"
    payload = request.json()
    assert payload["chat_id"] == "-100200300"
    assert payload["parse_mode"] == "HTML"
    assert payload["text"].startswith("<b>DOWN</b> nightly &lt;backup&gt; &amp; co\n")
    assert "<pre>" in payload["text"]
    assert payload["text"].endswith("error: disk full</pre>")
    assert len(payload["text"]) <= 4096


def test_a_telegram_failure_does_not_leak_the_bot_token(receiver: Receiver) -> None:
    # Given the Telegram API answering 401
    receiver.answer(401)
    # When an alert is attempted
    result = send(telegram(receiver))
    # Then the failure is permanent and its error holds no part of the token or URL
    assert (result.permanent, result.status_code) == (True, 401)
    assert result.error is not None
    assert "123456" not in result.error
    assert "sendMessage" not in result.error


# One deadline for the whole attempt

BUSY_HEAD = b"HTTP/1.1 503 Busy\r\nContent-Length: 40\r\n\r\n"


@pytest.mark.parametrize(
    ("scheme", "reply", "at_once", "status"),
    [
        pytest.param(
            "http",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            0,
            None,
            id="status-line",
        ),
        pytest.param("http", BUSY_HEAD + b"b" * 40, len(BUSY_HEAD) + 10, 503, id="body"),
        pytest.param("https", b"\x16\x03\x03\x00\x40" + b"\x00" * 64, 0, None, id="tls-handshake"),
    ],
)
def test_a_trickling_receiver_is_cut_off_at_the_deadline(
    trickle: Callable[[bytes, int], Trickler],
    scheme: str,
    reply: bytes,
    at_once: int,
    status: int | None,
) -> None:
    # Given a receiver that sends its reply one byte every 0.5 s (each read alone is quick)
    server = trickle(reply, at_once)
    # When an alert is attempted with a 1.5 s deadline
    result, took_s = timed_send(
        webhook_to(f"{scheme}://127.0.0.1:{server.port}/hook"), deadline_s=DEADLINE_S
    )
    # Then the attempt ended at the deadline, well before the reply would have
    assert took_s < DEADLINE_S + 1
    assert server.done.wait(5)
    assert server.sent < len(reply)
    # And it is retryable: a timeout, or the status that arrived before the body was cut
    assert not result.delivered
    assert not result.permanent
    assert result.status_code == status
    if status is None:
        assert result.error == "timed out after 1.5 s"
    else:
        # with what of the body came in time
        assert result.error is not None
        assert result.error.startswith(f"HTTP {status}: {'b' * 10}")
        assert result.error != f"HTTP {status}: {'b' * 40}"


def test_a_receiver_that_never_answers_times_out(receiver: Receiver) -> None:
    # Given a receiver that takes the request and never answers
    receiver.script.append(Reply(hang=True))
    # When an alert is attempted with a 0.5 s deadline
    result, took_s = timed_send(webhook(receiver), deadline_s=0.5)
    # Then it timed out at the deadline, retryably, after one request
    assert result == DeliveryResult(False, False, None, "timed out after 0.5 s")
    assert took_s < 0.5 + 1
    assert len(receiver.received) == 1


def test_a_hanging_lookup_counts_towards_the_deadline() -> None:
    # Given a resolver that does not answer until released
    released = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        released.wait(timeout=10)
        return ["127.0.0.1"]

    # When an alert is attempted with a 0.3 s deadline
    try:
        result, took_s = timed_send(
            webhook_to("http://slow-dns.example/hook"), deadline_s=0.3, resolve=hanging
        )
    finally:
        released.set()
    # Then it timed out at the deadline
    assert result == DeliveryResult(False, False, None, "timed out after 0.3 s")
    assert took_s < 0.3 + 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(b" " * 4096 + b"beyond the cap " * 2_200_000, "HTTP 500", id="past-cap"),
        pytest.param(b"x" * 300, "HTTP 500: " + "x" * 100, id="snippet"),
        pytest.param(b"line one\n\n\t  line two\r\n", "HTTP 500: line one line two", id="spaces"),
    ],
)
def test_only_the_start_of_a_failures_reply_is_read_and_quoted(
    receiver: Receiver, body: bytes, error: str
) -> None:
    # Given a receiver whose 500 reply is long, or ragged with whitespace
    receiver.script.append(Reply(500, body=body))
    # When an alert is attempted
    result = send(webhook(receiver))
    # Then the error quotes at most 100 characters of the first 4096 bytes, spaces collapsed
    assert result == DeliveryResult(False, False, 500, error)
    # And a reply much larger than that was not read to its end
    assert receiver.answered.wait(10)
    assert receiver.replies_cut == ([len(body)] if len(body) > 1_000_000 else [])


# Refused destinations


def test_a_loopback_url_is_refused_and_nothing_is_sent(receiver: Receiver) -> None:
    # Given a deployment that does not allow private targets
    # When an alert is attempted to the receiver on 127.0.0.1
    result = send(webhook(receiver), allow_private=False)
    # Then it fails permanently, naming the address but not the URL, and nothing arrived
    assert result == DeliveryResult(
        False, True, None, "url resolves to a loopback address (127.0.0.1)"
    )
    assert receiver.received == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [("169.254.169.254", "a link-local"), ("10.0.0.1", "a private"), ("::1", "a loopback")],
)
def test_a_name_resolving_to_an_internal_address_is_refused(address: str, reason: str) -> None:
    # Given a public-looking name that resolves to an internal address
    resolve, asked = resolving("hooks.example.com", address)
    # When an alert is attempted there
    result = send(
        webhook_to("https://hooks.example.com/token-in-path"), allow_private=False, resolve=resolve
    )
    # Then it is refused for good, after one lookup
    assert result == DeliveryResult(
        False, True, None, f"url resolves to {reason} address ({address})"
    )
    assert asked == [("hooks.example.com", 443)]


def test_the_connection_goes_to_the_checked_address_under_the_urls_name(
    receiver: Receiver,
) -> None:
    # Given a name that resolves to the receiver's address (private targets allowed)
    resolve, asked = resolving("hooks.example.test", "127.0.0.1")
    # When an alert is delivered to that name
    result = send(webhook_to(f"http://hooks.example.test:{receiver.port}/hook"), resolve=resolve)
    # Then it reached the pinned address, named as in the URL, after a single lookup
    assert result.delivered
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert asked == [("hooks.example.test", receiver.port)]


def test_a_checked_address_that_refuses_falls_back_to_the_next(receiver: Receiver) -> None:
    # Given a name whose first address has nothing listening (the receiver is IPv4-only)
    resolve, asked = resolving("dual.example.test", "::1", "127.0.0.1")
    # When an alert is delivered to that name
    result = send(webhook_to(f"http://dual.example.test:{receiver.port}/hook"), resolve=resolve)
    # Then the second checked address took it, with no further lookup
    assert result.delivered
    assert len(receiver.received) == 1
    assert len(asked) == 1


# The retry schedule the queue follows


@pytest.mark.parametrize(
    ("attempts_made", "delay_s"),
    [(1, 10), (2, 30), (3, 90), (4, 270), (5, 810), (6, 900), (7, 900), (1000, 900)],
)
def test_retry_delays_triple_up_to_fifteen_minutes(attempts_made: int, delay_s: float) -> None:
    # Given the middle of the jitter range, When the wait after a failed attempt is computed
    # Then it follows 10 s × 3ⁿ, capped at 15 min
    assert retry_delay_s(attempts_made, 0.5) == pytest.approx(delay_s)


@pytest.mark.parametrize("jitter", [0.0, 0.999])
def test_every_attempt_fits_in_an_hour_and_jitter_stays_within_ten_percent(
    jitter: float,
) -> None:
    # Given the extremes of the jitter range
    # When the waits before attempts 2 to 8 are summed
    waits = [retry_delay_s(n, jitter) for n in range(1, MAX_ATTEMPTS)]
    # Then the last attempt comes within an hour of the first, and each wait is ±10 %
    assert MAX_ATTEMPTS == 8
    assert sum(waits) < 3600
    assert FIRST_RETRY_S * 0.9 <= waits[0] <= FIRST_RETRY_S * 1.1
    assert all(0.9 * MAX_RETRY_S <= wait <= 1.1 * MAX_RETRY_S for wait in waits[-2:])
    assert waits == sorted(waits)


def test_mattermost_gets_the_slack_compatible_message_under_its_own_kind(
    receiver: Receiver,
) -> None:
    channel = Channel(id="m", kind="mattermost", config={"url": receiver.url("/hooks/abc")})
    result = send(channel)
    assert result.delivered
    payload = receiver.received[0].json()
    assert payload["username"] == "cronbeat"
    assert payload["text"].startswith("DOWN nightly &lt;backup&gt; &amp; co: no ping")
    [attachment] = payload["attachments"]
    assert attachment["color"] == "#e01e5a"


def test_google_chat_gets_a_card_with_escaped_text_and_a_link(receiver: Receiver) -> None:
    channel = Channel(id="g", kind="googlechat", config={"url": receiver.url("/v1/spaces/S")})
    result = send(channel)
    assert result.delivered
    payload = receiver.received[0].json()
    assert payload["text"].startswith("DOWN nightly <backup> & co: no ping for 1 h 12 min")
    [wrapper] = payload["cardsV2"]
    card = wrapper["card"]
    assert card["header"]["title"] == "DOWN: nightly <backup> & co"
    widgets = card["sections"][0]["widgets"]
    assert widgets[0]["textParagraph"]["text"].startswith('<font color="#e01e5a"><b>DOWN</b>')
    labels = {w["decoratedText"]["topLabel"] for w in widgets if "decoratedText" in w}
    assert {"Last ping", "Tags"} <= labels
    output = [w for w in widgets if "Last output" in w.get("textParagraph", {}).get("text", "")]
    assert "error: disk full" in output[0]["textParagraph"]["text"]
    [button] = widgets[-1]["buttonList"]["buttons"]
    assert button["onClick"]["openLink"]["url"].endswith(
        "#check/0b7c6f1e-1111-4000-8000-00000000abcd"
    )


def test_teams_gets_an_adaptive_card_through_a_workflow(receiver: Receiver) -> None:
    channel = Channel(id="t", kind="msteams", config={"url": receiver.url("/workflows/run")})
    result = send(channel)
    assert result.delivered
    payload = receiver.received[0].json()
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    headline, what, facts, *rest = card["body"]
    assert (headline["text"], headline["color"]) == ("DOWN: nightly <backup> & co", "Attention")
    assert what["text"].startswith("no ping for 1 h 12 min")
    assert {"title": "Exit status", "value": "0"} in facts["facts"]
    assert any(
        block.get("fontType") == "Monospace" and "disk full" in block["text"] for block in rest
    )
    assert card["actions"][0]["url"].endswith("#check/0b7c6f1e-1111-4000-8000-00000000abcd")


@pytest.mark.parametrize("kind", ["mattermost", "googlechat", "msteams"])
def test_a_url_channel_without_a_url_fails_permanently(kind: str) -> None:
    result = send(Channel(id="x", kind=kind, config={}))  # type: ignore[arg-type]
    assert (result.delivered, result.permanent) == (False, True)
    assert result.error is not None
    assert "no url" in result.error


def test_ntfy_publishes_json_to_the_topics_server_with_token_priority_and_tags(
    receiver: Receiver,
) -> None:
    # Given an ntfy topic on a self-hosted server under a path prefix, with a token
    channel = Channel(
        id="n",
        kind="ntfy",
        config={"url": receiver.url("/ntfy/backups"), "token": "tk_abc", "priority_down": "5"},
    )
    # When an alert is delivered
    result = send(channel)
    # Then one JSON message reaches the server's root, naming the topic, with the token
    assert result.delivered
    [request] = receiver.received
    assert request.path == "/ntfy"
    assert request.headers["Authorization"] == "Bearer tk_abc"
    payload = request.json()
    assert (payload["topic"], payload["priority"], payload["tags"]) == (
        "backups",
        5,
        ["rotating_light"],
    )
    assert payload["title"] == "DOWN: nightly <backup> & co"
    assert payload["message"].startswith("no ping for 1 h 12 min")
    assert "error: disk full" in payload["message"]
    assert payload["click"].endswith("#check/0b7c6f1e-1111-4000-8000-00000000abcd")


def test_ntfy_defaults_to_high_priority_and_no_token(receiver: Receiver) -> None:
    result = send(Channel(id="n", kind="ntfy", config={"url": receiver.url("/alerts")}))
    assert result.delivered
    [request] = receiver.received
    assert request.path == "/"
    assert "Authorization" not in request.headers
    assert request.json()["priority"] == 4


def test_an_ntfy_url_without_a_topic_fails_permanently(receiver: Receiver) -> None:
    result = send(Channel(id="n", kind="ntfy", config={"url": receiver.url("/")}))
    assert (result.delivered, result.permanent, result.error) == (
        False,
        True,
        "ntfy channel url names no topic",
    )
    assert receiver.received == []
