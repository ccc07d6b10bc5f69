"""Alerts, from the outbox to every target: fan-out onto the delivery queue, then one attempt each.

`FanOut` turns a flip or reminder into one queue message per target (the SNS topic, each of the
check's channels) and opens a `pending` delivery record for each. `Deliverer` takes one message:
it claims the record, makes one attempt, and records it. A retryable failure is tried again by
the queue (the message's visibility is the backoff, `channels.delivery.retry_delay_s`); after
`MAX_ATTEMPTS` the record is `failed` and the message goes to the dead-letter queue. One broken
receiver therefore holds up only its own messages, never another target's or another alert's.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cronbeat.channels.alert import Alert
from cronbeat.channels.delivery import MAX_ATTEMPTS, DeliveryResult, retry_delay_s
from cronbeat.channels.message import TEST_REASON
from cronbeat.domain.channel import TOPIC_KINDS, Channel
from cronbeat.domain.model import Check, Flip
from cronbeat.store.codec import Item, from_item, to_item
from cronbeat.store.deliveries import Claimed, DeliveryStore, Finished, Target
from cronbeat.store.events import flip_sk
from cronbeat.store.tables import ALERTING_ITEM_TYPES

SNS_CHANNEL_ID = "sns"
"""The alerts topic's pseudo-channel id: its delivery record makes the publish once-only too."""
TEST_TYPE = "test"
"""A test alert's image type: never written to the table, only enqueued."""
TEST_PK = "test"
"""The partition of test alerts' delivery records."""
MESSAGE_VERSION = 1
LEASE_MS = 60_000
"""How long a claim keeps other workers off a delivery: well beyond one attempt's deadline, so
only a worker that died mid-attempt lets a redelivered message send again."""


class MalformedAlert(ValueError):
    """A flip, reminder or queue message that cannot be read: logged and dropped, never retried."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A flip, reminder or test alert, and the image it was read from."""

    check_id: str
    flip_sk: str
    alert: Alert
    image: Item


def dashboard_url(base_url: str, check_id: str) -> str:
    """Where an alert links to: the check's page in the dashboard (empty without a base URL).

    The dashboard (served at `/`) asks for an API key and then opens the check; the API's own
    `/api/v3/checks/<id>` would answer a browser with 401, as it wants an `X-Api-Key` header.
    """
    return f"{base_url}/#check/{check_id}" if base_url else ""


def alert_from_image(image: Item, *, base_url: str) -> OutboxEntry | None:
    """The alert an outbox item's image (DynamoDB JSON, binary in base64) carries; None when the
    item is no alert (another type, a flip that does not involve `down`, or one made while the
    check was muted: it is recorded, and nobody is told)."""
    kind = image.get("type", {}).get("S")
    if kind not in ALERTING_ITEM_TYPES and kind != TEST_TYPE:
        return None
    try:
        check = from_item(image["check"]["M"])
        at_ms = int(image["at"]["N"])
        sort_key = image["sk"]["S"]
        flip = None
        if kind != "reminder":
            flip = Flip(old=image["old"]["S"], new=image["new"]["S"], reason=image["reason"]["S"])
        previous_since = image.get("previous_since", {}).get("N")
        output = base64.b64decode(image.get("output", {}).get("B", ""), validate=True)
        muted = bool(image.get("muted", {}).get("BOOL", False))
        after_mute = bool(image.get("after_mute", {}).get("BOOL", False))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedAlert(f"{type(exc).__name__}: {exc}") from exc
    if flip is not None and (muted or not flip.alerts):
        return None
    alert = Alert(
        check=check,
        flip=flip,
        at_ms=at_ms,
        previous_since_ms=int(previous_since) if previous_since is not None else None,
        last_output=output,
        dashboard_url=dashboard_url(base_url, check.id) if kind != TEST_TYPE else "",
        after_mute=after_mute,
    )
    pk = image.get("pk", {}).get("S", check.id)
    return OutboxEntry(check_id=pk, flip_sk=sort_key, alert=alert, image=image)


def outbox_entry(record: dict[str, Any], *, base_url: str) -> OutboxEntry | None:
    """The alert a stream record carries; None when it is not an insert of an alerting item."""
    if record.get("eventName") != "INSERT":
        return None
    image: Item | None = record.get("dynamodb", {}).get("NewImage")
    if not image or image.get("type", {}).get("S") not in ALERTING_ITEM_TYPES:
        return None
    return alert_from_image(image, base_url=base_url)


