"""PagerDuty through the Events API v2: a down opens an incident, a recovery resolves it.

Every event of a check carries the check's id as its `dedup_key`, so the incident a down opened
is the one its recovery resolves, and a reminder while down adds to that incident instead of
opening another. The integration's routing key is a secret. EU accounts set `api_base` to
`https://events.eu.pagerduty.com`.
"""

from __future__ import annotations

from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, api_base, json_post, require
from cronbeat.domain.channel import Channel

DEFAULT_API_BASE = "https://events.pagerduty.com"
SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_SEVERITY = "critical"
SUMMARY_LIMIT = 1024
"""PagerDuty truncates longer summaries; cutting here keeps the end that says what happened."""


def severity(channel: Channel) -> str:
    value = channel.config.get("severity", "")
    return value if value in SEVERITIES else DEFAULT_SEVERITY


def event(channel: Channel, alert: Alert) -> dict[str, Any]:
    routing_key = require(channel.config, "routing_key", "pagerduty").strip()
    document: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if alert.status == "up" else "trigger",
        "dedup_key": alert.check.id,
        "client": "cronbeat",
    }
    if alert.dashboard_url:
        document["client_url"] = alert.dashboard_url
        document["links"] = [{"href": alert.dashboard_url, "text": "Open in cronbeat"}]
    if alert.status == "up":
        return document  # a resolve needs only the key it closes
    details: dict[str, str] = dict(message.facts(alert))
    tail = message.output_tail(alert)
    if tail:
        details["Last output"] = tail
    document["payload"] = {
        "summary": message.subject(alert)[:SUMMARY_LIMIT],
        "source": message.display_name(alert.check),
        "severity": severity(channel),
        "timestamp": message.iso_utc(alert.at_ms),
        "component": alert.check.slug or alert.check.id,
        "class": alert.flip.reason if alert.flip is not None else "reminder",
        "custom_details": details,
    }
    return document


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    base = api_base(channel.config, "pagerduty", DEFAULT_API_BASE)
    return json_post(f"{base}/v2/enqueue", event(channel, alert))
