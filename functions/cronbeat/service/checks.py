"""What the check endpoints do: create or upsert, update, pause, resume, delete, look up.

Each follows Healthchecks.io's view of the same name. Writes are read-modify-write cycles
conditioned on the check's revision; a cycle that loses to a concurrent ping is read and applied
again, a few times, before the API gives up with 409.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cronbeat.api.errors import NOT_PAUSED, ApiError, BadRequest, MethodNotAllowed, NotFound
from cronbeat.api.models import CheckSpec, MaintenanceWindow
from cronbeat.domain import machine, maintenance
from cronbeat.domain.badges import new_badge_key
from cronbeat.domain.channel import Channel
from cronbeat.domain.errors import DomainError
from cronbeat.domain.ids import unique_key
from cronbeat.domain.model import API_FIELDS, SECOND_MS, Check, Flip
from cronbeat.domain.schedule import schedule_kind
from cronbeat.store.checks import CheckExists, LostRace
from cronbeat.store.deliveries import DeliveryRecord
from cronbeat.store.history import FlipRecord, PingRecord
from cronbeat.stores import Stores

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UNIQUE_KEY_PATTERN = re.compile(r"^[0-9a-f]{40}$")
ATTEMPTS = 5

_DEFAULTS = Check(id="")
COPIED = {name: f for name, f in API_FIELDS.items() if getattr(_DEFAULTS, f) is not None}
"""Spec field → Check field, for the fields copied as they are (the Check declares them)."""
NULLABLE = {name: f for name, f in API_FIELDS.items() if getattr(_DEFAULTS, f) is None}
"""The copied fields that null turns off."""
UNIQUE_FIELDS = {
    "name": "name",
    "slug": "slug",
    "tags": "tags",
    "timeout": "timeout_s",
    "grace": "grace_s",
}


class Conflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, message)


def with_badge_key(check: Check) -> Check:
    """`check`, with a badge key if it has none: checks made before badges get one when the API
    next changes them."""
    return check if check.badge_key else replace(check, badge_key=new_badge_key())


def resolve_channels(spec_channels: str, channels: list[Channel]) -> str:
    """Healthchecks.io's `channels` value as stored ids: "*" all, "" none, else ids or names."""
    if spec_channels == "*":
        return ",".join(sorted(c.id for c in channels))
    if spec_channels == "":
        return ""
    chosen: set[str] = set()
    for reference in spec_channels.split(","):
        if reference == "":
            raise BadRequest("empty channel identifier")
        matches = [c for c in channels if reference in (c.id, c.name)]
        if not matches:
            raise BadRequest(f"invalid channel identifier: {reference}")
        if len(matches) > 1:
            raise BadRequest(f"non-unique channel identifier: {reference}")
        chosen.add(matches[0].id)
    return ",".join(sorted(chosen))


def _from_subjects(check: Check, spec: CheckSpec) -> dict[str, Any]:
    """Healthchecks.io's deprecated `subject` and `subject_fail`: they set the success and failure
    keywords, and the subject filter is on while either keyword is set. Explicit keyword and
    filter fields in the same request win."""
    if not (spec.given("subject") or spec.given("subject_fail")):
        return {}
    success = spec.subject if spec.subject is not None else check.success_kw
    failure = spec.subject_fail if spec.subject_fail is not None else check.failure_kw
    return {
        "success_kw": success,
        "failure_kw": failure,
        "filter_subject": bool(success or failure),
    }


def apply_spec(check: Check, spec: CheckSpec, channels: str | None) -> Check:
    """`check` with the fields the request gave (absent fields keep their value)."""
    changes = _from_subjects(check, spec)
    changes.update({f: getattr(spec, name) for name, f in COPIED.items() if spec.given(name)})
    if spec.schedule is not None:
        changes["kind"], changes["schedule"] = schedule_kind(spec.schedule), spec.schedule
    elif spec.given("timeout"):
        changes["kind"], changes["timeout_s"] = "simple", spec.timeout
    for name, field in NULLABLE.items():
        if name in spec.model_fields_set:
            changes[field] = getattr(spec, name)
    if channels is not None:
        changes["channels"] = channels
    if spec.given("maintenance"):
        assert spec.maintenance is not None
        changes["maintenance"] = maintenance_windows(spec.maintenance)
    changed = machine.fit_window(replace(check, **changes))
    low, high = changed.min_duration_s, changed.max_duration_s
    if low is not None and high is not None and low >= high:
        raise BadRequest("json validation error: min_duration must be less than max_duration")
    return changed


def maintenance_windows(given: list[MaintenanceWindow]) -> str:
    """The windows a request gave, checked by the domain, in the compact form the check keeps."""
    checked: list[maintenance.Window] = []
    for position, window in enumerate(given):
        try:
            checked.append(maintenance.validate_window(window.schedule, window.duration))
        except DomainError as exc:
            raise BadRequest(f"json validation error: maintenance[{position}] {exc}") from None
    return maintenance.encode_windows(checked)


