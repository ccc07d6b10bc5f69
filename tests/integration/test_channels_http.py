"""Channel delivery against a real HTTP server on 127.0.0.1: signatures, retries, timeouts, shapes.

The receiver records every request and answers from a script; `sleep` is injected so backoff
waits are recorded, not slept, while the clock still counts them towards the 20 s budget.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cronbeat.channels.alert import Alert
from cronbeat.channels.delivery import BUDGET_S, DeliveryResult, deliver
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import Check, Flip

T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
SECRET = "s3cret-for-tests"
HANG = -1
"""A scripted status that makes the receiver hold the request until the test ends."""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the test server saw, and what it will answer next (default: 200)."""

    base_url: str = ""
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        self.script.extend((status, headers or {}) for status in statuses)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                status, headers = receiver.script.popleft() if receiver.script else (200, {})
                receiver.received.append(Received(self.path, dict(self.headers), body, status))
            if status == HANG:
                receiver.release.wait(timeout=60)
                return
            reply = b'{"ok": true}' if status < 300 else b'{"ok": false, "error": "scripted"}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `received`, not the log."""

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A threaded HTTP server on a free port of 127.0.0.1, shut down (and unblocked) at the end."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    host, port = server.server_address[:2]
    state.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive()


class Clock:
    """Real elapsed time plus the waits `sleep` was asked for, which are recorded, not slept."""

    def __init__(self) -> None:
        self.start_s = time.time()
        self._monotonic0 = time.monotonic()
        self.delays: list[float] = []

    def now_s(self) -> float:
        return self.start_s + (time.monotonic() - self._monotonic0) + sum(self.delays)

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    @property
    def elapsed_s(self) -> float:
        return self.now_s() - self.start_s


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


def send(channel: Channel, clock: Clock, **kwargs: Any) -> DeliveryResult:
    return deliver(channel, a_down_alert(), sleep=clock.sleep, now_s=clock.now_s, **kwargs)


def webhook(receiver: Receiver, secret: str = SECRET) -> Channel:
    return Channel(
        id="ch-webhook", kind="webhook", config={"url": receiver.url("/hook"), "secret": secret}
    )


