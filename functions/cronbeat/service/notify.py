"""Turn outbox items (flips and reminders) into alerts: the SNS topic once, each channel once.

Every send sits behind a delivery record (claimed before sending, outcome stored after), so the
stream's at-least-once hand-over never reaches a channel twice with the same alert. A batch's
sends run in parallel, so one receiver that hangs through its retries delays no other alert.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cronbeat.channels.alert import Alert
from cronbeat.channels.delivery import DeliveryResult
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import Flip
from cronbeat.store.codec import Item, from_item
from cronbeat.store.deliveries import RETRYABLE, DeliveryStore, Outcome

SNS_CHANNEL_ID = "sns"
"""The alerts topic's pseudo-channel id: its delivery record makes the publish once-only too."""

ALERTING_TYPES = frozenset({"flip", "reminder"})


class MalformedOutboxItem(ValueError):
    """A flip or reminder item the notifier cannot read: logged and dropped, never retried."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A flip or reminder item from the events table, read off its stream record."""

    check_id: str
    flip_sk: str
    alert: Alert


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """How one (alert, channel) delivery went in this invocation."""

    check_id: str
    flip_sk: str
    channel_id: str
    channel_kind: str
    outcome: Outcome | Literal["already-done"]
    """`already-done`: an earlier invocation delivered it or gave up for good; nothing was sent."""
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None

    @property
    def retry(self) -> bool:
        """The stream should hand this alert over again."""
        return self.outcome == "failed-retryable"


class ChannelDirectory(Protocol):
    def get_many(self, channel_ids: list[str]) -> list[Channel]: ...


Publish = Callable[[Alert], str]
"""Publish an alert to the SNS topic; returns the message id, raises on failure."""

Deliver = Callable[[Channel, Alert], DeliveryResult]


def dashboard_url(base_url: str, check_id: str) -> str:
    """Where an alert links to: the check's page in the dashboard (empty without a base URL).

    The dashboard (served at `/`) asks for an API key and then opens the check; the API's own
    `/api/v3/checks/<id>` would answer a browser with 401, as it wants an `X-Api-Key` header.
    """
    return f"{base_url}/#check/{check_id}" if base_url else ""


