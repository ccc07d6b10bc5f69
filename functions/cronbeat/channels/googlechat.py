"""Google Chat incoming webhook: a plain `text` for notifications and one card with the facts.

Card text takes a little HTML (`<b>`, `<font color>`), so user text is escaped.
"""

from __future__ import annotations

import html
from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, json_post, require, require_url
from cronbeat.domain.channel import Channel


def payload(alert: Alert) -> dict[str, Any]:
    name = message.display_name(alert.check)
    colour = f"#{message.colour(alert):06x}"
    what = html.escape(message.what_happened(alert))
    widgets: list[dict[str, Any]] = [
        {
            "textParagraph": {
                "text": f'<font color="{colour}"><b>{message.label(alert)}</b></font> {what}'
            }
        }
    ]
    widgets.extend(
        {
            "decoratedText": {
                "topLabel": html.escape(key),
                "text": html.escape(value),
                "wrapText": True,
            }
        }
        for key, value in message.facts(alert)
    )
    tail = message.output_tail(alert)
    if tail:
        widgets.append({"textParagraph": {"text": "<b>Last output:</b>\n" + html.escape(tail)}})
    if alert.dashboard_url:
        link = {"openLink": {"url": alert.dashboard_url}}
        widgets.append({"buttonList": {"buttons": [{"text": "Open in cronbeat", "onClick": link}]}})
    card = {
        "header": {"title": f"{message.label(alert)}: {name}", "subtitle": "cronbeat"},
        "sections": [{"widgets": widgets}],
    }
    return {
        "text": message.sms_text(alert),
        "cardsV2": [{"cardId": f"cronbeat-{alert.check.id}", "card": card}],
    }


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    url = require_url(require(channel.config, "url", "googlechat"), "googlechat")
    return json_post(url, payload(alert))
