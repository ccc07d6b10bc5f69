"""Every HTTP channel kind, for a down, a recovery and a reminder, against a receiver on
127.0.0.1 that stands in for the service (its URL or `api_base` pointed there): the request's
path, headers and the payload's shape as each service documents it, with the keys that tie a
recovery to its incident.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import pytest

from cronbeat.channels import opsgenie
from cronbeat.channels.alert import Alert
from cronbeat.channels.delivery import attempt
from cronbeat.domain.channel import Channel, ChannelKind
from cronbeat.domain.model import Check, Flip
from tests.integration.http_receiver import Received, Receiver

T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
CHECK_ID = "0b7c6f1e-2222-4000-8000-00000000abcd"
DASHBOARD = f"https://cronbeat.example/#check/{CHECK_ID}"
HOUR_MS = 3_600_000


def the_check(status: str) -> Check:
    return Check(
        id=CHECK_ID,
        name="nightly backup",
        slug="nightly-backup",
        tags="prod db",
        timeout_s=3600,
        grace_s=600,
        status=status,
        status_since_ms=T0 + HOUR_MS,
        last_ping_ms=T0,
        last_exit=1,
    )


def down() -> Alert:
    return Alert(
        the_check("down"),
        Flip(old="up", new="down", reason="fail"),
        T0 + HOUR_MS,
        last_output=b"error: disk full\n",
        dashboard_url=DASHBOARD,
    )


def up() -> Alert:
    return Alert(
        the_check("up"),
        Flip(old="down", new="up", reason="success"),
        T0 + 3 * HOUR_MS,
        previous_since_ms=T0 + HOUR_MS,
        dashboard_url=DASHBOARD,
    )


def reminder() -> Alert:
    return Alert(the_check("down"), None, T0 + 2 * HOUR_MS, dashboard_url=DASHBOARD)


ALERTS: dict[str, Callable[[], Alert]] = {"down": down, "up": up, "reminder": reminder}


def channel(kind: ChannelKind, receiver: Receiver) -> Channel:
    """A channel of `kind` whose service is the receiver."""
    base = receiver.base_url
    configs: dict[str, dict[str, str]] = {
        "webhook": {"url": f"{base}/hook", "secret": "s" * 24},
        "slack": {"url": f"{base}/services/T/B/x"},
        "discord": {"url": f"{base}/api/webhooks/1/x"},
        "mattermost": {"url": f"{base}/hooks/abc"},
        "googlechat": {"url": f"{base}/v1/spaces/S/messages"},
        "msteams": {"url": f"{base}/workflows/run"},
        "ntfy": {"url": f"{base}/backups"},
        "telegram": {"bot_token": "123:abc", "chat_id": "-100200", "api_base": base},
        "pagerduty": {"routing_key": "R" * 32, "severity": "error", "api_base": base},
        "opsgenie": {"genie_key": "gk-1", "priority": "P2", "api_base": base},
        "pushover": {"user_key": "u" * 30, "app_token": "a" * 30, "api_base": base},
    }
    return Channel(id=f"ch-{kind}", kind=kind, config=configs[kind])


def delivered(kind: ChannelKind, status: str, receiver: Receiver) -> Received:
    result = attempt(channel(kind, receiver), ALERTS[status](), allow_private=True)
    assert result.delivered, result.error
    [request] = receiver.received
    return request


HEADLINES = {"down": "DOWN", "up": "UP", "reminder": "DOWN"}


def _webhook(request: Received, status: str) -> None:
    assert request.path == "/hook"
    assert request.headers["X-Cronbeat-Signature"].startswith("sha256=")
    body = request.json()
    assert body["kind"] == ("reminder" if status == "reminder" else "flip")
    assert body["check_id"] == CHECK_ID
    assert body["status"] == ("up" if status == "up" else "down")
    assert body["previous_status"] == {"down": "up", "up": "down", "reminder": None}[status]
    assert body["alert_id"] == f"{CHECK_ID}/{ALERTS[status]().at_ms}"


def _slack_like(request: Received, status: str) -> None:
    body = request.json()
    assert isinstance(body["text"], str)
    assert body["text"].startswith(HEADLINES[status])
    [attachment] = body["attachments"]
    colours = {"down": "#e01e5a", "up": "#2eb67d", "reminder": "#ecb22e"}
    assert attachment["color"] == colours[status]
    assert attachment["title_link"] == DASHBOARD
    assert all({"title", "value", "short"} <= set(f) for f in attachment["fields"])


def _discord(request: Received, status: str) -> None:
    body = request.json()
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"].startswith(HEADLINES[status])
    assert isinstance(embed["color"], int)
    assert embed["url"] == DASHBOARD


def _googlechat(request: Received, status: str) -> None:
    body = request.json()
    assert body["text"].startswith(HEADLINES[status])
    [wrapper] = body["cardsV2"]
    assert wrapper["card"]["header"]["title"] == f"{HEADLINES[status]}: nightly backup"


def _msteams(request: Received, status: str) -> None:
    body = request.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    colours = {"down": "Attention", "up": "Good", "reminder": "Attention"}
    assert card["body"][0]["color"] == colours[status]


def _ntfy(request: Received, status: str) -> None:
    assert request.path == "/"
    body = request.json()
    assert body["topic"] == "backups"
    assert body["priority"] == (3 if status == "up" else 4)
    assert body["tags"] == (["white_check_mark"] if status == "up" else ["rotating_light"])
    assert body["click"] == DASHBOARD


def _telegram(request: Received, status: str) -> None:
    assert request.path == "/bot123:abc/sendMessage"
    body = request.json()
    assert (body["chat_id"], body["parse_mode"]) == ("-100200", "HTML")
    assert body["text"].startswith(f"<b>{HEADLINES[status]}</b> nightly backup")


def _pagerduty(request: Received, status: str) -> None:
    # Events API v2: POST /v2/enqueue; the dedup key ties trigger, re-trigger and resolve
    assert request.path == "/v2/enqueue"
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.json()
    assert body["routing_key"] == "R" * 32
    assert body["dedup_key"] == CHECK_ID
    assert body["client"] == "cronbeat"
    assert body["links"] == [{"href": DASHBOARD, "text": "Open in cronbeat"}]
    if status == "up":
        assert body["event_action"] == "resolve"
        assert "payload" not in body
        return
    assert body["event_action"] == "trigger"
    payload = body["payload"]
    assert {"summary", "source", "severity"} <= set(payload)
    assert payload["severity"] == "error"
    assert payload["source"] == "nightly backup"
    assert payload["summary"].startswith("DOWN nightly backup")
    assert len(payload["summary"]) <= 1024
    assert payload["timestamp"] == (
        "2026-01-01T01:00:00Z" if status == "down" else "2026-01-01T02:00:00Z"
    )
    assert all(isinstance(v, str) for v in payload["custom_details"].values())
    assert payload["custom_details"]["Check ID"] == CHECK_ID


def _opsgenie(request: Received, status: str) -> None:
    # Alert API: create with an alias, close by that alias
    assert request.headers["Authorization"] == "GenieKey gk-1"
    body = request.json()
    if status == "up":
        assert request.path == f"/v2/alerts/{CHECK_ID}/close?identifierType=alias"
        assert body["source"] == "cronbeat"
        assert body["note"].startswith("back up after being down for 2 h")
        return
    assert request.path == "/v2/alerts"
    assert body["alias"] == CHECK_ID
    assert body["priority"] == "P2"
    assert len(body["message"]) <= 130
    assert body["message"].startswith("DOWN nightly backup")
    assert body["tags"] == ["cronbeat", "prod", "db"]
    assert all(isinstance(v, str) for v in body["details"].values())
    assert body["details"]["Dashboard"] == DASHBOARD


def _pushover(request: Received, status: str) -> None:
    # messages.json takes a form: token, user, message, and optional title, priority, url
    assert request.path == "/1/messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert (form["token"], form["user"]) == ("a" * 30, "u" * 30)
    assert form["title"] == f"{HEADLINES[status]}: nightly backup"
    assert form["priority"] == ("0" if status == "up" else "1")
    assert len(form["message"]) <= 1024
    assert (form["url"], form["url_title"]) == (DASHBOARD, "Open in cronbeat")
    assert int(form["timestamp"]) == ALERTS[status]().at_ms // 1000
    assert "retry" not in form


SHAPES: dict[ChannelKind, Callable[[Received, str], None]] = {
    "webhook": _webhook,
    "slack": _slack_like,
    "mattermost": _slack_like,
    "discord": _discord,
    "googlechat": _googlechat,
    "msteams": _msteams,
    "ntfy": _ntfy,
    "telegram": _telegram,
    "pagerduty": _pagerduty,
    "opsgenie": _opsgenie,
    "pushover": _pushover,
}


@pytest.mark.parametrize("status", list(ALERTS))
@pytest.mark.parametrize("kind", list(SHAPES))
def test_each_kind_sends_its_services_documented_shape(
    receiver: Receiver, kind: ChannelKind, status: str
) -> None:
    # Given a channel of the kind whose service is the local receiver
    # When a down, a recovery or a reminder is delivered
    request = delivered(kind, status, receiver)
    # Then one request of the service's documented shape arrives
    SHAPES[kind](request, status)


def test_pagerduty_severity_defaults_to_critical_and_a_bad_one_is_not_sent(
    receiver: Receiver,
) -> None:
    plain = channel("pagerduty", receiver)
    config = {k: v for k, v in plain.config.items() if k != "severity"}
    attempt(Channel(id="p", kind="pagerduty", config=config), down(), allow_private=True)
    assert receiver.received[0].json()["payload"]["severity"] == "critical"


def test_opsgenie_region_picks_the_eu_host_unless_api_base_overrides_it() -> None:
    request = opsgenie.build(
        Channel(id="o", kind="opsgenie", config={"genie_key": "k", "region": "eu"}),
        down(),
        sent_at_s=0,
    )
    assert request.url == "https://api.eu.opsgenie.com/v2/alerts"


def test_a_pushover_emergency_asks_for_acknowledgement(receiver: Receiver) -> None:
    config = {**channel("pushover", receiver).config, "priority_down": "2"}
    attempt(Channel(id="p", kind="pushover", config=config), down(), allow_private=True)
    form = parse_qs(receiver.received[0].body.decode())
    assert (form["priority"], form["retry"], form["expire"]) == (["2"], ["300"], ["3600"])


@pytest.mark.parametrize(
    ("kind", "config", "error"),
    [
        ("pagerduty", {}, "pagerduty channel has no routing_key"),
        ("opsgenie", {}, "opsgenie channel has no genie_key"),
        ("pushover", {"user_key": "u"}, "pushover channel has no app_token"),
        ("pagerduty", {"routing_key": "r", "api_base": "ftp://x"}, "must be an http(s) URL"),
    ],
)
def test_a_paging_channel_that_cannot_work_fails_permanently_without_sending(
    receiver: Receiver, kind: ChannelKind, config: dict[str, str], error: str
) -> None:
    result = attempt(Channel(id="x", kind=kind, config=config), down(), allow_private=True)
    assert (result.delivered, result.permanent) == (False, True)
    assert result.error is not None
    assert error in result.error
    assert receiver.received == []


def test_a_pagerduty_rate_limit_is_retried(receiver: Receiver) -> None:
    receiver.answer(429, headers={"Retry-After": "30"})
    result = attempt(channel("pagerduty", receiver), down(), allow_private=True)
    assert (result.delivered, result.permanent, result.retry_after_s) == (False, False, 30.0)
