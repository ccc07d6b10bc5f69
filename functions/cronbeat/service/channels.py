"""What the channel endpoints do (cronbeat's addition to Healthchecks.io's read-only list).

A channel's URL, secret and bot token are credentials: they go into the store and never come back
out, except a webhook secret cronbeat generated, which the creating (or rotating) reply shows
once. Names are unique, so a check's `channels` can name them, and outbound URLs that resolve to
loopback, link-local, private or multicast addresses are refused (unless the settings allow them).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import replace

from cronbeat.api.errors import BadRequest, NotFound
from cronbeat.api.models import ChannelSettings, ChannelSpec, ChannelUpdate
from cronbeat.channels.transport import UnsafeDestination, check_destination
from cronbeat.domain.channel import Channel
from cronbeat.service.checks import CheckService
from cronbeat.service.notify import Enqueue, FanOut, alert_from_image, test_image
from cronbeat.store.deliveries import DeliveryRecord
from cronbeat.stores import Stores

REQUIRED = {
    "webhook": ("url",),
    "slack": ("url",),
    "discord": ("url",),
    "telegram": ("bot_token", "chat_id"),
    "mattermost": ("url",),
    "googlechat": ("url",),
    "msteams": ("url",),
    "ntfy": ("url",),
}
SETTINGS = {
    "telegram": ("bot_token", "chat_id"),
    "ntfy": ("url", "token", "priority_down", "priority_up"),
}
"""The settings each kind stores; every other kind stores its url."""


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
    config, generated = _config(spec.kind, {}, spec, rotate=spec.secret is None)
    channel = Channel(
        id=(new_id or (lambda: str(uuid.uuid4())))(),
        kind=spec.kind,
        name=spec.name,
        config=config,
        created_ms=now_ms,
    )
    return channel, generated


def _config(
    kind: str, config: dict[str, str], given: ChannelSettings, *, rotate: bool
) -> tuple[dict[str, str], str | None]:
    """`config` with the settings `given` for `kind`, and a newly generated webhook secret."""
    fields = SETTINGS.get(kind, ("url",))
    new = dict(config)
    new.update({name: str(getattr(given, name)) for name in fields if given.given(name)})
    generated = None
    if kind == "webhook":
        if given.given("secret"):
            new["secret"] = str(given.secret)
        elif rotate:
            generated = new_secret()
            new["secret"] = generated
    return new, generated


def _check_safe(stores: Stores, channel: Channel) -> None:
    """Refuse a URL that resolves to an address the deployment must not reach (a 400).

    A name that does not resolve now is kept: DNS may be down for a moment, and every send
    checks the address again.
    """
    url = channel.config.get("url")
    if not url:
        return
    try:
        check_destination(url, allow_private=stores.settings.allow_private_targets)
    except UnsafeDestination as refused:
        raise BadRequest(f"{channel.kind} url refused: {refused}") from None
    except (UnicodeError, ValueError):
        raise BadRequest(f"{channel.kind} url has a host name that cannot exist") from None
    except OSError:
        return


def _check_name(stores: Stores, channel: Channel) -> None:
    if channel.name and any(
        other.name == channel.name and other.id != channel.id for other in stores.channels.all()
    ):
        raise BadRequest(f"a channel named {channel.name!r} already exists")


def create_channel(stores: Stores, spec: ChannelSpec, *, now_ms: int) -> tuple[Channel, str | None]:
    """Store the channel (on every check unless `attach_all` is false); its shown-once secret."""
    channel, secret = channel_from_spec(spec, now_ms=now_ms)
    _check_name(stores, channel)
    _check_safe(stores, channel)
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


def get_channel(stores: Stores, channel_id: str) -> Channel:
    channel = stores.channels.get(channel_id)
    if channel is None:
        raise NotFound()
    return channel


def update_channel(
    stores: Stores, channel_id: str, update: ChannelUpdate
) -> tuple[Channel, str | None]:
    """Change the channel's name and settings in place: its id, and so every check that has it,
    stays. A rotated webhook secret is shown once, as on creation."""
    channel = get_channel(stores, channel_id)
    config, secret = _config(
        channel.kind, channel.config, update, rotate=bool(update.rotate_secret)
    )
    name = update.name if update.name is not None else channel.name
    updated = replace(channel, name=name, config=config)
    _check_name(stores, updated)
    _check_safe(stores, updated)
    if not stores.channels.replace(updated):
        raise NotFound()
    return updated, secret


def send_test(stores: Stores, channel_id: str, queue: Enqueue, *, now_ms: int) -> DeliveryRecord:
    """Queue a test alert to the channel, through the same queue and worker as a real one."""
    channel = get_channel(stores, channel_id)
    entry = alert_from_image(test_image(channel, now_ms=now_ms), base_url="")
    assert entry is not None, "a test image is always an alert"
    fan_out = FanOut(
        stores.deliveries, stores.channels, queue, has_topic=False, now_ms=lambda: now_ms
    )
    [result] = fan_out.fan_out([entry])
    if isinstance(result, Exception):
        raise result
    [target] = result
    record = stores.deliveries.get(target)
    assert record is not None, "the fan-out opened it"
    return record


def deliveries(stores: Stores, channel_id: str, *, limit: int) -> list[DeliveryRecord]:
    get_channel(stores, channel_id)
    return stores.deliveries.for_channel(channel_id, limit=limit)


def last_delivery(stores: Stores, channel_id: str) -> DeliveryRecord | None:
    latest = stores.deliveries.for_channel(channel_id, limit=1)
    return latest[0] if latest else None
