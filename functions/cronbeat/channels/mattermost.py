"""Mattermost (and Rocket.Chat) incoming webhook: the Slack-compatible payload, as its own kind.

Both accept Slack's `text` and `attachments`, so the message is Slack's. The kind is separate
so that the API, the dashboard and the docs name the service a team actually uses.
"""

from __future__ import annotations

import json
from typing import Any

from cronbeat.channels import slack
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, require, require_url
from cronbeat.domain.channel import Channel


def payload(alert: Alert) -> dict[str, Any]:
    return {"username": "cronbeat", **slack.payload(alert)}


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    url = require_url(require(channel.config, "url", "mattermost"), "mattermost")
    body = json.dumps(payload(alert), ensure_ascii=False).encode("utf-8")
    return HttpPost(url, body, {"Content-Type": "application/json; charset=utf-8"})
