"""The state machine: what a ping does to a check, and what a sweep at time t finds.

Both are pure functions of (check, input, time) that return what changed and perform no change.
The rules follow Healthchecks.io (`Check.ping`, `Check.get_status`) and add failure and recovery
thresholds, a run-time limit and re-alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from cronbeat.domain.maintenance import is_muted, mute_end_ms
from cronbeat.domain.model import (
    HOUR_S,
    SECOND_MS,
    Check,
    Evaluation,
    Flip,
    FlipReason,
    Ping,
    PingOutcome,
    Status,
    StoredKind,
)
from cronbeat.domain.schedule import due_ms


def keywords(csv: str) -> list[str]:
    """A comma-separated keyword list, without blanks."""
    return [word.strip() for word in csv.split(",") if word.strip()]


def _text_decides(check: Check, text: str) -> StoredKind:
    """With a keyword filter on, the text picks the outcome: failure, then success, then start."""
    for kind, csv in (("fail", check.failure_kw), ("success", check.success_kw)):
        if any(word in text for word in keywords(csv)):
            return kind  # type: ignore[return-value]
    if any(word in text for word in keywords(check.start_kw)):
        return "start"
    return "fail" if check.filter_default_fail else "ign"


def classify(check: Check, ping: Ping) -> StoredKind:
    """The kind this ping is recorded as, after the check's pause, method and keyword filters."""
    if check.status == "paused" and check.manual_resume:
        return "ign"
    if ping.mail is not None:
        # As Healthchecks.io's mail handler: neither the method nor the HTTP body filter applies.
        read = [ping.mail.subject] if check.filter_subject else []
        read += [ping.mail.text] if check.filter_body else []
        return _text_decides(check, "\n".join(read)) if read else ping.action
    if check.methods == "POST" and ping.method != "POST":
        return "ign"
    if check.filter_http_body and not ping.explicit:
        return _text_decides(check, ping.body.decode("utf-8", errors="replace"))
    return ping.action


def _close_run(check: Check, ping: Ping, kind: StoredKind, at_ms: int) -> tuple[Check, int | None]:
    """Close the open run when this finish ends it; return the run's duration if it was its own.

    As Healthchecks.io does: a finish with the start's rid (both None counts) closes the run and
    yields a duration. A failure with another rid, or a success with none, also ends the run, but
    a duration across two runs would be a guess, so there is none. A success with another rid
    belongs to a different run and leaves the start open.
    """
    if check.last_start_ms is None:
        return check, None
    ended = replace(check, last_start_ms=None, last_start_rid=None)
    if ping.rid == check.last_start_rid:
        return ended, at_ms - check.last_start_ms
    if kind == "fail" or ping.rid is None:
        return ended, None
    return check, None


def _flip(check: Check, new: Status, reason: FlipReason, at_ms: int) -> tuple[Check, Flip | None]:
    if new == check.status:
        return check, None
    muted = _held_back(check, new, at_ms)
    flip = Flip(old=check.status, new=new, reason=reason, muted=muted)
    changed = replace(
        check,
        status=new,
        status_since_ms=at_ms,
        status_reason=reason,
        alert_held=new == "down" and muted,
    )
    if new == "down":
        changed = replace(changed, success_streak=0, last_alert_ms=at_ms)
    return changed, flip


def _held_back(check: Check, new: Status, at_ms: int) -> bool:
    """A flip to or from down that nobody is told of: made while muted, or the end of a down
    whose alert is still held (telling of a recovery from a down never told would puzzle)."""
    if "down" not in (check.status, new):
        return False
    if check.status == "down" and check.alert_held:
        return True
    return is_muted(check, at_ms)


def _revived(check: Check) -> tuple[Status, FlipReason]:
    """Where a check that proved alive goes: new and paused checks come up; down stays down."""
    if check.status == "new":
        return "up", "first_ping"
    if check.status == "paused":
        return "up", "resumed"
    return check.status, "recovered"


