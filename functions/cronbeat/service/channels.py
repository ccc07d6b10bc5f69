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
from typing import Protocol

from cronbeat.api.errors import BadRequest, NotFound
from cronbeat.api.models import ChannelSettings, ChannelSpec, ChannelUpdate
from cronbeat.channels.sns import SubscriptionState, subscription_state
from cronbeat.channels.transport import (
    InvalidChannelConfig,
    UnsafeDestination,
    check_destination,
)
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
    "pagerduty": ("routing_key",),
    "opsgenie": ("genie_key",),
    "pushover": ("user_key", "app_token"),
    "email": ("address",),
    "sms": ("phone",),
}
SETTINGS = {
    "telegram": ("bot_token", "chat_id", "api_base"),
    "ntfy": ("url", "token", "priority_down", "priority_up"),
    "pagerduty": ("routing_key", "severity", "api_base"),
    "opsgenie": ("genie_key", "region", "priority", "api_base"),
    "pushover": ("user_key", "app_token", "priority_down", "priority_up", "api_base"),
    "email": ("address",),
    "sms": ("phone",),
}
"""The settings each kind stores; every other kind stores its url."""
PRIORITY_RANGES = {"ntfy": (1, 5), "pushover": (-2, 2)}
ENDPOINT_SETTINGS = {"email": "address", "sms": "phone"}
"""The setting that is a topic kind's SNS endpoint."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Subscriptions(Protocol):
    """The alerts topic's subscriptions, which email and SMS channels are."""

    def subscribe(self, kind: str, endpoint: str, channel_id: str) -> str: ...

    def unsubscribe(self, subscription_arn: str) -> None: ...

    def listed(self) -> list[dict[str, str]]: ...


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
    low, high = PRIORITY_RANGES.get(kind, (-2, 5))
    for name in ("priority_down", "priority_up"):
        value = getattr(given, name)
        if name in fields and given.given(name) and not low <= value <= high:
            raise BadRequest(f"json validation error: {name} must be {low} to {high} for {kind}")
    endpoint = ENDPOINT_SETTINGS.get(kind)
    # SNS answers an address with control characters in XML no parser can read: refuse it here.
    if (
        endpoint is not None
        and given.given(endpoint)
        and not str(getattr(given, endpoint)).isprintable()
    ):
        raise BadRequest(f"json validation error: {endpoint} has control characters")
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
    for key in ("url", "api_base"):
        url = channel.config.get(key)
        if not url:
            continue
        try:
            check_destination(url, allow_private=stores.settings.allow_private_targets)
        except UnsafeDestination as refused:
            raise BadRequest(f"{channel.kind} {key} refused: {refused}") from None
        except (UnicodeError, ValueError):
            raise BadRequest(f"{channel.kind} {key} has a host name that cannot exist") from None
        except OSError:
            continue


def _check_name(stores: Stores, channel: Channel) -> None:
    if channel.name and any(
        other.name == channel.name and other.id != channel.id for other in stores.channels.all()
    ):
        raise BadRequest(f"a channel named {channel.name!r} already exists")


def _subscribed(channel: Channel, subscriptions: Subscriptions | None) -> Channel:
    """An email or SMS channel with its own subscription on the alerts topic (a 400 without a
    topic); any other channel as it is."""
    setting = ENDPOINT_SETTINGS.get(channel.kind)
    if setting is None:
        return channel
    if subscriptions is None:
        raise BadRequest(f"{channel.kind} channels need the alerts topic, and there is none")
    try:
        arn = subscriptions.subscribe(channel.kind, channel.config[setting], channel.id)
    except InvalidChannelConfig as refused:
        raise BadRequest(str(refused)) from None
    return replace(channel, config={**channel.config, "subscription_arn": arn})


def create_channel(
    stores: Stores,
    spec: ChannelSpec,
    *,
    now_ms: int,
    subscriptions: Subscriptions | None = None,
) -> tuple[Channel, str | None]:
    """Store the channel (on every check unless `attach_all` is false); its shown-once secret."""
    channel, secret = channel_from_spec(spec, now_ms=now_ms)
    _check_name(stores, channel)
    _check_safe(stores, channel)
    channel = _subscribed(channel, subscriptions)
    stores.channels.put(channel)
    if spec.attach_all is not False:
        CheckService(stores, now_ms=now_ms).reassign_channel(channel.id, attach=True)
    return channel, secret


def delete_channel(
    stores: Stores, channel_id: str, *, now_ms: int, subscriptions: Subscriptions | None = None
) -> Channel:
    """Delete the channel, take it off every check that has it, and end its subscription."""
    deleted = stores.channels.delete(channel_id)
    if deleted is None:
        raise NotFound()
    CheckService(stores, now_ms=now_ms).reassign_channel(deleted.id, attach=False)
    if subscriptions is not None and deleted.kind in ENDPOINT_SETTINGS:
        subscriptions.unsubscribe(deleted.config.get("subscription_arn", ""))
    return deleted


def get_channel(stores: Stores, channel_id: str) -> Channel:
    channel = stores.channels.get(channel_id)
    if channel is None:
        raise NotFound()
    return channel


def update_channel(
    stores: Stores,
    channel_id: str,
    update: ChannelUpdate,
    *,
    subscriptions: Subscriptions | None = None,
) -> tuple[Channel, str | None]:
    """Change the channel's name and settings in place: its id, and so every check that has it,
    stays. A rotated webhook secret is shown once, as on creation; a new email address or phone
    number is subscribed (and must confirm again), and the old one unsubscribed."""
    channel = get_channel(stores, channel_id)
    config, secret = _config(
        channel.kind, channel.config, update, rotate=bool(update.rotate_secret)
    )
    name = update.name if update.name is not None else channel.name
    updated = replace(channel, name=name, config=config)
    _check_name(stores, updated)
    _check_safe(stores, updated)
    setting = ENDPOINT_SETTINGS.get(channel.kind)
    moved = setting is not None and config[setting] != channel.config.get(setting)
    if moved:
        updated = _subscribed(updated, subscriptions)
    if not stores.channels.replace(updated):
        raise NotFound()
    if moved and subscriptions is not None:
        subscriptions.unsubscribe(channel.config.get("subscription_arn", ""))
    return updated, secret


def subscription_states(
    channels: list[Channel], subscriptions: Subscriptions | None
) -> dict[str, SubscriptionState]:
    """Each email and SMS channel's subscription state, from one listing of the topic."""
    topic_channels = [c for c in channels if c.kind in ENDPOINT_SETTINGS]
    if not topic_channels or subscriptions is None:
        return {}
    listed = subscriptions.listed()
    return {
        channel.id: subscription_state(
            listed,
            channel.kind,
            channel.config.get(ENDPOINT_SETTINGS[channel.kind], ""),
            channel.config.get("subscription_arn", ""),
        )
        for channel in topic_channels
    }


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
