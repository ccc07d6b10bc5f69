"""Record a ping: find the check its URL names (creating it for `?create=1`) and write the ping.

The HTTP side (`api/ping_protocol.py`) parses the request and turns the `Recorded` outcome into
Healthchecks.io's reply; this module knows nothing of URLs or status codes.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, replace
from typing import Literal

from cronbeat import runtime
from cronbeat.domain.model import Check, Ping, StoredKind
from cronbeat.store.channels import ChannelStore
from cronbeat.store.checks import CheckExists, CheckStore, Contention, Sender
from cronbeat.store.codec import slug_key
from cronbeat.store.project import ProjectStore

__all__ = ["SLUG_CHECK_NAMESPACE", "Address", "Outcome", "PingService", "Recorded", "Sender"]

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


class PingService:
    """Find the check a ping names (creating it for `?create=1`), record the ping."""

    def __init__(self, checks: CheckStore, project: ProjectStore, channels: ChannelStore) -> None:
        self._checks = checks
        self._project = project
        self._channels = channels

    def record(
        self, address: Address, ping: Ping, sender: Sender, *, create: bool, at_ms: int
    ) -> Recorded:
        found = self._find(address, create, at_ms)
        if not isinstance(found, tuple):
            return Recorded(found)
        check_id, created = found
        try:
            outcome = self._checks.record_ping(check_id, ping, at_ms, sender)
        except Contention:
            return Recorded("busy", check_id)
        if outcome is None:
            return Recorded("not_found", check_id)
        return Recorded("created" if created else "recorded", check_id, outcome.kind)

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
        check = Check(id=derived_id, name=slug, slug=slug, channels=channels, created_ms=at_ms)
        try:
            self._checks.create(check, ping_key)
            return derived_id, True
        except CheckExists:
            existing = self._checks.get(derived_id)
            if existing is not None and existing[0].slug == slug:
                return derived_id, False
        # The derived id belongs to a check whose slug has since changed: make a random one.
        fresh = replace(check, id=str(uuid.uuid4()))
        self._checks.create(fresh, ping_key)
        return fresh.id, True


def default_service() -> PingService:
    """The service on this process's stores."""
    stores = runtime.stores()
    return PingService(stores.checks, stores.project, stores.channels)
