"""Notification channels: where a check's alerts go besides the SNS topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

ChannelKind = Literal[
    "webhook",
    "slack",
    "discord",
    "telegram",
    "mattermost",
    "googlechat",
    "msteams",
    "ntfy",
    "pagerduty",
    "opsgenie",
    "pushover",
    "email",
    "sms",
]
CHANNEL_KINDS: tuple[ChannelKind, ...] = get_args(ChannelKind)
TOPIC_KINDS = frozenset({"email", "sms"})
"""Kinds delivered by the SNS alerts topic, through a subscription of their own that a filter
policy limits to the checks the channel is on; every other kind is an HTTP request."""

SECRET_FIELDS = frozenset(
    {"url", "secret", "bot_token", "token", "routing_key", "genie_key", "user_key", "app_token"}
)
"""Config values never echoed back by the API: a webhook or bot URL is a credential."""
INTERNAL_FIELDS = frozenset({"subscription_arn"})
"""Config values cronbeat keeps for itself and does not show."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One delivery target.

    `config` by kind: webhook {url, secret}; slack, discord, mattermost, googlechat and
    msteams {url}; ntfy {url (the topic's), and optionally token, priority_down, priority_up};
    telegram {bot_token, chat_id}; pagerduty {routing_key, severity}; opsgenie {genie_key,
    region}; pushover {user_key, app_token, priority_down, priority_up}; email {address,
    subscription_arn}; sms {phone, subscription_arn}. Telegram, PagerDuty, Opsgenie and Pushover
    take `api_base` too: the service's base URL, for a self-hosted or regional endpoint.
    """

    id: str
    kind: ChannelKind
    name: str = ""
    config: dict[str, str] = field(default_factory=dict)
    created_ms: int | None = None
