"""docs/channels.md shows, for every kind, the request a down alert makes: each example there is
what the kind's module builds for the same sample alert, so the page cannot drift from the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from cronbeat.channels.alert import Alert
from cronbeat.channels.delivery import builder
from cronbeat.domain.channel import CHANNEL_KINDS, TOPIC_KINDS, Channel, ChannelKind
from cronbeat.domain.model import Check, Flip

DOC = Path(__file__).parents[2] / "docs" / "channels.md"
T0 = 1_767_225_600_000
SAMPLE_CONFIG: dict[str, dict[str, str]] = {
    "webhook": {"url": "https://hooks.example.com/cronbeat", "secret": "x" * 32},
    "slack": {"url": "https://hooks.slack.com/services/T0/B0/XXXX"},
    "discord": {"url": "https://discord.com/api/webhooks/1/XXXX"},
    "mattermost": {"url": "https://chat.example.com/hooks/XXXX"},
    "googlechat": {"url": "https://chat.googleapis.com/v1/spaces/S/messages?key=K&token=T"},
    "msteams": {"url": "https://prod.westeurope.logic.azure.com/workflows/XXXX"},
    "telegram": {"bot_token": "123456:XXXX", "chat_id": "-1001234567890"},
    "ntfy": {"url": "https://ntfy.sh/backups"},
    "pushover": {
        "user_key": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
        "app_token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
    },
    "pagerduty": {"routing_key": "R" + "X" * 31},
    "opsgenie": {"genie_key": "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"},
}


def sample_alert() -> Alert:
    check = Check(
        id="5a1f3c9e-8a44-4d5e-9f0b-3f1c2a7e0d11",
        name="nightly backup",
        slug="nightly-backup",
        tags="prod db",
        timeout_s=86_400,
        grace_s=3600,
        status="down",
        status_since_ms=T0 + 3 * 3_600_000,
        last_ping_ms=T0,
        last_exit=1,
        last_duration_ms=41_000,
    )
    return Alert(
        check,
        Flip(old="up", new="down", reason="fail"),
        T0 + 3 * 3_600_000,
        last_output=b"dumping db...\nerror: disk full\n",
        dashboard_url=f"https://cronbeat.example.com/#check/{check.id}",
    )


def example(kind: ChannelKind) -> tuple[str, Any]:
    """The URL and the body (JSON, or a form as a dict) the kind sends for the sample alert."""
    request = builder(kind)(
        Channel(id="c", kind=kind, config=SAMPLE_CONFIG[kind]), sample_alert(), sent_at_s=T0 // 1000
    )
    if request.headers["Content-Type"].startswith("application/json"):
        return request.url, json.loads(request.body)
    return request.url, dict(parse_qsl(request.body.decode()))


def documented() -> dict[str, tuple[str, Any]]:
    """Each kind's section of the page: `POST <url>` and the ```json block under it."""
    found: dict[str, tuple[str, Any]] = {}
    for kind, url, body in re.findall(
        r"^### `(\w+)`\n.*?^`POST (\S+)`.*?^```json\n(.*?)^```", DOC.read_text(), re.M | re.S
    ):
        found[kind] = (url, json.loads(body))
    return found


@pytest.mark.parametrize("kind", [k for k in CHANNEL_KINDS if k not in TOPIC_KINDS])
def test_each_kinds_documented_example_is_what_it_sends(kind: ChannelKind) -> None:
    assert documented().get(kind) == example(kind)
