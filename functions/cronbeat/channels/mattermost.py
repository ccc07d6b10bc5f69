"""Mattermost (and Rocket.Chat) incoming webhook: the Slack-compatible payload, as its own kind.

Both accept Slack's `text` and `attachments`, so the message is Slack's. The kind is separate
so that the API, the dashboard and the docs name the service a team actually uses.
"""

from __future__ import annotations

from typing import Any

from cronbeat.channels import slack
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, json_post, require, require_url
from cronbeat.domain.channel import Channel


def payload(alert: Alert) -> dict[str, Any]:
    return {"username": "cronbeat", **slack.payload(alert)}


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    url = require_url(require(channel.config, "url", "mattermost"), "mattermost")
    return json_post(url, payload(alert))
