"""The check, the ping and the flip: plain frozen dataclasses, cheap to import on the ping path.

Timestamps are epoch milliseconds (`*_ms`), periods are whole seconds (`*_s`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Status = Literal["new", "up", "down", "paused"]
"""Stored statuses. `grace` and `started` are derived at evaluation time."""

DerivedStatus = Literal["new", "up", "grace", "down", "paused"]

Kind = Literal["simple", "cron", "oncalendar"]

PingAction = Literal["success", "start", "fail", "log", "progress"]
"""What the URL asked for: `/start`, `/fail`, `/log`, `/progress`; an exit code maps to success
or fail."""

StoredKind = Literal["success", "start", "fail", "log", "progress", "ign"]
"""What the history records; `ign` is a ping the check's filters ignored."""

FlipReason = Literal[
    "first_ping",
    "timeout",
    "fail",
    "run_timeout",
    "recovered",
    "paused",
    "resumed",
    "too_fast",
    "too_slow",
    "slower_than_usual",
    "assertion",
    "stuck",
]

SECOND_MS = 1000
MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86400

DEFAULT_TIMEOUT_S = DAY_S
DEFAULT_GRACE_S = HOUR_S
MAX_PERIOD_S = 365 * DAY_S
MAX_SLUG_LENGTH = 100
DEFAULT_SLOW_WINDOW = 20
SLOW_MIN_RUNS = 5
"""Fewer known durations than this, and a run is not judged slower than usual."""


