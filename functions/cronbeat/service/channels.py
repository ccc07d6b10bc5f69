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
from cronbeat.service.checks import CheckService
from cronbeat.stores import Stores

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


def create_channel(stores: Stores, spec: ChannelSpec, *, now_ms: int) -> tuple[Channel, str | None]:
    """Store the channel (on every check unless `attach_all` is false); its shown-once secret."""
    channel, secret = channel_from_spec(spec, now_ms=now_ms)
    stores.channels.put(channel)
    if spec.attach_all is not False:
        CheckService(stores, now_ms=now_ms).reassign_channel(channel.id, attach=True)
    return channel, secret


def delete_channel(stores: Stores, channel_id: str, *, now_ms: int) -> Channel:
    """Delete the channel and take it off every check that has it."""
    deleted = stores.channels.delete(channel_id)
    if deleted is None:
        raise NotFound()
    CheckService(stores, now_ms=now_ms).reassign_channel(deleted.id, attach=False)
    return deleted
