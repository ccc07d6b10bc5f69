"""What the channel endpoints do (cronbeat's addition to Healthchecks.io's read-only list).

A channel's URL, secret and bot token are credentials: they go into the store and never come back
out, except a webhook secret cronbeat generated, which the creating reply shows once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

from cronbeat.api.errors import BadRequest, NotFound
from cronbeat.api.models import ChannelSpec
from cronbeat.domain.channel import Channel
from cronbeat.store.channels import ChannelStore

REQUIRED = {
    "webhook": ("url",),
    "slack": ("url",),
    "discord": ("url",),
    "telegram": ("bot_token", "chat_id"),
}


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def channel_from_spec(
    spec: ChannelSpec,
    *,
    now_ms: int,
    new_id: Callable[[], str] | None = None,
) -> tuple[Channel, str | None]:
    """The channel to store, and the webhook secret to show once if cronbeat generated it."""
    for name in REQUIRED[spec.kind]:
        if getattr(spec, name) is None:
            raise BadRequest(f"json validation error: {name} is missing")
    generated: str | None = None
    config: dict[str, str] = {}
    if spec.kind == "telegram":
        config = {"bot_token": str(spec.bot_token), "chat_id": str(spec.chat_id)}
    else:
        config = {"url": str(spec.url)}
    if spec.kind == "webhook":
        if spec.secret is None:
            generated = new_secret()
        config["secret"] = spec.secret if spec.secret is not None else generated or ""
    channel = Channel(
        id=(new_id or (lambda: str(uuid.uuid4())))(),
        kind=spec.kind,
        name=spec.name,
        config=config,
        created_ms=now_ms,
    )
    return channel, generated


def delete_channel(store: ChannelStore, channel_id: str) -> Channel:
    deleted = store.delete(channel_id)
    if deleted is None:
        raise NotFound()
    return deleted
