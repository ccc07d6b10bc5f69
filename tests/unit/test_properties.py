"""Properties of the state machine that must hold for every check, ping and instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbeat.domain.machine import apply_ping, attention_at_ms, evaluate, fast_path
from cronbeat.domain.model import Check, Ping
from cronbeat.domain.schedule import next_fire_ms
from tests.unit.checks import SECOND, T0, make_check

RIDS = st.sampled_from([None, "r1", "r2"])
TIMES = st.integers(min_value=T0, max_value=T0 + 400 * 86_400_000)
BODIES = st.sampled_from([b"", b"ok", b"ERROR", b"begin", b"\xff\xfe"])


@st.composite
def checks(draw: st.DrawFn) -> Check:
    started = draw(st.booleans())
    return make_check(
        status=draw(st.sampled_from(["new", "up", "down", "paused"])),
        timeout_s=draw(st.integers(60, 86_400)),
        grace_s=draw(st.integers(60, 86_400)),
        last_ping_ms=draw(st.one_of(st.none(), st.just(T0))),
        last_start_ms=T0 if started else None,
        last_start_rid=draw(RIDS) if started else None,
        failure_threshold=draw(st.integers(1, 3)),
        recovery_threshold=draw(st.integers(1, 3)),
        failure_streak=draw(st.integers(0, 3)),
        success_streak=draw(st.integers(0, 3)),
        manual_resume=draw(st.booleans()),
        methods=draw(st.sampled_from(["", "POST"])),
        filter_http_body=draw(st.booleans()),
        success_kw="ok",
        failure_kw="ERROR",
        start_kw="begin",
        filter_default_fail=draw(st.booleans()),
        realert_every_s=draw(st.one_of(st.none(), st.integers(60, 86_400))),
        last_alert_ms=draw(st.one_of(st.none(), st.just(T0))),
    )


@st.composite
def pings(draw: st.DrawFn) -> Ping:
    method = draw(st.sampled_from(["GET", "POST", "HEAD"]))
    rid, body = draw(RIDS), draw(BODIES)
    maker = draw(st.sampled_from(["success", "start", "fail", "log", "exit"]))
    if maker == "exit":
        return Ping.exit_code(draw(st.integers(0, 255)), rid=rid, method=method, body=body)
    factory = {"success": Ping.success, "start": Ping.start, "fail": Ping.fail, "log": Ping.log}
    return factory[maker](rid=rid, method=method, body=body)


@given(check=checks(), ping=pings(), at_ms=TIMES)
def test_a_ping_flips_exactly_when_the_status_changes(check: Check, ping: Ping, at_ms: int) -> None:
    # Given any check and any ping, When the ping is applied
    outcome = apply_ping(check, ping, at_ms)
    # Then there is a flip iff the status changed, and the flip names both statuses
    changed = outcome.check.status != check.status
    assert (outcome.flip is not None) == changed
    if outcome.flip is not None:
        assert (outcome.flip.old, outcome.flip.new) == (check.status, outcome.check.status)
    assert outcome.check.n_pings == check.n_pings + 1


@given(check=checks(), at_ms=TIMES)
def test_a_sweep_flips_exactly_when_the_status_changes(check: Check, at_ms: int) -> None:
    result = evaluate(check, at_ms)
    changed = result.check.status != check.status
    assert (result.flip is not None) == changed
    if result.flip is not None:
        assert result.flip.new == "down"
        assert result.flip.reason in ("timeout", "run_timeout")
        assert result.down_at_ms is not None
        assert result.down_at_ms <= at_ms
    assert not (result.flip is not None and result.reminder)


@given(
    timeout_s=st.integers(60, 7 * 86_400),
    grace_s=st.integers(60, 86_400),
    gaps=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
    probe=st.floats(0.0, 1.0, exclude_max=True),
)
def test_a_check_pinged_within_its_timeout_never_goes_down(
    timeout_s: int, grace_s: int, gaps: list[float], probe: float
) -> None:
    # Given a simple check that is pinged at most one timeout apart
    check = make_check(timeout_s=timeout_s, grace_s=grace_s)
    now = T0
    for gap in gaps:
        now += int(gap * timeout_s * SECOND)
        check = apply_ping(check, Ping.success(), now).check
        # When a sweep runs at any moment before the next ping could be late past grace
        sweep = now + int(probe * (timeout_s + grace_s) * SECOND)
        result = evaluate(check, sweep)
        # Then the check is never down and no flip is written
        assert result.status in ("up", "grace")
        assert result.flip is None


FIXED_ZONES = st.sampled_from(["UTC", "Asia/Tokyo", "Asia/Kolkata", "America/Phoenix"])


@given(
    minutes=st.sets(st.integers(0, 59), min_size=1, max_size=3),
    hours=st.one_of(st.none(), st.sets(st.integers(0, 23), min_size=1, max_size=3)),
    weekdays=st.one_of(st.none(), st.sets(st.integers(0, 6), min_size=1, max_size=3)),
    tz=FIXED_ZONES,
    last_ms=TIMES,
)
@settings(max_examples=200)
def test_cron_due_time_is_strictly_after_the_last_ping_and_matches_the_schedule(
    minutes: set[int], hours: set[int] | None, weekdays: set[int] | None, tz: str, last_ms: int
) -> None:
    # Given a cron expression in a zone without DST
    def field(values: set[int] | None) -> str:
        return "*" if values is None else ",".join(map(str, sorted(values)))

    expression = f"{field(minutes)} {field(hours)} * * {field(weekdays)}"
    # When the next fire after the last ping is computed
    due = next_fire_ms(expression, tz, last_ms)
    # Then it is strictly later, on a whole minute, and its local time matches every field
    assert due > last_ms
    local = datetime.fromtimestamp(due / 1000, tz=UTC).astimezone(ZoneInfo(tz))
    assert local.second == 0
    assert local.minute in minutes
    assert hours is None or local.hour in hours
    assert weekdays is None or local.isoweekday() % 7 in weekdays
    # And it is the earliest matching minute, found here by brute force over the candidates
    assert due == _earliest_match(minutes, hours, weekdays, ZoneInfo(tz), last_ms)


def _earliest_match(
    minutes: set[int], hours: set[int] | None, weekdays: set[int] | None, zone: ZoneInfo, after: int
) -> int:
    start = datetime.fromtimestamp(after / 1000, tz=UTC).astimezone(zone)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(9):
        if weekdays is None or day.isoweekday() % 7 in weekdays:
            for hour in sorted(hours if hours is not None else range(24)):
                for minute in sorted(minutes):
                    candidate = int(day.replace(hour=hour, minute=minute).timestamp() * 1000)
                    if candidate > after:
                        return candidate
        day = day + timedelta(days=1)
    raise AssertionError("no fire within 9 days")


@given(check=checks(), ping=pings(), at_ms=TIMES)
def test_a_fast_path_ping_never_changes_status(check: Check, ping: Ping, at_ms: int) -> None:
    # Given a ping with a read-free plan, When the check satisfies the plan's guard
    plan = fast_path(ping)
    if plan is None or not plan.admits(check):
        return
    outcome = apply_ping(check, ping, at_ms)
    # Then the state machine agrees: no flip, and the kind the plan records
    assert outcome.flip is None
    assert outcome.kind == plan.kind


@given(check=checks(), at_ms=TIMES)
def test_a_sweep_before_the_checks_moment_finds_nothing_to_do(check: Check, at_ms: int) -> None:
    # Given any check, and its attention moment (what the sweep's filter is asked about)
    moment = attention_at_ms(check)
    # When a sweep evaluates it at any instant
    result = evaluate(check, at_ms)
    acted = result.flip is not None or result.reminder
    # Then it acts only once the moment has come, so filtering on the moment loses nothing
    if acted:
        assert moment is not None
        assert at_ms >= moment
    # And at the moment itself, it acts: the moment is not merely early
    if moment is not None:
        at_moment = evaluate(check, moment)
        assert at_moment.flip is not None or at_moment.reminder
