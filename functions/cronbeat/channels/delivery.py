"""Deliver one alert to one channel: up to 3 attempts within 20 s, with backoff and jitter.

Timeouts, connection errors, 429 and 5xx are retried; any other 4xx (and a 3xx, which is not
followed) is permanent, and so is a channel whose configuration cannot work. Every attempt's
timeout is cut to what is left of the 20 s, so a hanging receiver cannot stretch a delivery.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cronbeat.channels import discord, slack, telegram, webhook
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import Attempt, HttpPost, InvalidChannelConfig, post
from cronbeat.domain.channel import Channel

MAX_ATTEMPTS = 3
BUDGET_S = 20.0
"""All attempts and the waits between them fit in this."""
FIRST_DELAY_S = 1.0
"""Wait before the 2nd attempt lies in [1, 2) s, before the 3rd in [2, 4) s."""
MIN_ATTEMPT_S = 0.5
"""An attempt with less time left than this is not started."""


class Builder(Protocol):
    """Each channel module's `build`: the POST for one attempt sent at `sent_at_s`."""

    def __call__(self, channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost: ...


_BUILDERS: dict[str, Builder] = {
    "webhook": webhook.build,
    "slack": slack.build,
    "discord": discord.build,
    "telegram": telegram.build,
}


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one alert on one channel: stored on the delivery record."""

    delivered: bool
    permanent: bool
    """Failed and not worth retrying (a 4xx other than 429, or a configuration that cannot work)."""
    status_code: int | None
    attempts: int
    error: str | None


def backoff_s(retry: int, jitter: float) -> float:
    """The wait before retry number `retry` (1, 2, ...): "equal jitter" on a doubling base.

    With `jitter` in [0, 1) the waits lie in [1, 2), [2, 4), ...: each strictly longer than the
    last, and never two receivers' retries in lockstep.
    """
    base = FIRST_DELAY_S * (1 << (retry - 1))
    return base + base * jitter


def deliver(
    channel: Channel,
    alert: Alert,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 5.0,
    now_s: Callable[[], float] = time.time,
) -> DeliveryResult:
    """Send `alert` to `channel`, retrying transient failures; never raises on a bad reply."""
    build = _BUILDERS.get(channel.kind)
    if build is None:
        return DeliveryResult(False, True, None, 0, f"unknown channel kind {channel.kind!r}")
    deadline_s = now_s() + BUDGET_S
    attempts = 0
    last = Attempt(None, "no attempt was made")
    while attempts < MAX_ATTEMPTS:
        try:
            request = build(channel, alert, sent_at_s=int(now_s()))
        except InvalidChannelConfig as exc:
            return DeliveryResult(False, True, None, attempts, str(exc))
        attempts += 1
        last = post(request, timeout_s=min(timeout_s, max(deadline_s - now_s(), MIN_ATTEMPT_S)))
        if last.delivered:
            return DeliveryResult(True, False, last.status_code, attempts, None)
        if not last.retryable:
            return DeliveryResult(False, True, last.status_code, attempts, last.error)
        if attempts == MAX_ATTEMPTS:
            break
        delay_s = backoff_s(attempts, random.random())
        if last.retry_after_s is not None:
            delay_s = max(delay_s, last.retry_after_s)
        if now_s() + delay_s + MIN_ATTEMPT_S > deadline_s:
            break
        sleep(delay_s)
    return DeliveryResult(False, False, last.status_code, attempts, last.error)
