"""Pushover: a notification to a user's (or group's) devices, with a priority per status.

The application's API token (`app_token`) and the user or group key (`user_key`) are secrets.
Priorities are Pushover's -2 (silent) to 2 (emergency): by default 1 (high, bypasses quiet
hours) when a check goes down or is still down, 0 when it recovers. An emergency repeats every
5 minutes for an hour, until someone acknowledges it.
"""

from __future__ import annotations

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, api_base, form_post, require
from cronbeat.domain.channel import Channel

DEFAULT_API_BASE = "https://api.pushover.net"
DEFAULT_PRIORITY = {"down": 1, "up": 0}
EMERGENCY = 2
EMERGENCY_RETRY_S = 300
EMERGENCY_EXPIRE_S = 3600
MESSAGE_LIMIT = 1024
TITLE_LIMIT = 250


def priority(channel: Channel, status: str) -> int:
    """The configured priority for `status` (a reminder is a down), within -2 to 2."""
    key = "up" if status == "up" else "down"
    raw = channel.config.get(f"priority_{key}", "")
    try:
        value = int(raw)
    except ValueError:
        value = DEFAULT_PRIORITY[key]
    return min(max(value, -2), EMERGENCY)


def fields(channel: Channel, alert: Alert) -> dict[str, str]:
    lines = [message.what_happened(alert)]
    lines += [f"{key}: {value}" for key, value in message.facts(alert)]
    tail = message.output_tail(alert)
    if tail:
        lines += ["", "Last output:", tail]
    text = "\n".join(lines)
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 3] + "..."
    level = priority(channel, alert.status)
    form = {
        "token": require(channel.config, "app_token", "pushover").strip(),
        "user": require(channel.config, "user_key", "pushover").strip(),
        "title": f"{message.label(alert)}: {message.display_name(alert.check)}"[:TITLE_LIMIT],
        "message": text,
        "priority": str(level),
        "timestamp": str(alert.at_ms // 1000),
    }
    if level == EMERGENCY:
        form["retry"] = str(EMERGENCY_RETRY_S)
        form["expire"] = str(EMERGENCY_EXPIRE_S)
    if alert.dashboard_url:
        form["url"] = alert.dashboard_url
        form["url_title"] = "Open in cronbeat"
    return form


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    base = api_base(channel.config, "pushover", DEFAULT_API_BASE)
    return form_post(f"{base}/1/messages.json", fields(channel, alert))
