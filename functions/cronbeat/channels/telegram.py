"""Telegram: the Bot API's `sendMessage`, with HTML formatting and every value escaped."""

from __future__ import annotations

import html
from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import (
    HttpPost,
    InvalidChannelConfig,
    api_base,
    json_post,
    require,
)
from cronbeat.domain.channel import Channel

DEFAULT_API_BASE = "https://api.telegram.org"
TEXT_LIMIT = 4096
"""sendMessage rejects longer texts; the output tail is shortened to fit."""


def text(alert: Alert) -> str:
    """The message in Telegram's HTML mode: headline, what happened, the facts, link and tail."""
    name = html.escape(message.display_name(alert.check))
    lines = [
        f"<b>{html.escape(message.label(alert))}</b> {name}",
        html.escape(message.what_happened(alert)),
        "",
    ]
    lines += [
        f"<b>{html.escape(key)}:</b> {html.escape(value)}" for key, value in message.facts(alert)
    ]
    if alert.dashboard_url:
        lines.append(f'<a href="{html.escape(alert.dashboard_url)}">Open in cronbeat</a>')
    head = "\n".join(lines)
    tail = message.output_tail(alert)
    if not tail:
        return head
    room = TEXT_LIMIT - len(head) - len("\n\n<b>Last output:</b>\n<pre></pre>")
    return f"{head}\n\n<b>Last output:</b>\n<pre>{_escaped_tail(tail, room)}</pre>"


def _escaped_tail(tail: str, room: int) -> str:
    """The end of `tail`, escaped, in at most `room` characters (escaping can grow it fourfold)."""
    kept: list[str] = []
    used = 0
    for char in reversed(tail):
        piece = html.escape(char)
        if used + len(piece) > room:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(reversed(kept))


def payload(alert: Alert, chat_id: str) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "text": text(alert),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    """`POST {api_base}/bot{token}/sendMessage`; api_base is configurable for tests and proxies."""
    token = require(channel.config, "bot_token", "telegram").strip()
    if any(char in token for char in "/?#% ") or not token.isprintable():
        raise InvalidChannelConfig("telegram channel bot_token has characters a token never has")
    chat_id = require(channel.config, "chat_id", "telegram").strip()
    base = api_base(channel.config, "telegram", DEFAULT_API_BASE)
    return json_post(f"{base}/bot{token}/sendMessage", payload(alert, chat_id))
