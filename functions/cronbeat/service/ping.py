"""Record a ping: find the check its URL names (creating it for `?create=1`) and write the ping.

The HTTP side (`api/ping_protocol.py`) parses the request and turns the `Recorded` outcome into
Healthchecks.io's reply; this module knows nothing of URLs or status codes.

A ping first tries the read-free fast path: one conditional UpdateItem whose condition is the
domain's `FastPath` guard, then one PutItem of the history item. When the guard does not hold
(the ping may change the status), the update hands back the stored check, and the ping takes the
general path: `apply_ping` on that check, written in one transaction conditioned on the revision
it read, with the history item and the flip. A lost race decides again on the check that won.
"""

from __future__ import annotations

import hmac
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from cronbeat import runtime
from cronbeat.domain.badges import new_badge_key
from cronbeat.domain.machine import (
    FastPath,
    apply_ping,
    classify,
    count_failure,
    fast_path,
    slower_than_usual_after,
)
from cronbeat.domain.model import Check, Flip, Ping, PingOutcome, Sender, StoredKind
from cronbeat.store.channels import ChannelStore
from cronbeat.store.checks import CheckExists, CheckRepository, LostRace, StoredCheck
from cronbeat.store.codec import slug_key
from cronbeat.store.expressions import NewItem
from cronbeat.store.history import History
from cronbeat.store.project import ProjectStore

MAX_ATTEMPTS = 20
"""Conflicting writes a ping retries before giving up (each re-reads what won)."""
_BACKOFF_CAP_S = 0.1

SLUG_CHECK_NAMESPACE = uuid.UUID("5b0f3f7e-1c7a-4b8e-9a51-7f3c2d9e4a10")
"""Checks made by `?create=1` get uuid5(namespace, "<ping key>/<slug>"), so two racing creates
(or a create the eventually consistent slug index has not caught up with) make one check."""

Outcome = Literal["recorded", "created", "not_found", "ambiguous_slug", "busy"]


@dataclass(frozen=True, slots=True)
class Address:
    """The check a ping names: its id, or the project's ping key and the check's slug."""

    check_id: str | None = None
    ping_key: str | None = None
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What happened to a ping, and what the handler logs and counts."""

    outcome: Outcome
    check_id: str | None = None
    kind: StoredKind | None = None


def _already_written(stored: StoredCheck | None, request_id: str) -> bool:
    """The check holds this request's id: an earlier attempt of this very write committed."""
    return bool(request_id) and stored is not None and stored.check.last_request == request_id


class Contention(Exception):
    """A ping lost MAX_ATTEMPTS races in a row; nothing of it was written."""