def outbox_entry(record: dict[str, Any], *, base_url: str) -> OutboxEntry | None:
    """The alert a stream record carries; None when it is not an insert of an alerting item."""
    if record.get("eventName") != "INSERT":
        return None
    image: Item | None = record.get("dynamodb", {}).get("NewImage")
    if not image or image.get("type", {}).get("S") not in ALERTING_TYPES:
        return None
    try:
        check = from_item(image["check"]["M"])
        at_ms = int(image["at"]["N"])
        flip_sk = image["sk"]["S"]
        flip = None
        if image["type"]["S"] == "flip":
            flip = Flip(old=image["old"]["S"], new=image["new"]["S"], reason=image["reason"]["S"])
        previous_since = image.get("previous_since", {}).get("N")
        # Stream records are JSON, so a binary attribute arrives in base64.
        output = base64.b64decode(image.get("output", {}).get("B", ""), validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedOutboxItem(f"{type(exc).__name__}: {exc}") from exc
    if flip is not None and not flip.alerts:
        return None
    alert = Alert(
        check=check,
        flip=flip,
        at_ms=at_ms,
        previous_since_ms=int(previous_since) if previous_since is not None else None,
        last_output=output,
        dashboard_url=dashboard_url(base_url, check.id),
    )
    return OutboxEntry(check_id=check.id, flip_sk=flip_sk, alert=alert)


@dataclass(frozen=True, slots=True)
class Sent:
    """What one send did, before it is recorded."""

    outcome: Outcome
    attempts: int
    status_code: int | None = None
    error: str | None = None


MAX_PARALLEL_SENDS = 16
"""Sends in flight at once. A hanging receiver then costs a batch one 20 s delivery budget, not one
per record and channel: a batch of 10 flips fits the notifier's timeout, and no record's alerts
wait behind another record's retries."""


@dataclass(slots=True)
class _Claimed:
    """A delivery this invocation claimed: sent with the others, then recorded."""

    entry: OutboxEntry
    channel_id: str
    kind: str
    send: Callable[[Alert], Sent]
    sent: Sent | None = None


_Slot = DeliveryOutcome | _Claimed


class Notifier:
    """Send alerts to the topic and to the checks' channels, each behind a delivery record."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        channels: ChannelDirectory,
        *,
        publish: Publish | None,
        deliver: Deliver,
        now_ms: Callable[[], int],
    ) -> None:
        self._deliveries = deliveries
        self._channels = channels
        self._publish = publish
        self._deliver = deliver
        self._now_ms = now_ms

    def notify_all(self, entries: Sequence[OutboxEntry]) -> list[list[DeliveryOutcome] | Exception]:
        """Alert the topic (if there is one) and each check's channels; per entry, in order, the
        outcomes (topic first, then channels) or the error that left the entry unfinished.

        Delivery records are claimed and written one at a time; only the sends run in parallel.
        """
        slots = [self._claim(entry) for entry in entries]
        claimed = [
            slot
            for entry_slots in slots
            if isinstance(entry_slots, list)
            for slot in entry_slots
            if isinstance(slot, _Claimed)
        ]
        for claim, sent in zip(claimed, self._send_all(claimed), strict=True):
            claim.sent = sent
        return [
            entry_slots if isinstance(entry_slots, Exception) else self._record(entry_slots)
            for entry_slots in slots
        ]

    def _claim(self, entry: OutboxEntry) -> list[_Slot] | Exception:
        try:
            targets: list[tuple[str, str, Callable[[Alert], Sent]]] = []
            if self._publish is not None:
                targets.append((SNS_CHANNEL_ID, "sns", self._to_topic))
            # Each channel once: every claim is taken before any send, so a repeated id would
            # find its own pending claim and send twice.
            channel_ids = list(dict.fromkeys(entry.alert.check.channel_ids))
            for channel in self._channels.get_many(channel_ids):
                targets.append((channel.id, channel.kind, self._to(channel)))
            slots: list[_Slot] = []
            for channel_id, kind, send in targets:
                if self._deliveries.claim(
                    entry.check_id, entry.flip_sk, channel_id, self._now_ms()
                ):
                    slots.append(_Claimed(entry, channel_id, kind, send))
                else:
                    slots.append(
                        DeliveryOutcome(
                            entry.check_id, entry.flip_sk, channel_id, kind, "already-done"
                        )
                    )
        except Exception as exc:  # this entry is retried; the others go on
            return exc
        return slots

    @staticmethod
    def _send_all(claimed: list[_Claimed]) -> list[Sent]:
        def send(claim: _Claimed) -> Sent:
            return claim.send(claim.entry.alert)

        if len(claimed) <= 1:
            return [send(claim) for claim in claimed]
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SENDS, len(claimed))) as pool:
            return list(pool.map(send, claimed))

    def _record(self, slots: list[_Slot]) -> list[DeliveryOutcome] | Exception:
        outcomes: list[DeliveryOutcome] = []
        try:
            for slot in slots:
                outcomes.append(slot if isinstance(slot, DeliveryOutcome) else self._stored(slot))
        except Exception as exc:  # this entry is retried; the others go on
            return exc
        return outcomes

    def _stored(self, claim: _Claimed) -> DeliveryOutcome:
        sent = claim.sent
        assert sent is not None, "every claimed delivery is sent before it is recorded"
        entry = claim.entry
        self._deliveries.record_outcome(
            entry.check_id,
            entry.flip_sk,
            claim.channel_id,
            outcome=sent.outcome,
            attempts=sent.attempts,
            status_code=sent.status_code,
            error=sent.error,
            at_ms=self._now_ms(),
        )
        return DeliveryOutcome(
            entry.check_id,
            entry.flip_sk,
            claim.channel_id,
            claim.kind,
            sent.outcome,
            sent.attempts,
            sent.status_code,
            sent.error,
        )

    def _to_topic(self, alert: Alert) -> Sent:
        assert self._publish is not None
        try:
            self._publish(alert)
        except Exception as exc:  # retried with the batch: SNS errors are mostly transient
            return Sent(RETRYABLE, 1, error=_why(exc))
        return Sent("delivered", 1)

    def _to(self, channel: Channel) -> Callable[[Alert], Sent]:
        def send(alert: Alert) -> Sent:
            try:
                result = self._deliver(channel, alert)
            except Exception as exc:  # a channel's bug must not cost the other channels their alert
                return Sent(RETRYABLE, 1, error=_why(exc))
            outcome: Outcome = "delivered"
            if not result.delivered:
                outcome = "failed-permanent" if result.permanent else RETRYABLE
            return Sent(outcome, result.attempts, result.status_code, result.error)

        return send


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