def readme_verify() -> Callable[[bytes, bytes, str, str], bool]:
    """The receiver-side snippet from README.md ("Webhook payload"), run as documented."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Webhook payload", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own README, checked so the docs stay true
    return namespace["verify"]  # type: ignore[no-any-return]


def test_webhook_is_signed_so_the_receiver_can_verify_body_and_timestamp(
    receiver: Receiver,
) -> None:
    # Given a webhook channel with a secret
    clock = Clock()
    # When an alert is delivered
    result = send(webhook(receiver), clock)
    # Then it arrives once, signed over the exact body, with a signed, fresh timestamp
    assert result == DeliveryResult(True, False, 200, 1, None)
    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["Content-Type"].startswith("application/json")
    signature = request.headers["X-Cronbeat-Signature"]
    timestamp = request.headers["X-Cronbeat-Timestamp"]
    verify = readme_verify()
    assert verify(SECRET.encode(), request.body, signature, timestamp)
    # And a tampered body, another secret, or a mismatched timestamp does not verify
    tampered = request.body.replace(b'"down"', b'"up"')
    assert not verify(SECRET.encode(), tampered, signature, timestamp)
    assert not verify(b"another secret", request.body, signature, timestamp)
    assert not verify(SECRET.encode(), request.body, signature, str(int(timestamp) - 1))


def test_webhook_payload_carries_every_documented_field(receiver: Receiver) -> None:
    # Given a delivered down alert
    send(webhook(receiver), Clock())
    # When the receiver parses the body
    payload = receiver.received[0].json()
    # Then the fields are those documented in the README
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


def test_two_server_errors_then_success_delivers_exactly_once_after_growing_waits(
    receiver: Receiver,
) -> None:
    # Given a receiver that fails twice with 500, then accepts
    receiver.answer(500, 500, 200)
    clock = Clock()
    # When an alert is delivered
    result = send(webhook(receiver), clock)
    # Then it is delivered on the 3rd attempt, and exactly one request got a 200
    assert result.delivered
    assert result.attempts == 3
    assert result.status_code == 200
    assert [r.answered for r in receiver.received] == [500, 500, 200]
    # And every attempt was the same alert, signed afresh
    assert len({r.json()["alert_id"] for r in receiver.received}) == 1
    # And the waits grew, within the jittered windows, and all fits the 20 s budget
    first, second = clock.delays
    assert 1.0 <= first < 2.0 <= second < 4.0
    assert clock.elapsed_s < BUDGET_S


def test_not_found_is_permanent_after_one_attempt(receiver: Receiver) -> None:
    # Given a receiver that answers 404
    receiver.answer(404)
    clock = Clock()
    # When an alert is delivered
    result = send(webhook(receiver), clock)
    # Then it fails permanently at once, without waiting, and says why
    assert result.permanent
    assert not result.delivered
    assert (result.status_code, result.attempts) == (404, 1)
    assert result.error is not None
    assert result.error.startswith("HTTP 404")
    assert len(receiver.received) == 1
    assert clock.delays == []


def test_too_many_requests_is_retried_after_the_receivers_retry_after(receiver: Receiver) -> None:
    # Given a receiver that asks to wait 3 s, then accepts
    receiver.answer(429, headers={"Retry-After": "3"})
    clock = Clock()
    # When an alert is delivered
    result = send(webhook(receiver), clock)
    # Then the wait honoured Retry-After and the second attempt succeeded
    assert result == DeliveryResult(True, False, 200, 2, None)
    assert clock.delays == [3.0]


def test_a_retry_after_beyond_the_budget_stops_retrying_without_giving_up_for_good(
    receiver: Receiver,
) -> None:
    # Given a receiver that asks to come back in 30 s
    receiver.answer(503, headers={"Retry-After": "30"})
    clock = Clock()
    # When an alert is delivered
    result = send(webhook(receiver), clock)
    # Then no wait is spent, and the failure is left for the stream to retry
    assert (result.delivered, result.permanent, result.attempts) == (False, False, 1)
    assert result.status_code == 503
    assert clock.delays == []


def test_a_hanging_receiver_times_out_and_is_not_delivered(receiver: Receiver) -> None:
    # Given a receiver that never answers
    receiver.answer(HANG, HANG, HANG)
    clock = Clock()
    # When an alert is delivered with a small timeout
    result = send(webhook(receiver), clock, timeout_s=0.3)
    # Then each of the 3 attempts timed out and nothing was delivered
    assert (result.delivered, result.permanent, result.status_code) == (False, False, None)
    assert result.attempts == 3
    assert result.error == "timed out after 0.3 s"
    assert len(receiver.received) == 3
    assert clock.elapsed_s < BUDGET_S


def test_the_last_attempt_gets_only_what_is_left_of_the_20_s(receiver: Receiver) -> None:
    # Given a receiver that asks for 9.6 s twice, then hangs
    receiver.answer(503, 503, headers={"Retry-After": "9.6"})
    receiver.answer(HANG)
    clock = Clock()
    # When an alert is delivered with the default 5 s timeout
    result = send(webhook(receiver), clock)
    # Then the third attempt was cut to the remaining budget (well under 5 s)
    assert result.attempts == 3
    assert result.error is not None
    assert result.error.startswith("timed out after 0.")
    assert clock.delays == [9.6, 9.6]
    assert clock.elapsed_s < BUDGET_S + 0.2


def test_a_refused_connection_is_retried_then_reported(receiver: Receiver) -> None:
    # Given a port on 127.0.0.1 where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    channel = Channel(
        id="ch", kind="webhook", config={"url": f"http://127.0.0.1:{closed_port}/", "secret": "s"}
    )
    clock = Clock()
    # When an alert is delivered there
    result = send(channel, clock)
    # Then all 3 attempts fail as connection errors, not permanently, and the URL is not echoed
    assert (result.delivered, result.permanent, result.attempts) == (False, False, 3)
    assert result.error is not None
    assert result.error.startswith("connection failed")
    assert str(closed_port) not in result.error
    assert len(clock.delays) == 2


def test_a_redirect_is_not_followed_and_is_permanent(receiver: Receiver) -> None:
    # Given a receiver that redirects elsewhere
    receiver.answer(301, headers={"Location": receiver.url("/elsewhere")})
    # When an alert is delivered
    result = send(webhook(receiver), Clock())
    # Then the redirect is reported, not followed
    assert (result.permanent, result.status_code, result.attempts) == (True, 301, 1)
    assert [r.path for r in receiver.received] == ["/hook"]


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        (Channel(id="a", kind="webhook", config={"url": "http://127.0.0.1:9/"}), "no secret"),
        (Channel(id="b", kind="webhook", config={"url": "ftp://x/", "secret": "s"}), "http(s)"),
        (Channel(id="c", kind="slack", config={}), "no url"),
        (Channel(id="d", kind="telegram", config={"bot_token": "1:a/b", "chat_id": "1"}), "token"),
        (Channel(id="e", kind="telegram", config={"bot_token": "1:ab"}), "no chat_id"),
    ],
)
def test_a_channel_that_cannot_work_fails_permanently_without_sending(
    channel: Channel, error: str
) -> None:
    # Given a misconfigured channel, When an alert is delivered
    result = send(channel, Clock())
    # Then nothing is attempted and the error says what is missing
    assert (result.delivered, result.permanent, result.attempts) == (False, True, 0)
    assert result.error is not None
    assert error in result.error


def test_slack_gets_a_coloured_attachment_with_the_facts(receiver: Receiver) -> None:
    # Given a Slack incoming webhook pointing at the local server
    channel = Channel(id="s", kind="slack", config={"url": receiver.url("/services/T/B/X")})
    # When an alert is delivered
    result = send(channel, Clock())
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
    result = send(channel, Clock())
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


def test_telegram_send_message_is_html_with_everything_escaped(receiver: Receiver) -> None:
    # Given a Telegram channel whose API base is the local server
    channel = Channel(
        id="t",
        kind="telegram",
        config={
            "bot_token": "123456:ABC-def_ghi",
            "chat_id": "-100200300",
            "api_base": receiver.base_url + "/",
        },
    )
    # When an alert is delivered
    result = send(channel, Clock())
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
