"""Discord webhook: one embed (title, description, colour, fields, timestamp), no pings."""

from __future__ import annotations

import re
from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, json_post, require, require_url
from cronbeat.domain.channel import Channel

# Discord's embed limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
MAX_FIELDS = 25

_MARKDOWN = re.compile(r"([\\*_~`|])")


def escape(text: str) -> str:
    """Backslash Discord's inline markdown, so a name like `db_backup_2` shows as written."""
    return _MARKDOWN.sub(r"\\\1", text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def payload(alert: Alert) -> dict[str, Any]:
    """The execute-webhook JSON. `allowed_mentions` is empty: output saying @everyone stays text."""
    description = escape(message.what_happened(alert))
    tail = message.output_tail(alert)
    if tail:
        description += "\n**Last output:**\n```\n" + tail.replace("```", "'''") + "\n```"
    embed: dict[str, Any] = {
        "title": _cut(f"{message.label(alert)}: {message.display_name(alert.check)}", TITLE_LIMIT),
        "description": _cut(description, DESCRIPTION_LIMIT),
        "color": message.colour(alert),
        "fields": [
            {
                "name": _cut(key, FIELD_NAME_LIMIT),
                "value": _cut(escape(value), FIELD_VALUE_LIMIT),
                "inline": len(value) <= 40,
            }
            for key, value in message.facts(alert)[:MAX_FIELDS]
        ],
        "timestamp": message.iso_utc(alert.at_ms),
        "footer": {"text": "cronbeat"},
    }
    if alert.dashboard_url:
        embed["url"] = alert.dashboard_url
    return {"username": "cronbeat", "allowed_mentions": {"parse": []}, "embeds": [embed]}


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    url = require_url(require(channel.config, "url", "discord"), "discord")
    return json_post(url, payload(alert))
