"""One attempt to deliver one alert to one channel, and the schedule its retries follow.

The delivery queue does the retrying (`service.notify.Deliverer`), not this module: an attempt
that may pass later (a timeout, a connection error, 429, 5xx) is tried again after
`retry_delay_s`, up to `MAX_ATTEMPTS`. The waits are 10 s, 30 s, 90 s, 270 s, 810 s, 900 s and
900 s, each ±10 %: the 8th and last attempt comes about 50 minutes after the first (45 to 55),
always within an hour. Any other 4xx, a redirect (not followed), a refused destination or a
configuration that cannot work fails at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cronbeat.channels import (
    discord,
    googlechat,
    mattermost,
    msteams,
    ntfy,
    opsgenie,
    pagerduty,
    pushover,
    slack,
    telegram,
    webhook,
)
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import HttpPost, InvalidChannelConfig, Resolver, post, resolve_host
from cronbeat.domain.channel import Channel

MAX_ATTEMPTS = 8
FIRST_RETRY_S = 10.0
RETRY_FACTOR = 3
MAX_RETRY_S = 900.0


class Builder(Protocol):
    """Each channel module's `build`: the POST for one attempt sent at `sent_at_s`."""

    def __call__(self, channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost: ...


_BUILDERS: dict[str, Builder] = {
    "webhook": webhook.build,
    "slack": slack.build,
    "discord": discord.build,
    "telegram": telegram.build,
    "mattermost": mattermost.build,
    "googlechat": googlechat.build,
    "msteams": msteams.build,
    "ntfy": ntfy.build,
    "pagerduty": pagerduty.build,
    "opsgenie": opsgenie.build,
    "pushover": pushover.build,
}
"""The HTTP kinds; email and SMS channels are delivered by the alerts topic instead."""


def builder(kind: str) -> Builder:
    """The HTTP request builder of `kind`; KeyError for email and SMS, which the topic sends."""
    return _BUILDERS[kind]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one attempt at one alert on one channel did: stored on the delivery record."""

    delivered: bool
    permanent: bool
    """Failed and not worth retrying (a 3xx, a 4xx other than 429, a refused destination, a
    configuration that cannot work)."""
    status_code: int | None
    error: str | None
    retry_after_s: float | None = None
    """The receiver's `Retry-After` in seconds, when it sent one."""


def retry_delay_s(attempts_made: int, jitter: float) -> float:
    """The wait before the next attempt, after `attempts_made` (1, 2, ...) failed ones.

    `jitter` in [0, 1) spreads it ±10 %, so receivers that failed together are not retried in
    lockstep. The exponent stops growing once the cap is reached, so no count overflows.
    """
    exponent = min(max(attempts_made - 1, 0), 16)
    base = min(FIRST_RETRY_S * float(RETRY_FACTOR) ** exponent, MAX_RETRY_S)
    return base * (0.9 + 0.2 * jitter)


def attempt(
    channel: Channel,
    alert: Alert,
    *,
    deadline_s: float = 10.0,
    allow_private: bool = False,
    resolve: Resolver = resolve_host,
    now_s: Callable[[], float] = time.time,
) -> DeliveryResult:
    """Send `alert` to `channel` once, within `deadline_s`; never raises on a bad reply."""
    build = _BUILDERS.get(channel.kind)
    if build is None:
        return DeliveryResult(False, True, None, f"unknown channel kind {channel.kind!r}")
    try:
        request = build(channel, alert, sent_at_s=int(now_s()))
    except InvalidChannelConfig as exc:
        return DeliveryResult(False, True, None, str(exc))
    sent = post(request, deadline_s=deadline_s, allow_private=allow_private, resolve=resolve)
    if sent.delivered:
        return DeliveryResult(True, False, sent.status_code, None)
    return DeliveryResult(
        False, not sent.retryable, sent.status_code, sent.error, sent.retry_after_s
    )
