"""Opsgenie through its Alert API: a down creates an alert, a recovery closes it.

The alert's `alias` is the check's id, so Opsgenie folds a reminder into the open alert and the
recovery closes exactly that one. The API key (`genie_key`, an API integration's key) is a
secret. Accounts in the EU region set `region` to `eu`; `api_base` overrides either host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, api_base, json_post, require
from cronbeat.domain.channel import Channel

API_HOSTS = {"us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"}
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
DEFAULT_PRIORITY = "P3"
MESSAGE_LIMIT = 130
DESCRIPTION_LIMIT = 15_000
SOURCE = "cronbeat"


def priority(channel: Channel) -> str:
    value = channel.config.get("priority", "")
    return value if value in PRIORITIES else DEFAULT_PRIORITY


def create(channel: Channel, alert: Alert) -> dict[str, Any]:
    """The body of `POST /v2/alerts` for a down or a reminder."""
    lines = [message.what_happened(alert), ""]
    lines += [f"{key}: {value}" for key, value in message.facts(alert)]
    if alert.dashboard_url:
        lines.append(f"Details: {alert.dashboard_url}")
    tail = message.output_tail(alert)
    if tail:
        lines += ["", "Last output:", tail]
    details = dict(message.facts(alert))
    if alert.dashboard_url:
        details["Dashboard"] = alert.dashboard_url
    return {
        "message": message.subject(alert)[:MESSAGE_LIMIT],
        "alias": alert.check.id,
        "description": "\n".join(lines)[:DESCRIPTION_LIMIT],
        "details": details,
        "tags": ["cronbeat", *alert.check.tag_list],
        "entity": message.display_name(alert.check),
        "source": SOURCE,
        "priority": priority(channel),
    }


def close(alert: Alert) -> dict[str, Any]:
    """The body of `POST /v2/alerts/<alias>/close?identifierType=alias` for a recovery."""
    return {"source": SOURCE, "note": message.what_happened(alert)}


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    key = require(channel.config, "genie_key", "opsgenie").strip()
    region = channel.config.get("region", "us")
    base = api_base(channel.config, "opsgenie", API_HOSTS.get(region, API_HOSTS["us"]))
    headers = {"Authorization": f"GenieKey {key}"}
    if alert.status == "up":
        alias = quote(alert.check.id, safe="")
        url = f"{base}/v2/alerts/{alias}/close?identifierType=alias"
        return json_post(url, close(alert), headers)
    return json_post(f"{base}/v2/alerts", create(channel, alert), headers)