def apply_ping(check: Check, ping: Ping, at_ms: int) -> PingOutcome:
    """The check after `ping` arrives at `at_ms`, the kind to record, and at most one flip."""
    kind = classify(check, ping)
    counted = replace(check, n_pings=check.n_pings + 1)
    if kind == "ign":
        return PingOutcome(counted, kind)
    if kind in ("log", "progress"):
        # Progress for an open run's stuck deadline; harmless without one (a start clears it).
        return PingOutcome(replace(counted, last_progress_ms=at_ms), kind)
    if kind == "start":
        started = replace(
            counted, last_start_ms=at_ms, last_start_rid=ping.rid, last_progress_ms=None
        )
        return PingOutcome(started, kind)

    closed, duration_ms = _close_run(counted, ping, kind, at_ms)
    finished = replace(
        closed,
        last_ping_ms=at_ms,
        last_exit=ping.exit_status,
        last_duration_ms=duration_ms,
        last_count=ping.count,
        last_progress_ms=closed.last_progress_ms if closed.started else None,
    )
    if kind != "success":
        after, flip = count_failure(finished, "fail", at_ms)
        return PingOutcome(after, kind, duration_ms, flip)
    finished = replace(
        finished, recent_durations_ms=(*check.recent_durations_ms[1:], duration_ms or 0)
    )
    breach = (
        finished.duration_breach(duration_ms)
        or finished.count_breach(ping.count)
        or check.slow_breach(check.recent_durations_ms, duration_ms)
    )
    if breach is not None:
        # A success whose run took too long, too little or longer than usual, or did too
        # little: counted as a failure.
        after, flip = count_failure(finished, breach, at_ms)
        return PingOutcome(after, kind, duration_ms, flip)
    new: Status
    reason: FlipReason
    finished = replace(finished, success_streak=finished.success_streak + 1, failure_streak=0)
    if finished.status == "down":
        recovered = finished.success_streak >= finished.recovery_threshold
        new, reason = ("up", "recovered") if recovered else ("down", "recovered")
    else:
        new, reason = _revived(finished)
    after, flip = _flip(finished, new, reason, at_ms)
    return PingOutcome(after, kind, duration_ms, flip)


def count_failure(finished: Check, reason: FlipReason, at_ms: int) -> tuple[Check, Flip | None]:
    """A finished run that failed (`reason`): the check after it, down once the failures reach
    the threshold."""
    counted = replace(finished, failure_streak=finished.failure_streak + 1, success_streak=0)
    if counted.failure_streak >= counted.failure_threshold:
        return _flip(counted, "down", reason, at_ms)
    new, revived_reason = _revived(counted)
    return _flip(counted, new, revived_reason, at_ms)


def fit_window(check: Check) -> Check:
    """`check` with as many recent durations as its settings keep: the newest are kept, and a
    longer window starts with unknown (0) entries, which the judgement ignores."""
    length, recent = check.window_length, check.recent_durations_ms
    if len(recent) == length:
        return check
    fitted = recent[-length:] if len(recent) > length else (0,) * (length - len(recent)) + recent
    return replace(check, recent_durations_ms=fitted)


def slower_than_usual_after(after: Check) -> bool:
    """Whether the success the read-free path just applied was slower than usual.

    That path appends the run's duration to the window in the same update and hands the item
    back, so the judgement needs no read: the last entry against the ones before it.
    """
    *prior, duration_ms = after.recent_durations_ms
    return after.slow_breach(tuple(prior), duration_ms) is not None


def evaluate(check: Check, at_ms: int) -> Evaluation:
    """The check's status at sweep time `at_ms`, and the flip or reminder to write, if any."""
    started = check.started
    if check.status == "down":
        return _evaluate_down(check, at_ms, started)

    # The due time is computed once: for cron checks it is nearly all of a sweep's CPU.
    due, down_at_ms, reason = _deadlines(check)

    if down_at_ms is not None and at_ms >= down_at_ms:
        after, flip = _flip(check, "down", reason, at_ms)
        return Evaluation("down", started, after, flip, False, due, down_at_ms)
    if check.status in ("new", "paused") or due is None:
        return Evaluation(check.status, started, check, down_at_ms=down_at_ms)
    status: Literal["up", "grace"] = "grace" if at_ms >= due else "up"
    return Evaluation(status, started, check, due_ms=due, down_at_ms=down_at_ms)


def _deadlines(check: Check) -> tuple[int | None, int | None, FlipReason]:
    """When the next ping is due, when the check goes down if nothing arrives, and why."""
    due = (
        due_ms(check, check.last_ping_ms)
        if check.status == "up" and check.last_ping_ms is not None
        else None
    )
    timeout_deadline_ms = due + check.grace_s * SECOND_MS if due is not None else None
    down_at_ms, reason = _down_deadline(check, timeout_deadline_ms)
    return due, down_at_ms, reason


def attention_at_ms(check: Check) -> int | None:
    """The earliest moment a sweep can find something to do for this check: when it goes down,
    or for a down check when its next reminder is owed. None when no moment will come by itself
    (a new or paused check without an open run, a down check without reminders).

    Stored on the item as `alert_at`, so a sweep asks DynamoDB for the checks whose moment has
    passed and parses nothing else. `evaluate` at an earlier moment writes nothing.
    """
    if check.status == "down":
        if check.alert_held:
            # Owed when the muted stretch it went down in ends (mute and windows joined).
            went_down_ms = check.status_since_ms or check.last_alert_ms or 0
            return mute_end_ms(check, went_down_ms) or went_down_ms
        if check.realert_every_s is None or check.last_alert_ms is None:
            return None
        reminder_ms = check.last_alert_ms + check.realert_every_s * SECOND_MS
        return mute_end_ms(check, reminder_ms) or reminder_ms
    return _deadlines(check)[1]


