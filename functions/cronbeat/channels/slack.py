"""Slack incoming webhook: one attachment coloured by status, with the facts as fields."""

from __future__ import annotations

from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, json_post, require, require_url
from cronbeat.domain.channel import Channel

_SHORT_FIELD_CHARS = 40
"""Fields up to this long sit side by side; longer ones get a full row."""


def escape(text: str) -> str:
    """Slack's three control characters, as its formatting guide asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(alert: Alert) -> dict[str, Any]:
    """The incoming-webhook JSON: a plain `text` for notifications, the details in an attachment."""
    name = message.display_name(alert.check)
    headline = f"{message.label(alert)}: {name}"
    text = escape(message.what_happened(alert))
    tail = message.output_tail(alert)
    if tail:
        text += "\n*Last output:*\n```" + escape(tail.replace("```", "'''")) + "```"
    attachment: dict[str, Any] = {
        "color": f"#{message.colour(alert):06x}",
        "fallback": escape(message.sms_text(alert)),
        "title": escape(headline),
        "text": text,
        "fields": [
            {"title": key, "value": escape(value), "short": len(value) <= _SHORT_FIELD_CHARS}
            for key, value in message.facts(alert)
        ],
        "footer": "cronbeat",
        "ts": alert.at_ms // 1000,
        "mrkdwn_in": ["text"],
    }
    if alert.dashboard_url:
        attachment["title_link"] = alert.dashboard_url
    return {"text": escape(message.sms_text(alert)), "attachments": [attachment]}


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    url = require_url(require(channel.config, "url", "slack"), "slack")
    return json_post(url, payload(alert))
