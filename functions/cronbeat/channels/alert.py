"""An alert: what every channel and the SNS topic are told about one flip or reminder."""

from __future__ import annotations

from dataclasses import dataclass

from cronbeat.domain.machine import down_since
from cronbeat.domain.model import Check, Flip


@dataclass(frozen=True, slots=True)
class Alert:
    """One flip to or from `down`, or a reminder that a check is still down."""

    check: Check
    """Snapshot of the check after the flip, as the flip item recorded it."""
    flip: Flip | None
    """None for a reminder (a re-alert of a check that is still down)."""
    at_ms: int
    """When the flip or reminder was written."""
    previous_since_ms: int | None = None
    """When the status before the flip began (for a recovery: when the check went down)."""
    last_output: bytes = b""
    """Tail of the most recent ping body; messages show at most its last 1,000 bytes."""
    dashboard_url: str = ""
    """Link to this check's page in the dashboard (`<base>/#check/<id>`); empty when unknown."""
    after_mute: bool = False
    """A reminder that is the one alert owed for a down that began while the check was muted."""

    @property
    def down_since_ms(self) -> int | None:
        """When the down time this alert is about began, by the domain's one rule."""
        return down_since(self.check, self.flip, self.previous_since_ms)

    @property
    def kind(self) -> str:
        """`flip` or `reminder`, as the webhook payload names it."""
        return "flip" if self.flip is not None else "reminder"

    @property
    def status(self) -> str:
        """The status the alert reports: the flip's new status, or the check's for a reminder."""
        return self.flip.new if self.flip is not None else self.check.status

    @property
    def alert_id(self) -> str:
        """The same for every retry of this alert, so receivers can drop duplicates."""
        return f"{self.check.id}/{self.at_ms}"
