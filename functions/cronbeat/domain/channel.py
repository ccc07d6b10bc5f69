"""Notification channels: where a check's alerts go besides the SNS topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChannelKind = Literal[
    "webhook", "slack", "discord", "telegram", "mattermost", "googlechat", "msteams", "ntfy"
]
CHANNEL_KINDS: tuple[ChannelKind, ...] = (
    "webhook", "slack", "discord", "telegram", "mattermost", "googlechat", "msteams", "ntfy"
)  # fmt: skip

SECRET_FIELDS = frozenset({"url", "secret", "bot_token", "token"})
"""Config values never echoed back by the API: a webhook or bot URL is a credential."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One delivery target.

    `config` by kind: webhook {url, secret}; slack, discord, mattermost, googlechat and
    msteams {url}; ntfy {url (the topic's), and optionally token, priority_down, priority_up};
    telegram {bot_token, chat_id, and optionally api_base for tests and proxies}.
    """

    id: str
    kind: ChannelKind
    name: str = ""
    config: dict[str, str] = field(default_factory=dict)
    created_ms: int | None = None