def finish_lead_ms(check: Check) -> int:
    """How long after a success that closes the run its next attention moment is, at least.

    The read-free ping path cannot evaluate a schedule, so it stores `now + this lead` as the
    attention moment: exact for a simple check (timeout + grace), and for a cron or OnCalendar
    check a moment no later than the true one (the next fire is at least "now"), which a sweep
    then corrects once.
    """
    lead_s = check.timeout_s + check.grace_s if check.kind == "simple" else check.grace_s
    return lead_s * SECOND_MS


def _down_deadline(check: Check, schedule_ms: int | None) -> tuple[int | None, FlipReason]:
    """When a silent check goes down, and why.

    | run open? | max_runtime | goes down at |
    | --- | --- | --- |
    | no | any | the schedule's deadline (due + grace) |
    | yes | not set | the earlier of the schedule's deadline and start + grace (Healthchecks.io) |
    | yes | set | the later of the schedule's deadline and start + max_runtime |

    `max_runtime` only ever gives a run more time than the schedule would; `max_duration` is the
    hard limit. With a run open, whichever comes first of the run's deadline, the stuck deadline
    (no ping on the run for `stuck_after`: `stuck`) and `start + max_duration` (`too_slow`)
    decides.
    """
    start = check.last_start_ms
    if start is None:
        return schedule_ms, "timeout"
    run_ms = start + check.runtime_limit_s * SECOND_MS
    at_ms: int = run_ms
    reason: FlipReason = "run_timeout"
    if schedule_ms is not None:
        schedule_decides = (
            schedule_ms < run_ms if check.max_runtime_s is None else schedule_ms > run_ms
        )
        if schedule_decides:
            at_ms, reason = schedule_ms, "timeout"
    stuck_ms = check.stuck_at_ms()
    if stuck_ms is not None and stuck_ms < at_ms:
        at_ms, reason = stuck_ms, "stuck"
    if check.max_duration_s is not None:
        slow_ms = start + check.max_duration_s * SECOND_MS
        if slow_ms < at_ms:
            return slow_ms, "too_slow"
    return at_ms, reason


def _evaluate_down(check: Check, at_ms: int, started: bool) -> Evaluation:
    """A down check stays down until a ping revives it; it may owe a reminder.

    A down that began while muted owes one alert once the mute is over; reminders wait for the
    end of a mute too.
    """
    if check.alert_held:
        if is_muted(check, at_ms):
            return Evaluation("down", started, check)
        owed = replace(check, alert_held=False, last_alert_ms=at_ms)
        return Evaluation("down", started, owed, reminder=True, after_mute=True)
    if check.realert_every_s is None or check.last_alert_ms is None:
        return Evaluation("down", started, check)
    if at_ms < check.last_alert_ms + check.realert_every_s * SECOND_MS:
        return Evaluation("down", started, check)
    if is_muted(check, at_ms):
        return Evaluation("down", started, check)
    return Evaluation("down", started, replace(check, last_alert_ms=at_ms), reminder=True)


RunGuard = Literal["rid_open", "rid_open_or_none", "no_rid_open"]


@dataclass(frozen=True, slots=True)
class FastPath:
    """The facts under which a ping cannot change a check's status, so no read is needed.

    The store turns this into one conditional UpdateItem. When the stored check does not satisfy
    it, the update fails, hands back the item, and the ping takes the general path with
    `apply_ping`. Tests hold `admits` and the store's condition expression to the same answer.
    """

    kind: StoredKind
    status: Status | None
    """The status the check must have (None: any)."""
    not_post_only: bool
    """The ping is not a POST, so the check must not be limited to POST."""
    no_body_filter: bool
    run: RunGuard | None
    """For finishes: a run open with this ping's rid; that or none; no run open with a rid."""
    rid: str | None
    count: int | None = None
    """A finish's reported count: the check's `min_count` must not be above it."""

    def admits(self, check: Check) -> bool:
        """The pure twin of the store's ConditionExpression."""
        if check.status == "paused" and check.manual_resume:
            return False
        if self.status is not None and check.status != self.status:
            return False
        if self.not_post_only and check.methods == "POST":
            return False
        if self.no_body_filter and check.filter_http_body:
            return False
        if self.kind == "success" and check.has_duration_bounds:
            return False  # its duration may breach them: apply_ping decides
        if self.kind == "success" and check.count_breach(self.count) is not None:
            return False
        if self.kind == "success" and check.slow_factor is not None and check.failure_streak:
            return False  # a slow run is corrected after the fact from a streak of 0
        if self.run == "rid_open":
            return check.last_start_ms is not None and check.last_start_rid == self.rid
        if self.run == "rid_open_or_none":
            return check.last_start_ms is None or check.last_start_rid == self.rid
        if self.run == "no_rid_open":
            return check.last_start_rid is None
        return True


