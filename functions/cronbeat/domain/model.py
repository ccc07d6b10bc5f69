"""The check, the ping and the flip: plain frozen dataclasses, cheap to import on the ping path.

Timestamps are epoch milliseconds (`*_ms`), periods are whole seconds (`*_s`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["new", "up", "down", "paused"]
"""Stored statuses. `grace` and `started` are derived at evaluation time."""

DerivedStatus = Literal["new", "up", "grace", "down", "paused"]

Kind = Literal["simple", "cron"]

PingAction = Literal["success", "start", "fail", "log"]
"""What the URL asked for: `/start`, `/fail`, `/log`; an exit code maps to success or fail."""

StoredKind = Literal["success", "start", "fail", "log", "ign"]
"""What the history records; `ign` is a ping the check's filters ignored."""

FlipReason = Literal[
    "first_ping", "timeout", "fail", "run_timeout", "recovered", "paused", "resumed"
]

SECOND_MS = 1000
MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86400

DEFAULT_TIMEOUT_S = DAY_S
DEFAULT_GRACE_S = HOUR_S
MAX_PERIOD_S = 365 * DAY_S


@dataclass(frozen=True, slots=True)
class Check:
    """One monitored job, as the scanner and the ping path see it."""

    id: str
    name: str = ""
    slug: str = ""
    tags: str = ""
    """Space-separated, as Healthchecks.io keeps them."""
    desc: str = ""
    kind: Kind = "simple"
    timeout_s: int = DEFAULT_TIMEOUT_S
    grace_s: int = DEFAULT_GRACE_S
    schedule: str = "* * * * *"
    tz: str = "UTC"
    status: Status = "new"
    status_since_ms: int | None = None
    """When the current status began: how long a recovered check was down."""
    last_ping_ms: int | None = None
    last_start_ms: int | None = None
    """Set while a run is open (a `/start` not yet closed by a finish)."""
    last_start_rid: str | None = None
    last_exit: int | None = None
    last_duration_ms: int | None = None
    n_pings: int = 0
    failure_streak: int = 0
    success_streak: int = 0
    max_runtime_s: int | None = None
    """How long a started run may take; None means the grace period."""
    failure_threshold: int = 1
    recovery_threshold: int = 1
    realert_every_s: int | None = None
    last_alert_ms: int | None = None
    manual_resume: bool = False
    methods: str = ""
    """`""` accepts any method; `"POST"` ignores every other method."""
    filter_http_body: bool = False
    success_kw: str = ""
    failure_kw: str = ""
    start_kw: str = ""
    filter_default_fail: bool = False
    channels: str = ""
    """Comma-separated channel ids that receive this check's alerts."""
    created_ms: int | None = None

    @property
    def started(self) -> bool:
        """A run is open: a start ping has not been closed by a finish."""
        return self.last_start_ms is not None

    @property
    def runtime_limit_s(self) -> int:
        return self.max_runtime_s if self.max_runtime_s is not None else self.grace_s

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()

    @property
    def channel_ids(self) -> list[str]:
        return [c for c in self.channels.split(",") if c]


@dataclass(frozen=True, slots=True)
class Ping:
    """One request to a ping URL, reduced to what the state machine needs."""

    action: PingAction = "success"
    exit_status: int | None = None
    rid: str | None = None
    method: str = "GET"
    body: bytes = b""
    explicit: bool = False
    """The URL named the outcome (`/fail`, `/0`, `/start`...): keyword filters do not apply."""

    @classmethod
    def success(cls, *, rid: str | None = None, method: str = "GET", body: bytes = b"") -> Ping:
        return cls("success", None, rid, method, body, explicit=False)

    @classmethod
    def start(cls, *, rid: str | None = None, method: str = "GET", body: bytes = b"") -> Ping:
        return cls("start", None, rid, method, body, explicit=True)

    @classmethod
    def fail(cls, *, rid: str | None = None, method: str = "GET", body: bytes = b"") -> Ping:
        return cls("fail", None, rid, method, body, explicit=True)

    @classmethod
    def log(cls, *, rid: str | None = None, method: str = "GET", body: bytes = b"") -> Ping:
        return cls("log", None, rid, method, body, explicit=True)

    @classmethod
    def exit_code(
        cls, status: int, *, rid: str | None = None, method: str = "GET", body: bytes = b""
    ) -> Ping:
        """Exit status 0 is a success, anything above it a failure."""
        return cls("success" if status == 0 else "fail", status, rid, method, body, explicit=True)


@dataclass(frozen=True, slots=True)
class Flip:
    """A status change: the outbox entry that notifications are made from."""

    old: Status
    new: Status
    reason: FlipReason

    @property
    def alerts(self) -> bool:
        """Only transitions to and from `down` are alerted."""
        return "down" in (self.old, self.new) and self.old != self.new


@dataclass(frozen=True, slots=True)
class PingOutcome:
    """What applying one ping did: the check after it, what to record, and at most one flip."""

    check: Check
    kind: StoredKind
    duration_ms: int | None = None
    """Set when this ping closed a started run."""
    flip: Flip | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A check's status at a sweep, and what the sweep should write."""

    status: DerivedStatus
    started: bool
    check: Check
    """The check to store: unchanged unless `flip` or `reminder` is set."""
    flip: Flip | None = None
    reminder: bool = False
    due_ms: int | None = None
    """When the next ping is expected (None for new and paused checks)."""
    down_at_ms: int | None = None
    """When the check goes down if nothing arrives: detection lag is measured from here."""