class CheckService:
    """The check endpoints' operations, on the stores and at the time they are given."""

    def __init__(self, stores: Stores, *, now_ms: int, new_id: Callable[[], str] | None = None):
        self._stores = stores
        self._now_ms = now_ms
        self._new_id = new_id or (lambda: str(uuid.uuid4()))

    # -- lookups ----------------------------------------------------------------------------

    def get(self, reference: str, *, by_unique_key: bool = True) -> Check:
        """The check a path names: its uuid, or (where allowed) its read-only unique_key."""
        if UUID_PATTERN.match(reference):
            stored = self._stores.checks.get(reference)
            if stored is not None:
                return stored.check
        elif by_unique_key and UNIQUE_KEY_PATTERN.match(reference):
            for entry in self._stores.checks.all():
                if unique_key(entry.check.id) == reference:
                    return entry.check
        raise NotFound()

    def find(self, *, tags: list[str], slug: str | None) -> list[Check]:
        wanted = {tag for tag in tags if tag}
        return [
            s.check
            for s in self._stores.checks.all()
            if wanted.issubset(s.check.tag_list) and (slug is None or s.check.slug == slug)
        ]

    def pings(
        self, reference: str, *, limit: int, before_n: int | None = None
    ) -> tuple[Check, list[PingRecord]]:
        """The check's latest `limit` pings, or those numbered below `before_n`, newest first.

        A finish whose start is on the next page has no duration here: a client paging back
        pairs the pages it holds (as `cronbeat stats` does)."""
        check = self.get(reference)
        pings = self._stores.history.pings(check.id, limit=limit, before_n=before_n)
        paired = machine.run_durations(pings)
        return check, [
            replace(ping, duration_ms=paired[position]) if position in paired else ping
            for position, ping in enumerate(pings)
        ]

    def ping_body(self, reference: str, n: str) -> bytes:
        """The stored body of the check's ping number `n`; 404 when there is none."""
        if not n.isascii() or not n.isdigit() or len(n) > 10:
            raise NotFound()
        body = self._stores.history.ping_body(self.get(reference).id, int(n))
        if body is None:
            raise NotFound()
        return body

    def flips(
        self, reference: str, *, seconds: int | None, start_s: int | None, end_s: int | None
    ) -> list[tuple[FlipRecord, list[DeliveryRecord]]]:
        """The check's flips since the later of `start_s` and `seconds` ago, until `end_s`,
        each with its alert's deliveries (none for a flip that was not alerted)."""
        since_ms = [t * SECOND_MS for t in (start_s,) if t is not None]
        if seconds is not None:
            since_ms.append(self._now_ms - seconds * SECOND_MS)
        check_id = self.get(reference).id
        flips = self._stores.history.flips(
            check_id,
            start_ms=max(since_ms) if since_ms else None,
            end_ms=end_s * SECOND_MS if end_s is not None else None,
        )
        deliveries = self._stores.deliveries.for_flips(check_id, [flip.sk for flip in flips])
        return [(flip, deliveries.get(flip.sk, [])) for flip in flips]

    # -- writes -----------------------------------------------------------------------------

    def _ping_key(self, *checks: Check) -> str | None:
        """The project ping key, needed only to keep a slug's lookup key in step."""
        if any(check.slug for check in checks):
            return self._stores.project.ensure_ping_key()
        return None

    def _channels(self, spec: CheckSpec) -> str | None:
        """The channel ids `channels` names, or None to leave them as they are: as on
        Healthchecks.io, a check created without the field gets no channels ("*" asks for all)."""
        if spec.given("channels"):
            assert spec.channels is not None
            return resolve_channels(spec.channels, self._stores.channels.all())
        return None

    def _matching(self, spec: CheckSpec) -> Check | None:
        """The existing check Healthchecks.io's `unique` names, when every listed field is given."""
        if not spec.unique or not all(spec.given(name) for name in spec.unique):
            return None
        for entry in self._stores.checks.all():
            if all(getattr(entry.check, UNIQUE_FIELDS[n]) == getattr(spec, n) for n in spec.unique):
                return entry.check
        return None

    def create(self, spec: CheckSpec) -> tuple[Check, bool]:
        """Create a check, or update the one `unique` matches; True when it was created."""
        existing = self._matching(spec)
        if existing is not None:
            return self.update(existing.id, spec.model_copy(update={"uuid": None})), False
        check_id = self._new_id()
        if spec.given("uuid"):
            assert spec.uuid is not None
            check_id = spec.uuid.lower()
            if not UUID_PATTERN.match(check_id):
                raise BadRequest("json validation error: uuid is not a valid UUID")
        channels = self._channels(spec)
        made = Check(id=check_id, created_ms=self._now_ms, status="new", badge_key=new_badge_key())
        check = apply_spec(made, spec, channels)
        try:
            self._stores.checks.create(check, self._ping_key(check))
        except CheckExists:
            raise Conflict(f"a check with uuid {check_id} already exists") from None
        return check, True

    def _rewrite(self, check_id: str, write: Callable[[Check, int], Check]) -> Check:
        """`write` the stored check at its revision, again if a concurrent write got there first."""
        for _ in range(ATTEMPTS):
            stored = self._stores.checks.get(check_id)
            if stored is None:
                raise NotFound()
            try:
                return write(stored.check, stored.rev)
            except LostRace as lost:
                if lost.stored is None and not lost.conflict:
                    raise NotFound() from None
        raise Conflict("the check kept changing while being updated; try again")

    def _change(self, check_id: str, change: Callable[[Check], Check | None]) -> Check:
        """Apply `change` to the stored check, again if a concurrent write got there first.

        `change` returns None to leave the check as it is.
        """

        def write(before: Check, rev: int) -> Check:
            after = change(before)
            if after is None or after == before:
                return before
            after = with_badge_key(after)
            self._stores.checks.write(
                before, after, rev=rev, ping_key=self._ping_key(before, after)
            )
            return after

        return self._rewrite(check_id, write)

    def _writable(self, reference: str) -> Check:
        """The check an update or a delete names. A unique_key URL only reads: 405, as
        Healthchecks.io answers there."""
        if UNIQUE_KEY_PATTERN.match(reference):
            raise MethodNotAllowed(["GET"])
        return self.get(reference, by_unique_key=False)

    def update(self, reference: str, spec: CheckSpec) -> Check:
        if spec.given("uuid"):
            raise BadRequest("json validation error: uuid can only be given on create")
        check_id = self._writable(reference).id
        channels = self._channels(spec)
        return self._change(check_id, lambda check: apply_spec(check, spec, channels))

    def delete(self, reference: str) -> Check:
        check_id = self._writable(reference).id
        deleted = self._stores.checks.delete(check_id)
        if deleted is None:
            raise NotFound()
        return deleted

    def _transition(
        self, check_id: str, decide: Callable[[Check], tuple[Check, Flip] | None]
    ) -> Check:
        def write(before: Check, rev: int) -> Check:
            decided = decide(before)
            if decided is None:
                return before
            after, flip = decided
            after = with_badge_key(after)
            record = self._stores.history.flip(
                after,
                flip,
                at_ms=self._now_ms,
                rev=rev + 1,
                previous_since_ms=before.status_since_ms,
                manual=not flip.alerts,
            )
            self._stores.checks.write(
                before, after, rev=rev, extra=[record], ping_key=self._ping_key(before, after)
            )
            return after

        return self._rewrite(check_id, write)

    def pause(self, reference: str) -> Check:
        """Pause the check (idempotent). Pausing a down check alerts "paused while down": the
        people on call learn the incident was silenced, not resolved; any other pause alerts
        no one."""

        def decide(check: Check) -> tuple[Check, Flip] | None:
            paused, flip = machine.pause(check, self._now_ms)
            return None if flip is None else (paused, flip)

        return self._transition(self.get(reference, by_unique_key=False).id, decide)

    def resume(self, reference: str) -> Check:
        """Resume a paused check as new (it waits for its next ping); 409 if it is not paused."""

        def decide(check: Check) -> tuple[Check, Flip] | None:
            resumed, flip = machine.resume(check, self._now_ms)
            if flip is None:
                raise Conflict(NOT_PAUSED)
            return resumed, flip

        return self._transition(self.get(reference, by_unique_key=False).id, decide)

    def mute(self, reference: str, seconds: int) -> Check:
        """Mute the check's alerts for `seconds` from now; flips are still recorded."""
        check_id = self.get(reference, by_unique_key=False).id
        try:
            return self._change(check_id, lambda c: maintenance.mute(c, self._now_ms, seconds))
        except DomainError as exc:
            raise BadRequest(f"json validation error: {exc}") from None

    def unmute(self, reference: str) -> Check:
        """End the check's mute (its maintenance windows still apply); idempotent."""
        return self._change(self.get(reference, by_unique_key=False).id, maintenance.unmute)

    def reassign_channel(self, channel_id: str, *, attach: bool) -> None:
        """Add the channel to every check (attach) or take it off every check that has it."""

        def change(check: Check) -> Check | None:
            ids = set(check.channel_ids)
            if attach:
                ids.add(channel_id)
            else:
                ids.discard(channel_id)
            return replace(check, channels=",".join(sorted(ids)))

        for entry in self._stores.checks.all():
            if attach or channel_id in entry.check.channel_ids:
                try:
                    self._change(entry.check.id, change)
                except NotFound:
                    continue