def fast_path(ping: Ping) -> FastPath | None:
    """The read-free plan for pings that cannot change the status they expect to find.

    Success on an up check (closing its run when the rid matches or none is given), failure on a
    check already down (the pings of a job failing through an outage), start, and log. A finish
    the plan covers leaves a duration only when it closed a run. Other failures take the general
    path: they usually flip, and a read is cheap next to the alert that follows.
    """
    if ping.mail is not None:
        return None  # rare, and the email filters are not in the plans' conditions
    not_post = ping.method != "POST"
    if ping.action == "start":
        return FastPath("start", None, not_post, False, None, None)
    if ping.action in ("log", "progress"):
        return FastPath(ping.action, None, not_post, False, None, None)
    # A finish closes its own run here: with a rid, the run open with it; without one, a run
    # started without one. Ending another's run leaves no duration, so that takes the general path.
    if ping.action == "success":
        run: RunGuard = "rid_open" if ping.rid is not None else "no_rid_open"
        return FastPath("success", "up", not_post, not ping.explicit, run, ping.rid, ping.count)
    run = "rid_open_or_none" if ping.rid is not None else "no_rid_open"
    return FastPath("fail", "down", not_post, False, run, ping.rid, ping.count)


def pause(check: Check, at_ms: int) -> tuple[Check, Flip | None]:
    """Pause a check by hand: its open run is dropped. No flip when it is already paused."""
    if check.status == "paused":
        return check, None
    paused = replace(
        check,
        status="paused",
        status_since_ms=at_ms,
        status_reason="paused",
        last_start_ms=None,
        last_start_rid=None,
        last_progress_ms=None,
    )
    muted = _held_back(check, "paused", at_ms)
    return paused, Flip(old=check.status, new="paused", reason="paused", muted=muted)


def resume(check: Check, at_ms: int) -> tuple[Check, Flip | None]:
    """Resume a paused check as new: it waits for its next ping, with its streaks and alert
    history cleared. No flip (and no change) when it is not paused."""
    if check.status != "paused":
        return check, None
    resumed = replace(
        check,
        status="new",
        status_since_ms=at_ms,
        status_reason="resumed",
        last_ping_ms=None,
        last_start_ms=None,
        last_start_rid=None,
        last_progress_ms=None,
        failure_streak=0,
        success_streak=0,
        last_alert_ms=None,
    )
    return resumed, Flip(old="paused", new="new", reason="resumed")


def down_since(check: Check, flip: Flip | None, previous_since_ms: int | None) -> int | None:
    """When the check's down time began: the current one, or for a recovery the one it ended.

    `check` is the check after `flip` (None for a reminder); `previous_since_ms` is when the
    status before the flip began. None when the alert is about no down time.
    """
    if check.status == "down":
        return check.status_since_ms
    if flip is not None and flip.old == "down":
        return previous_since_ms
    return None


RUN_PAIRING_LIMIT_MS = 72 * HOUR_S * SECOND_MS
"""A finish further than this from its start is not given a duration (Healthchecks.io's limit)."""


class RunPing(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def rid(self) -> str | None: ...
    @property
    def at_ms(self) -> int: ...


def run_durations(newest_first: Sequence[RunPing]) -> dict[int, int | None]:
    """Each finish's run duration, found by its rid among the pings listed, keyed by position.

    The check item remembers one open run, so when runs overlap the earlier finish was stored
    without a duration; its start is still in the history. A finish pairs with the latest start
    of the same rid (no rid pairs with no rid) that no finish of that rid has closed. Finishes
    whose start is not among the pings are left out, so the stored duration stands for them.
    """
    starts: dict[str | None, int | None] = {}
    durations: dict[int, int | None] = {}
    for position in range(len(newest_first) - 1, -1, -1):
        ping = newest_first[position]
        if ping.kind == "start":
            starts[ping.rid] = ping.at_ms
        elif ping.kind in ("success", "fail"):
            if ping.rid in starts:
                start_ms = starts[ping.rid]
                took = None if start_ms is None else ping.at_ms - start_ms
                durations[position] = (
                    took if took is not None and took < RUN_PAIRING_LIMIT_MS else None
                )
            starts[ping.rid] = None
    return durations