def test_image(channel: Channel, *, now_ms: int) -> Item:
    """The image of a test alert for `channel`: a made-up check going down, in stream JSON."""
    check = Check(
        id=TEST_PK,
        name=f"cronbeat test alert for {channel.name or channel.kind}",
        status="down",
        status_since_ms=now_ms,
        channels=channel.id,
    )
    return {
        "pk": {"S": TEST_PK},
        "sk": {"S": flip_sk(now_ms, 0)},
        "type": {"S": TEST_TYPE},
        "at": {"N": str(now_ms)},
        "old": {"S": "up"},
        "new": {"S": "down"},
        "reason": {"S": TEST_REASON},
        "check": {"M": to_item(check)},  # strings and numbers only: valid JSON as it is
    }


def message_body(target: Target, image: Item) -> str:
    return json.dumps(
        {
            "v": MESSAGE_VERSION,
            "check": target.check_id,
            "flip": target.flip_sk,
            "target": target.channel_id,
            "kind": target.kind,
            "image": image,
        },
        separators=(",", ":"),
    )


class ChannelDirectory(Protocol):
    def get_many(self, channel_ids: list[str]) -> list[Channel]: ...


class Enqueue(Protocol):
    def send(self, bodies: list[str]) -> list[int]: ...


class FanOut:
    """Open a delivery record and enqueue a message for each target of each alert."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        channels: ChannelDirectory,
        queue: Enqueue,
        *,
        has_topic: bool,
        now_ms: Callable[[], int],
    ) -> None:
        self._deliveries = deliveries
        self._channels = channels
        self._queue = queue
        self._has_topic = has_topic
        self._now_ms = now_ms

    def targets(self, entry: OutboxEntry) -> list[Target]:
        """The topic (when there is one), then each existing channel of the check, once.

        Email and SMS channels are subscriptions of the topic, so its one publish, which names
        them, is their delivery; only a test alert publishes for one of them alone.
        """
        found: list[Target] = []
        if self._has_topic and entry.image["type"]["S"] != TEST_TYPE:
            found.append(Target(entry.check_id, entry.flip_sk, SNS_CHANNEL_ID, "sns"))
        channel_ids = list(dict.fromkeys(entry.alert.check.channel_ids))
        is_test = entry.image["type"]["S"] == TEST_TYPE
        for channel in self._channels.get_many(channel_ids):
            if channel.kind in TOPIC_KINDS and not is_test:
                continue  # the topic's publish reaches it, through its filtered subscription
            found.append(Target(entry.check_id, entry.flip_sk, channel.id, channel.kind))
        return found

    def fan_out(self, entries: Sequence[OutboxEntry]) -> list[list[Target] | Exception]:
        """Per entry, in order, the targets enqueued, or the error that left it to retry."""
        planned: list[list[Target] | Exception] = []
        bodies: list[str] = []
        owners: list[int] = []
        for index, entry in enumerate(entries):
            try:
                targets = self.targets(entry)
                now_ms = self._now_ms()
                for target in targets:
                    self._deliveries.open(target, now_ms)
            except Exception as exc:  # this entry is retried; the others go on
                planned.append(exc)
                continue
            planned.append(targets)
            for target in targets:
                bodies.append(message_body(target, entry.image))
                owners.append(index)
        for failed in self._queue.send(bodies):
            # A redelivered entry enqueues every target again; the delivery records make the
            # copies of those that already went out send nothing.
            planned[owners[failed]] = RuntimeError("the delivery queue did not take a message")
        return planned


Publish = Callable[[Alert, Sequence[str]], str]
"""Publish an alert to the SNS topic for all its subscribers and the email and SMS channels
named; returns the message id, raises on failure."""
Attempt = Callable[[Channel, Alert], DeliveryResult]


@dataclass(frozen=True, slots=True)
class Report:
    """What handling one queue message did: one structured log line's facts."""

    target: Target
    outcome: Literal["sent", "failed", "retry", "finished", "leased"]
    """`finished`: an earlier message sent it or gave up; `leased`: another worker has it."""
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None
    retry_in_s: float | None = None
    gave_up: bool = False
    """Failed after the last retryable attempt (not at once, as a 404 fails)."""
    elapsed_ms: int = 0

    def log_fields(self) -> dict[str, object]:
        """The log line's fields: what the delivery record says, never a URL or a secret."""
        return {
            "check_id": self.target.check_id,
            "flip": self.target.flip_sk,
            "channel_id": self.target.channel_id,
            "channel_kind": self.target.kind,
            "state": self.outcome,
            "attempt": self.attempts,
            "status_code": self.status_code,
            "error": self.error,
            "ms": self.elapsed_ms,
            "retry_in_s": self.retry_in_s,
        }


