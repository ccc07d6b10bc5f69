"""The store's expressions and the pure domain give the same answers, for random checks and pings.

The fast path's ConditionExpression must hold exactly when `FastPath.admits` says so, and its
UpdateExpression must leave the check `apply_ping` computes. The general path must store what
`apply_ping` says, with the history item and the flip it implies.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cronbeat.domain.machine import apply_ping, attention_at_ms, fast_path
from cronbeat.domain.model import Check, Ping, Sender
from cronbeat.store.checks import NEVER_MS, CheckRepository, StoredCheck
from cronbeat.store.codec import from_item
from tests.conftest import Aws
from tests.integration.ping_requests import flips, history, ping_service, store

T0 = 1_767_225_600_000
RIDS = ("3f2b8c1e-9d4a-4e7b-8c6d-5a1f0e2d3b4c", "0b6c2d1e-7f3a-4c5b-8d9e-1a2b3c4d5e6f")
SENDER = Sender(scheme="https", remote_addr="203.0.113.7", ua="curl/8.5.0")
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

small = st.integers(min_value=0, max_value=5)
maybe_time = st.none() | st.integers(min_value=T0 - 10_000_000, max_value=T0 - 1)
maybe_rid = st.none() | st.sampled_from(RIDS)
keywords = st.sampled_from(["", "ok", "ERROR", "begin"])
mostly_false = st.sampled_from([False, False, False, True])
"""The common case (no filters, not paused) most of the time, so every branch gets examples."""

checks = st.builds(
    Check,
    id=st.just(""),
    status=st.sampled_from(["up", "up", "up", "new", "down", "paused"]),
    status_since_ms=maybe_time,
    last_ping_ms=maybe_time,
    last_start_ms=st.none() | st.none() | maybe_time,
    last_start_rid=maybe_rid,
    last_exit=st.none() | st.integers(min_value=0, max_value=255),
    last_duration_ms=st.none() | st.integers(min_value=1, max_value=10_000),
    n_pings=small,
    failure_streak=small,
    success_streak=small,
    failure_threshold=st.integers(min_value=1, max_value=3),
    recovery_threshold=st.integers(min_value=1, max_value=3),
    manual_resume=mostly_false,
    methods=st.sampled_from(["", "", "", "POST"]),
    filter_http_body=mostly_false,
    filter_default_fail=st.booleans(),
    min_duration_s=st.sampled_from([None, None, None, 5]),
    max_duration_s=st.sampled_from([None, None, None, 2]),
    success_kw=keywords,
    failure_kw=keywords,
    start_kw=keywords,
).map(
    # A run id exists only with its open run: every start sets both, every close clears both.
    lambda check: check if check.last_start_ms is not None else replace(check, last_start_rid=None)
)


def _pings(actions: list[str]) -> st.SearchStrategy[Ping]:
    def build(action: str, rid: str | None, method: str, body: bytes) -> Ping:
        if action.isdigit():
            return Ping.exit_code(int(action), rid=rid, method=method, body=body)
        factory: Any = getattr(Ping, action)
        built: Ping = factory(rid=rid, method=method, body=body)
        return built

    return st.builds(
        build,
        st.sampled_from(actions),
        st.sampled_from([None, None, *RIDS]),
        st.sampled_from(["GET", "POST", "HEAD"]),
        st.sampled_from([b"", b"all ok", b"ERROR: disk full", b"begin \xff\xfe"]),
    )


fast_pings = _pings(["success", "success", "0", "start", "log"])
any_pings = _pings(["fail", "success", "1", "0", "start", "log", "255"])


def _stored(aws: Aws, check: Check) -> tuple[Check, CheckRepository]:
    """Store `check` under a fresh id (each example gets its own item)."""
    check = replace(check, id=str(uuid.uuid4()))
    checks_store = store(aws)
    checks_store.create(check, None)
    return check, checks_store


def _common(check: Check, ping: Ping) -> Check:
    """`check` moved into the common case for `ping`: up, unfiltered, its run (if any) open."""
    return replace(
        check,
        status="up",
        manual_resume=False,
        methods="",
        filter_http_body=False,
        last_start_ms=None if ping.rid is None else T0 - 5_000,
        last_start_rid=ping.rid,
    )


NEAR_MISSES: dict[str, dict[str, Any]] = {
    "new": {"status": "new"},
    "down": {"status": "down"},
    "paused by hand": {"status": "paused", "manual_resume": True},
    "post only": {"methods": "POST"},
    "body filter": {"filter_http_body": True},
    "run open": {"last_start_ms": T0 - 5_000},
    "run open, no rid": {"last_start_ms": T0 - 5_000, "last_start_rid": None},
    "run of another rid": {"last_start_ms": T0 - 5_000, "last_start_rid": "other"},
    "no run": {"last_start_ms": None},
}
"""One guard at a time broken on a common-case check, so every clause of the condition is tried."""

shapes = st.sampled_from(["random", "common", *NEAR_MISSES])


@SETTINGS
@given(check=checks, ping=fast_pings, shape=shapes)
def test_fast_path_update_applies_iff_the_domain_admits_it(
    aws: Aws, check: Check, ping: Ping, shape: str
) -> None:
    # Given a stored check in a random state, the common case, or one guard short of it,
    # and a ping that has a fast path
    if shape != "random":
        check = replace(_common(check, ping), **NEAR_MISSES.get(shape, {}))
    check, checks_store = _stored(aws, check)
    plan = fast_path(ping)
    assert plan is not None
    # When the fast-path update is tried
    result = checks_store.update_fast(check.id, plan, ping, T0)
    # Then DynamoDB's condition agrees with the domain's guard
    event(f"{plan.kind} {'applied' if result.applied else 'refused'}")
    assert result.applied == plan.admits(check)
    assert result.stored is not None
    if result.applied:
        # And the stored check is exactly what apply_ping computes, one revision on
        expected = apply_ping(check, ping, T0)
        assert expected.flip is None
        assert result.stored == StoredCheck(expected.check, 2)
        # And the moment it stores for the sweep's filter is never later than the exact one
        # (a run left open is read by every sweep whatever its moment)
        exact = attention_at_ms(expected.check)
        stored_at = result.stored.alert_at_ms
        assert stored_at is not None
        if not expected.check.started:
            assert stored_at <= (NEVER_MS if exact is None else exact)
        if plan.kind == "success" and check.kind == "simple":
            assert stored_at == exact
    else:
        # And a refusal hands back the stored check untouched
        assert result.stored == StoredCheck(check, 1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(check=checks, ping=any_pings)
def test_recorded_pings_store_what_apply_ping_says(aws: Aws, check: Check, ping: Ping) -> None:
    # Given a stored check in a random state
    check, checks_store = _stored(aws, check)
    # When any ping is recorded, by whichever path
    outcome = ping_service(aws).apply(check.id, ping, T0, SENDER)
    # Then the outcome, the stored check, the history and the flips are apply_ping's
    expected = apply_ping(check, ping, T0)
    event(f"{expected.kind} {'flip' if expected.flip else 'no flip'}")
    assert outcome == expected
    found = checks_store.get(check.id)
    assert found == StoredCheck(expected.check, 2)
    [ping_item] = history(aws, check.id)
    assert ping_item["n"] == {"N": str(expected.check.n_pings)}
    assert ping_item["kind"] == {"S": expected.kind}
    assert ("duration" in ping_item) == (expected.duration_ms is not None)
    stored_flips = flips(aws, check.id)
    if expected.flip is None:
        assert stored_flips == []
    else:
        [flip] = stored_flips
        assert (flip["old"]["S"], flip["new"]["S"], flip["reason"]["S"]) == (
            expected.flip.old,
            expected.flip.new,
            expected.flip.reason,
        )
        assert flip["sk"]["S"].endswith("#2")
        assert from_item(flip["check"]["M"]) == expected.check
        since = check.status_since_ms
        assert flip.get("previous_since") == (None if since is None else {"N": str(since)})
