"""Microsoft Teams through a Workflows webhook: one Adaptive Card with the facts.

Teams' Office 365 connector URLs (`...webhook.office.com/webhookb2/...`) are retired; a
"Post to a channel when a webhook request is received" workflow gives the URL to use, and it
takes this message: an attachment whose content is the card.
"""

from __future__ import annotations

from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, json_post, require, require_url
from cronbeat.domain.channel import Channel

CARD_VERSION = "1.4"


def card(alert: Alert) -> dict[str, Any]:
    colour = (
        "Good" if alert.status == "up" else "Attention" if alert.status == "down" else "Warning"
    )
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{message.label(alert)}: {message.display_name(alert.check)}",
            "weight": "Bolder",
            "size": "Medium",
            "color": colour,
            "wrap": True,
        },
        {"type": "TextBlock", "text": message.what_happened(alert), "wrap": True},
        {
            "type": "FactSet",
            "facts": [{"title": key, "value": value} for key, value in message.facts(alert)],
        },
    ]
    tail = message.output_tail(alert)
    if tail:
        body.append({"type": "TextBlock", "text": "Last output:", "weight": "Bolder"})
        body.append({"type": "TextBlock", "text": tail, "fontType": "Monospace", "wrap": True})
    document: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if alert.dashboard_url:
        document["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in cronbeat", "url": alert.dashboard_url}
        ]
    return document


def payload(alert: Alert) -> dict[str, Any]:
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card(alert)}
    return {"type": "message", "attachments": [attachment]}


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    url = require_url(require(channel.config, "url", "msteams"), "msteams")
    return json_post(url, payload(alert))
