"""ntfy: a push to a topic on ntfy.sh or any self-hosted server, with priority and tags by status.

The channel's `url` is the topic's URL (`https://ntfy.sh/backups`, or a server under a path
prefix). The message is published as JSON to the server's root, so titles and text may hold
any character, which ntfy's header form cannot carry. An optional access token goes in the
`Authorization` header. Priorities are ntfy's 1 (min) to 5 (max): by default 4 when a check goes
down or is still down, and 3 when it recovers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import (
    HttpPost,
    InvalidChannelConfig,
    json_post,
    require,
    require_url,
)
from cronbeat.domain.channel import Channel

DEFAULT_PRIORITY = {"down": 4, "up": 3}
TAGS = {"down": ["rotating_light"], "up": ["white_check_mark"]}


def topic_endpoint(url: str) -> tuple[str, str]:
    """(the server URL to publish to, the topic) from a topic URL."""
    parts = urlsplit(require_url(url, "ntfy"))
    prefix, _, topic = parts.path.rstrip("/").rpartition("/")
    if not topic:
        raise InvalidChannelConfig("ntfy channel url names no topic")
    return urlunsplit((parts.scheme, parts.netloc, prefix or "/", "", "")), topic


def priority(channel: Channel, status: str) -> int:
    """The configured priority for `status` (a reminder is a down), within ntfy's 1 to 5."""
    key = "up" if status == "up" else "down"
    raw = channel.config.get(f"priority_{key}", "")
    value = int(raw) if raw.isdigit() else DEFAULT_PRIORITY[key]
    return min(max(value, 1), 5)


def payload(channel: Channel, alert: Alert, topic: str) -> dict[str, Any]:
    lines = [message.what_happened(alert)]
    lines.extend(f"{key}: {value}" for key, value in message.facts(alert))
    tail = message.output_tail(alert)
    if tail:
        lines.extend(["", "Last output:", tail])
    status = "up" if alert.status == "up" else "down"
    document: dict[str, Any] = {
        "topic": topic,
        "title": f"{message.label(alert)}: {message.display_name(alert.check)}",
        "message": "\n".join(lines),
        "priority": priority(channel, alert.status),
        "tags": TAGS[status],
    }
    if alert.dashboard_url:
        document["click"] = alert.dashboard_url
    return document


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    server, topic = topic_endpoint(require(channel.config, "url", "ntfy"))
    token = channel.config.get("token", "")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return json_post(server, payload(channel, alert, topic), headers)