def slug_from_name(name: str) -> str:
    """The slug API v1 and v2 give a check from its name, by the rule Healthchecks.io follows.

    Accents are dropped, anything but letters, digits, `_`, `-` and spaces goes, runs of spaces
    and hyphens become one hyphen, and leading or trailing hyphens and underscores are trimmed.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    kept_chars = re.sub(r"[^\w\s-]", "", ascii_name.lower())
    # Decomposition can lengthen a name ("㍱" is "hPa"), so the slug is cut to the slug limit.
    return re.sub(r"[-\s]+", "-", kept_chars).strip("-_")[:MAX_SLUG_LENGTH].strip("-_")


def kept(*, stored: str = "", scanned: bool = False, api: str = "") -> dict[str, Any]:
    """How a Check field is kept: the one declaration the store and the API derive from.

    - `stored`: the item's attribute name, when it differs from the field's (units live in the
      domain names, the item keeps the short names of docs/architecture.md);
    - `scanned`: the sweep reads it (evaluation needs it, or an alert shows it);
    - `api`: the management API's name for it, when the API copies it in and out as it is.
    """
    return {"stored": stored, "scanned": scanned, "api": api}


@dataclass(frozen=True, slots=True)
class Check:
    """One monitored job, as the scanner and the ping path see it."""

    id: str = field(metadata=kept(scanned=True))
    name: str = field(default="", metadata=kept(scanned=True, api="name"))
    slug: str = field(default="", metadata=kept(scanned=True, api="slug"))
    tags: str = field(default="", metadata=kept(scanned=True, api="tags"))
    """Space-separated, as Healthchecks.io keeps them."""
    desc: str = field(default="", metadata=kept(api="desc"))
    kind: Kind = field(default="simple", metadata=kept(scanned=True))
    timeout_s: int = field(default=DEFAULT_TIMEOUT_S, metadata=kept(stored="timeout", scanned=True))
    grace_s: int = field(
        default=DEFAULT_GRACE_S, metadata=kept(stored="grace", scanned=True, api="grace")
    )
    schedule: str = field(default="* * * * *", metadata=kept(scanned=True))
    tz: str = field(default="UTC", metadata=kept(scanned=True, api="tz"))
    status: Status = field(default="new", metadata=kept(scanned=True))
    status_since_ms: int | None = field(
        default=None, metadata=kept(stored="status_since", scanned=True)
    )
    """When the current status began: how long a recovered check was down."""
    status_reason: str = field(default="", metadata=kept(stored="why", scanned=True))
    """Why the status last changed (the flip's reason: `fail`, `timeout`, `run_timeout`, ...),
    so a reply can say why a check is down without reading its flips."""
    last_ping_ms: int | None = field(default=None, metadata=kept(stored="last_ping", scanned=True))
    last_start_ms: int | None = field(
        default=None, metadata=kept(stored="last_start", scanned=True)
    )
    """Set while a run is open (a `/start` not yet closed by a finish)."""
    last_start_rid: str | None = None
    last_exit: int | None = field(default=None, metadata=kept(scanned=True))
    last_duration_ms: int | None = field(
        default=None, metadata=kept(stored="last_duration", scanned=True)
    )
    n_pings: int = 0
    failure_streak: int = field(default=0, metadata=kept(scanned=True))
    success_streak: int = 0
    max_runtime_s: int | None = field(
        default=None, metadata=kept(stored="max_runtime", scanned=True, api="max_runtime")
    )
    """How long a started run may take; None means the grace period."""
    min_duration_s: int | None = field(
        default=None, metadata=kept(stored="min_duration", api="min_duration")
    )
    """A finished run shorter than this counts as a failure (`too_fast`); None: no bound."""
    max_duration_s: int | None = field(
        default=None, metadata=kept(stored="max_duration", scanned=True, api="max_duration")
    )
    """A run longer than this counts as a failure (`too_slow`), and an open run past it is down
    at once; None: no bound."""
    slow_factor: float | None = field(default=None, metadata=kept(api="slow_factor"))
    """A finished run slower than this × the p95 of the last `slow_window` durations counts as
    a failure (`slower_than_usual`), once at least SLOW_MIN_RUNS are known; None: off."""
    slow_window: int = field(default=DEFAULT_SLOW_WINDOW, metadata=kept(api="slow_window"))
    recent_durations_ms: tuple[int, ...] = field(default=(0,), metadata=kept(stored="durs"))
    """The last successful finishes' durations, oldest first, 0 where a finish closed no run:
    `slow_window` + 1 of them while `slow_factor` is set (the read-free path appends one and
    drops the oldest, and judges against the rest), else only the last."""
    min_count: int | None = field(default=None, metadata=kept(api="min_count"))
    """A finish reporting a count below this counts as a failure (`assertion`); None: no
    assertion. A finish that reports no count is not judged."""
    last_count: int | None = field(default=None, metadata=kept(stored="count", scanned=True))
    """The count the last finish reported, for the alert and the API."""
    stuck_after_s: int | None = field(
        default=None, metadata=kept(stored="stuck_after", scanned=True, api="stuck_after")
    )
    """An open run with no ping on it for this long is down (`stuck`); None: no limit."""
    last_progress_ms: int | None = field(
        default=None, metadata=kept(stored="progress", scanned=True)
    )
    """The last `/log` or `/progress` while a run is open: the stuck deadline runs from here."""
    failure_threshold: int = field(default=1, metadata=kept(scanned=True, api="failure_threshold"))
    recovery_threshold: int = field(default=1, metadata=kept(api="recovery_threshold"))
    realert_every_s: int | None = field(
        default=None, metadata=kept(stored="realert_every", scanned=True, api="realert_every")
    )
    last_alert_ms: int | None = field(
        default=None, metadata=kept(stored="last_alert_at", scanned=True)
    )
    manual_resume: bool = field(default=False, metadata=kept(api="manual_resume"))
    methods: str = field(default="", metadata=kept(api="methods"))
    """`""` accepts any method; `"POST"` ignores every other method."""
    filter_http_body: bool = field(default=False, metadata=kept(api="filter_http_body"))
    """Ping bodies sent over HTTP are matched against the keywords."""
    filter_subject: bool = field(default=False, metadata=kept(api="filter_subject"))
    filter_body: bool = field(default=False, metadata=kept(api="filter_body"))
    """The subject and body of pings by email are matched against the keywords."""
    success_kw: str = field(default="", metadata=kept(api="success_kw"))
    failure_kw: str = field(default="", metadata=kept(api="failure_kw"))
    start_kw: str = field(default="", metadata=kept(api="start_kw"))
    filter_default_fail: bool = field(default=False, metadata=kept(api="filter_default_fail"))
    channels: str = field(default="", metadata=kept(scanned=True))
    """Comma-separated channel ids that receive this check's alerts."""
    created_ms: int | None = field(default=None, metadata=kept(stored="created"))
    badge_key: str = ""
    """The random key of the check's public badge URL; it reveals nothing of the check's id."""
    muted_until_ms: int | None = field(
        default=None, metadata=kept(stored="muted_until", scanned=True)
    )
    """Alerts are muted until this moment (`POST .../mute`); flips are still recorded."""
    maintenance: str = field(default="", metadata=kept(scanned=True))
    """Recurring windows that mute alerts, in the check's zone: `cron=seconds` pairs joined by
    `;` (`domain/maintenance.py`), so the item stays small and the attribute absent when empty."""
    alert_held: bool = field(default=False, metadata=kept(stored="held", scanned=True))
    """The check went down while muted and nobody was told: one alert is owed when the mute ends,
    and a recovery before that tells no one either."""
    last_request: str = field(default="", metadata=kept(stored="last_req"))
    """The request id of the last ping written: a write the SDK retries after it committed
    finds its own id here and is not applied twice."""

    @property
    def started(self) -> bool:
        """A run is open: a start ping has not been closed by a finish."""
        return self.last_start_ms is not None

    @property
    def runtime_limit_s(self) -> int:
        return self.max_runtime_s if self.max_runtime_s is not None else self.grace_s

    @property
    def has_duration_bounds(self) -> bool:
        return self.min_duration_s is not None or self.max_duration_s is not None

    def duration_breach(self, duration_ms: int | None) -> FlipReason | None:
        """`too_fast` or `too_slow` when a finished run's duration is outside the bounds."""
        if duration_ms is None:
            return None
        if self.max_duration_s is not None and duration_ms > self.max_duration_s * SECOND_MS:
            return "too_slow"
        if self.min_duration_s is not None and duration_ms < self.min_duration_s * SECOND_MS:
            return "too_fast"
        return None

    @property
    def window_length(self) -> int:
        """How many durations the check keeps: its window and the run being judged."""
        return self.slow_window + 1 if self.slow_factor is not None else 1

    def usual_p95_ms(self, prior: tuple[int, ...]) -> int | None:
        """The p95 (nearest rank) of the known durations among the last `slow_window` of
        `prior`; None when fewer than SLOW_MIN_RUNS are known."""
        known = sorted(d for d in prior[-self.slow_window :] if d > 0)
        if len(known) < SLOW_MIN_RUNS:
            return None
        return known[math.ceil(0.95 * len(known)) - 1]

    def slow_breach(self, prior: tuple[int, ...], duration_ms: int | None) -> FlipReason | None:
        """`slower_than_usual` when a run took more than `slow_factor` × its usual p95."""
        if self.slow_factor is None or not duration_ms:
            return None
        usual = self.usual_p95_ms(prior)
        if usual is None or duration_ms <= self.slow_factor * usual:
            return None
        return "slower_than_usual"

    def count_breach(self, count: int | None) -> FlipReason | None:
        """`assertion` when a finish reported a count below `min_count`."""
        if count is None or self.min_count is None:
            return None
        return "assertion" if count < self.min_count else None

    def stuck_at_ms(self) -> int | None:
        """When the open run is stuck if nothing arrives: its last progress (or its start) plus
        `stuck_after`; None when no run is open or there is no limit."""
        if self.last_start_ms is None or self.stuck_after_s is None:
            return None
        since = max(self.last_start_ms, self.last_progress_ms or 0)
        return since + self.stuck_after_s * SECOND_MS

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()

    @property
    def channel_ids(self) -> list[str]:
        return [c for c in self.channels.split(",") if c]


STORED_NAMES: dict[str, str] = {f.name: f.metadata.get("stored") or f.name for f in fields(Check)}
"""Check field → item attribute."""
SCANNED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Check) if f.metadata.get("scanned"))
"""What the sweep reads: evaluation's inputs and what an alert shows."""
API_FIELDS: dict[str, str] = {
    f.metadata["api"]: f.name for f in fields(Check) if f.metadata.get("api")
}
"""API name → Check field, for the fields the management API copies in and out as they are."""


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
    mail: Mail | None = None
    """Set for a ping by email: its subject and text, for the subject and body filters."""
    count: int | None = None
    """What the job reported doing (`?count=N`): judged against the check's `min_count`."""
    attempt: int | None = None
    attempts: int | None = None
    """The wrapper's retries: this run finished on `attempt` of at most `attempts`."""

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
    def progress(cls, *, rid: str | None = None, method: str = "GET", body: bytes = b"") -> Ping:
        return cls("progress", None, rid, method, body, explicit=True)

    @classmethod
    def exit_code(
        cls, status: int, *, rid: str | None = None, method: str = "GET", body: bytes = b""
    ) -> Ping:
        """Exit status 0 is a success, anything above it a failure."""
        return cls("success" if status == 0 else "fail", status, rid, method, body, explicit=True)


@dataclass(frozen=True, slots=True)
class Mail:
    """What the email filters read of a mail: its subject, and its text (plain, then HTML)."""

    subject: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a ping, as the history records it."""

    scheme: str = "http"
    remote_addr: str = ""
    ua: str = ""


@dataclass(frozen=True, slots=True)
class Flip:
    """A status change: the outbox entry that notifications are made from."""

    old: Status
    new: Status
    reason: FlipReason
    muted: bool = False
    """Made while alerts were muted (a mute or a maintenance window): recorded, never sent."""

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
    after_mute: bool = False
    """The reminder is the one alert owed for a down that began while muted."""