class PingService:
    """Find the check a ping names (creating it for `?create=1`), record the ping."""

    def __init__(
        self,
        checks: CheckRepository,
        history: History,
        project: ProjectStore,
        channels: ChannelStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._checks = checks
        self._history = history
        self._project = project
        self._channels = channels
        self._sleep = sleep

    def record(
        self,
        address: Address,
        ping: Ping,
        sender: Sender,
        *,
        create: bool,
        at_ms: int,
        request_id: str = "",
    ) -> Recorded:
        found = self._find(address, create, at_ms)
        if not isinstance(found, tuple):
            return Recorded(found)
        check_id, created = found
        try:
            outcome = self.apply(check_id, ping, at_ms, sender, request_id)
        except Contention:
            return Recorded("busy", check_id)
        if outcome is None:
            return Recorded("not_found", check_id)
        return Recorded("created" if created else "recorded", check_id, outcome.kind)

    def apply(
        self, check_id: str, ping: Ping, at_ms: int, sender: Sender, request_id: str = ""
    ) -> PingOutcome | None:
        """Apply `ping` to the check and record it; None if there is no such check.

        The outcome is exactly `apply_ping` on the stored state the winning write was conditioned
        on. Raises Contention if it lost every one of MAX_ATTEMPTS races.

        `request_id` (API Gateway's, the same for every SDK retry of the request) makes the
        ping idempotent without a read: each write stores it on the check, and a write that
        finds it there already committed, so the ping is counted and stored once.
        """
        plan = fast_path(ping)
        seen: StoredCheck | None = None
        for attempt in range(MAX_ATTEMPTS):
            if plan is not None and (seen is None or plan.admits(seen.check)):
                try:
                    fast = self._checks.update_fast(check_id, plan, ping, at_ms, request_id)
                except LostRace:
                    self._backoff(attempt)
                    continue
                if fast.stored is None:
                    return None
                if (
                    fast.applied
                    and plan.kind == "success"
                    and slower_than_usual_after(fast.stored.check)
                ):
                    return self._correct_slow(fast.stored, ping, at_ms, sender)
                if fast.applied or _already_written(fast.stored, request_id):
                    return self._record_fast(plan, ping, at_ms, sender, fast.stored.check)
                seen = fast.stored
                continue
            if seen is None:
                seen = self._checks.get(check_id)
                if seen is None:
                    return None
            if _already_written(seen, request_id):
                # A request delivered again (SNS redelivers mail): counted the first time.
                return PingOutcome(seen.check, classify(seen.check, ping))
            outcome = apply_ping(seen.check, ping, at_ms)
            if request_id:
                outcome = replace(outcome, check=replace(outcome.check, last_request=request_id))
            try:
                self._write(seen, outcome, ping, at_ms, sender)
            except LostRace as lost:
                if _already_written(lost.stored, request_id):
                    return outcome
                seen = lost.stored
                if lost.conflict or attempt >= 2:
                    self._backoff(attempt)
                continue
            return outcome
        raise Contention(check_id)

    def _backoff(self, attempt: int) -> None:
        self._sleep(random.uniform(0, min(_BACKOFF_CAP_S, 0.002 * 2**attempt)))

    def _record_fast(
        self, plan: FastPath, ping: Ping, at_ms: int, sender: Sender, after: Check
    ) -> PingOutcome:
        """Record the history item of a ping the fast path applied (`after` is the check now)."""
        duration = after.last_duration_ms if plan.kind in ("success", "fail") else None
        self._history.put(self._history.ping(after, plan.kind, ping, sender, at_ms, duration))
        return PingOutcome(after, plan.kind, duration, None)

    def _correct_slow(
        self, applied: StoredCheck, ping: Ping, at_ms: int, sender: Sender
    ) -> PingOutcome:
        """The read-free path counted a run slower than usual as a success: count it as the
        failure it is, with its history item and flip, in one transaction on what it wrote.

        Rare (it takes a slow run), so a second write here keeps every common finish at one
        update and one put. A write that got in between wins, and the failure is counted on
        what it left, as if it had come after this finish.
        """
        seen = applied
        duration = applied.check.last_duration_ms
        # Numbered by the update that counted it, whatever was written since.
        record = self._history.ping(applied.check, "success", ping, sender, at_ms, duration)
        for attempt in range(MAX_ATTEMPTS):
            after, flip = count_failure(seen.check, "slower_than_usual", at_ms)
            outcome = PingOutcome(after, "success", duration, flip)
            extra = [record]
            if flip is not None:
                extra.append(self._flip_item(seen, after, flip, at_ms, ping))
            try:
                self._checks.write(seen.check, after, rev=seen.rev, extra=extra)
            except LostRace as lost:
                if lost.stored is None and not lost.conflict:
                    return outcome  # the check was deleted meanwhile
                if lost.stored is not None:
                    seen = lost.stored
                self._backoff(attempt)
                continue
            return outcome
        raise Contention(applied.check.id)

    def _write(
        self, seen: StoredCheck, outcome: PingOutcome, ping: Ping, at_ms: int, sender: Sender
    ) -> None:
        """One transaction: the check (if still at the revision seen), the history, the flip."""
        after = outcome.check
        record = self._history.ping(after, outcome.kind, ping, sender, at_ms, outcome.duration_ms)
        extra = [record]
        if outcome.flip is not None:
            extra.append(self._flip_item(seen, after, outcome.flip, at_ms, ping))
        self._checks.write(seen.check, after, rev=seen.rev, extra=extra)

    def _flip_item(
        self, seen: StoredCheck, after: Check, flip: Flip, at_ms: int, ping: Ping
    ) -> NewItem:
        return self._history.flip(
            after,
            flip,
            at_ms=at_ms,
            rev=seen.rev + 1,
            previous_since_ms=seen.check.status_since_ms,
            output=ping.body,
        )

    def _find(self, address: Address, create: bool, at_ms: int) -> tuple[str, bool] | Outcome:
        """The id of the check the address names, and whether it was created now; or why not."""
        if address.check_id is not None:
            return address.check_id, False
        if address.ping_key is None or address.slug is None:
            return "not_found"
        ids = self._checks.resolve_slug(address.ping_key, address.slug)
        if len(ids) > 1:
            return "ambiguous_slug"
        if ids:
            return ids[0], False
        if not create:
            return "not_found"
        return self._create(address.ping_key, address.slug, at_ms) or "not_found"

    def _create(self, ping_key: str, slug: str, at_ms: int) -> tuple[str, bool] | None:
        """The check `?create=1` asks for: (id, True) when made now, (id, False) when it was there.

        None when the ping key is not the project's.
        """
        stored_key = self._project.ping_key()
        if stored_key is None or not hmac.compare_digest(stored_key, ping_key):
            return None
        channels = ",".join(channel.id for channel in self._channels.all())
        derived_id = str(uuid.uuid5(SLUG_CHECK_NAMESPACE, slug_key(ping_key, slug)))
        check = Check(
            id=derived_id,
            name=slug,
            slug=slug,
            channels=channels,
            created_ms=at_ms,
            badge_key=new_badge_key(),
        )
        try:
            self._checks.create(check, ping_key)
            return derived_id, True
        except CheckExists:
            existing = self._checks.get(derived_id)
            if existing is not None and existing.check.slug == slug:
                return derived_id, False
        # The derived id belongs to a check whose slug has since changed: make a random one.
        fresh = replace(check, id=str(uuid.uuid4()))
        self._checks.create(fresh, ping_key)
        return fresh.id, True


def default_service() -> PingService:
    """The service on this process's stores."""
    stores = runtime.stores()
    return PingService(
        stores.checks,
        stores.history,
        stores.project,
        stores.channels,
    )