class Deliverer:
    """Make one attempt at one delivery, behind its record, and say what the queue should do."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        channels: ChannelDirectory,
        *,
        publish: Publish | None,
        attempt: Attempt,
        now_ms: Callable[[], int],
        base_url: str = "",
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._deliveries = deliveries
        self._channels = channels
        self._publish = publish
        self._attempt = attempt
        self._now_ms = now_ms
        self._base_url = base_url
        self._jitter = jitter

    def handle(self, body: str) -> Report:
        target, entry = self._read(body)
        started_ms = self._now_ms()
        claim = self._deliveries.claim(target, started_ms, lease_ms=LEASE_MS)
        if isinstance(claim, Finished):
            return Report(target, "finished", claim.record.attempts)
        if not isinstance(claim, Claimed):
            return Report(target, "leased", retry_in_s=claim.remaining_ms / 1000 + 1)
        attempts = claim.attempts + 1
        result = self._send(target, entry.alert)
        now_ms = self._now_ms()
        elapsed_ms = max(now_ms - started_ms, 0)
        if result.delivered:
            self._deliveries.record(
                target, state="sent", at_ms=now_ms, status_code=result.status_code
            )
            return Report(target, "sent", attempts, result.status_code, elapsed_ms=elapsed_ms)
        gave_up = not result.permanent and attempts >= MAX_ATTEMPTS
        if result.permanent or gave_up:
            error = result.error or "failed"
            if gave_up:
                error = f"{error} (gave up after {attempts} attempts)"
            self._deliveries.record(
                target, state="failed", at_ms=now_ms, status_code=result.status_code, error=error
            )
            return Report(
                target,
                "failed",
                attempts,
                result.status_code,
                error,
                gave_up=gave_up,
                elapsed_ms=elapsed_ms,
            )
        delay_s = retry_delay_s(attempts, self._jitter())
        if result.retry_after_s is not None:
            delay_s = max(delay_s, result.retry_after_s)
        self._deliveries.record(
            target,
            state="pending",
            at_ms=now_ms,
            status_code=result.status_code,
            error=result.error,
            next_attempt_ms=now_ms + round(delay_s * 1000),
        )
        return Report(
            target,
            "retry",
            attempts,
            result.status_code,
            result.error,
            delay_s,
            elapsed_ms=elapsed_ms,
        )

    def _read(self, body: str) -> tuple[Target, OutboxEntry]:
        try:
            message = json.loads(body)
            if message.get("v") != MESSAGE_VERSION:
                raise MalformedAlert(f"unknown message version {message.get('v')!r}")
            target = Target(
                str(message["check"]),
                str(message["flip"]),
                str(message["target"]),
                str(message["kind"]),
            )
            entry = alert_from_image(message["image"], base_url=self._base_url)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            if isinstance(exc, MalformedAlert):
                raise
            raise MalformedAlert(f"{type(exc).__name__}: {exc}") from exc
        if entry is None:
            raise MalformedAlert("the message carries no alert")
        return target, entry

    def _publish_to(self, alert: Alert, channel_ids: Sequence[str]) -> DeliveryResult:
        if self._publish is None:
            return DeliveryResult(False, True, None, "there is no alerts topic")
        try:
            self._publish(alert, channel_ids)
        except Exception as exc:  # SNS errors are mostly transient: the queue retries
            return DeliveryResult(False, False, None, _why(exc))
        return DeliveryResult(True, False, None, None)

    def _send(self, target: Target, alert: Alert) -> DeliveryResult:
        if target.channel_id == SNS_CHANNEL_ID:
            # The check's email and SMS channels as they are now: one deleted since the flip
            # has lost its subscription, one added is told.
            attached = self._channels.get_many(list(dict.fromkeys(alert.check.channel_ids)))
            return self._publish_to(alert, [c.id for c in attached if c.kind in TOPIC_KINDS])
        # The channel is read at send time: an edit (a new URL, a rotated secret) applies to
        # alerts already queued, and a deleted channel gets nothing.
        found = self._channels.get_many([target.channel_id])
        if not found:
            return DeliveryResult(False, True, None, "the channel was deleted")
        if found[0].kind in TOPIC_KINDS:
            return self._publish_to(alert, [found[0].id])
        try:
            return self._attempt(found[0], alert)
        except Exception as exc:  # a channel's bug must not crash the worker: retried
            return DeliveryResult(False, False, None, _why(exc))


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
