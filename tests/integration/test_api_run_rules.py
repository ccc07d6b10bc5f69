"""Run rules through the HTTP API, the sweep, the notifier and a webhook: count assertions,
stuck runs, runs slower than usual, and which deadline of an open run comes first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cronbeat import clock
from tests.conftest import Aws
from tests.integration.api_requests import Api
from tests.integration.http_receiver import Receiver
from tests.integration.test_api_maintenance import HOUR_S, Alerts, hooked_check, sweep_at


@dataclass
class Wall:
    """The clock the API and ping handlers read, in whole seconds, moved by the test."""

    now_s: int

    def move(self, seconds: int) -> int:
        """Move the clock on by `seconds`; the new time."""
        self.now_s += seconds
        return self.now_s


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    """A clock that starts at the current second and only moves when the test moves it."""
    fake = Wall(clock.now_ms() // 1000)
    monkeypatch.setattr(clock, "now_ms", lambda: fake.now_s * 1000)
    return fake


def shown(api: Api, code: str) -> dict[str, Any]:
    reply = api.get(f"checks/{code}")
    assert reply.status == 200, reply.text
    check: dict[str, Any] = reply.json()
    return check


def flips(api: Api, code: str) -> list[tuple[str, str]]:
    """The check's flips as (status, reason), newest first."""
    reply = api.get(f"checks/{code}/flips/")
    assert reply.status == 200, reply.text
    return [(flip["status"], flip["reason"]) for flip in reply.json()["flips"]]


def pings(api: Api, code: str) -> list[dict[str, Any]]:
    """The check's pings, newest first."""
    reply = api.get(f"checks/{code}/pings/")
    assert reply.status == 200, reply.text
    listed: list[dict[str, Any]] = reply.json()["pings"]
    return listed


def alert_bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [received.json() for received in receiver.received]


def watched_check(aws: Aws, api: Api, receiver: Receiver, **fields: Any) -> tuple[str, Alerts]:
    """An up check with these fields whose alerts go to the receiver: its uuid, and what
    delivers them."""
    code: str = hooked_check(api, receiver, **fields)["uuid"]
    return code, Alerts(aws, code)


def started_run(api: Api, wall: Wall, code: str, after_s: int) -> int:
    """Start a run `after_s` from now; when it started."""
    start_s = wall.move(after_s)
    assert api.ping(code, "/start").status == 200
    return start_s


# --- count assertions ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["?count=0", "?metric=count:0"])
def test_a_finish_counting_less_than_min_count_goes_down_as_an_assertion(
    aws: Aws, api: Api, receiver: Receiver, query: str
) -> None:
    # Given an up check with a webhook that expects each run to count at least 1
    code, alerts = watched_check(aws, api, receiver, min_count=1)
    # When a finish reports a count of 0
    reply = api.ping(code, query)
    alerts.deliver()
    # Then the ping is taken, and the check is down for the assertion, showing the count
    assert reply.status == 200, reply.text
    now = shown(api, code)
    assert (now["status"], now["status_reason"]) == ("down", "assertion")
    assert (now["last_count"], now["min_count"]) == (0, 1)
    assert flips(api, code)[0] == ("down", "assertion")
    # And the webhook is told why, in words
    [body] = alert_bodies(receiver)
    assert (body["kind"], body["status"], body["reason"]) == ("flip", "down", "assertion")
    assert body["summary"] == "count was 0, expected at least 1"


@pytest.mark.parametrize(
    ("query", "count"), [("?count=1", 1), ("?count=250", 250), ("?metric=count:1", 1)]
)
def test_a_finish_counting_at_least_min_count_keeps_the_check_up(
    aws: Aws, api: Api, receiver: Receiver, query: str, count: int
) -> None:
    # Given an up check with a webhook that expects each run to count at least 1
    code, alerts = watched_check(aws, api, receiver, min_count=1)
    # When a finish reports enough
    reply = api.ping(code, query)
    alerts.deliver()
    # Then the check stays up, shows the count, and nobody is told anything
    assert reply.status == 200, reply.text
    now = shown(api, code)
    assert (now["status"], now["last_count"]) == ("up", count)
    assert flips(api, code) == [("up", "first_ping")]
    assert receiver.received == []


def test_each_pings_count_is_shown_in_the_ping_listing(
    aws: Aws, api: Api, receiver: Receiver
) -> None:
    # Given a check that expects each run to count at least 1
    code = hooked_check(api, receiver, min_count=1)["uuid"]
    # When it gets finishes with counts, a start and a finish without a count
    api.ping(code, "?count=7")
    api.ping(code, "/start")
    api.ping(code, "/0?count=12")
    api.ping(code, "/fail?metric=count:0")
    api.ping(code)
    # Then each ping in the listing carries the count it reported, and the others have none
    listed = pings(api, code)
    assert [(p["type"], p.get("count")) for p in listed] == [
        ("success", None),
        ("fail", 0),
        ("success", 12),
        ("start", None),
        ("success", 7),
        ("success", None),
    ]
    assert ["count" in p for p in listed] == [False, True, True, False, True, False]
    # And the check shows the count of the last finish: none
    assert shown(api, code)["last_count"] is None


@pytest.mark.parametrize(
    "target",
    [
        "?count=-1",
        "?count=abc",
        "?metric=count:x",
        "?count=1.5",
        "?count=1000000000000001",
        "/fail?count=-1",
        "/0?metric=count:-3",
    ],
)
def test_a_bad_count_is_refused_and_nothing_is_stored(
    aws: Aws, api: Api, receiver: Receiver, target: str
) -> None:
    # Given an up check that expects each run to count at least 1, with one ping so far
    code = hooked_check(api, receiver, min_count=1)["uuid"]
    before = shown(api, code)
    assert before["n_pings"] == 1
    # When a ping reports a count that is no whole number in range
    reply = api.ping(code, target)
    # Then it is refused with a 400 saying so
    assert reply.status == 400
    assert "invalid count" in reply.text
    # And nothing was stored: no ping, no count, no change of status
    after = shown(api, code)
    assert after["n_pings"] == 1
    assert (after["status"], after["last_count"]) == ("up", None)
    assert len(pings(api, code)) == 1
    assert flips(api, code) == [("up", "first_ping")]


# --- stuck runs ------------------------------------------------------------------------------


def test_an_open_run_without_progress_for_stuck_after_goes_down_as_stuck(
    aws: Aws, api: Api, receiver: Receiver, wall: Wall
) -> None:
    # Given an up check with a webhook, stuck after the shortest allowed 60 s, with an hour of
    # runtime, and a run started 10 s after its last ping
    code, alerts = watched_check(aws, api, receiver, stuck_after=60, max_runtime=HOUR_S)
    start_s = started_run(api, wall, code, 10)
    assert shown(api, code)["started"] is True
    # When the sweep runs a second before the run has been silent for 60 s
    early = sweep_at(start_s + 59)
    # Then nothing flips
    assert early["flips_written"] == 0
    assert shown(api, code)["status"] == "up"
    # When the sweep runs 60 s after the start
    late = sweep_at(start_s + 60)
    alerts.deliver()
    # Then the check is down as stuck, and the webhook says for how long it was silent
    assert late["flips_written"] == 1
    assert flips(api, code)[0] == ("down", "stuck")
    assert shown(api, code)["status_reason"] == "stuck"
    [body] = alert_bodies(receiver)
    assert (body["kind"], body["status"], body["reason"]) == ("flip", "down", "stuck")
    assert body["summary"] == "started 1 min ago, no progress for 1 min (limit 1 min)"


def test_a_progress_ping_moves_the_stuck_deadline(
    aws: Aws, api: Api, receiver: Receiver, wall: Wall
) -> None:
    # Given a run started 10 s after the last ping, on a check stuck after 60 s
    code, alerts = watched_check(aws, api, receiver, stuck_after=60, max_runtime=HOUR_S)
    start_s = started_run(api, wall, code, 10)
    # When the run reports progress 40 s in
    progress_s = wall.move(40)
    reply = api.ping(code, "/progress")
    # Then the progress is taken and listed, but is no finish: the run is still open
    assert reply.status == 200, reply.text
    assert pings(api, code)[0]["type"] == "progress"
    assert shown(api, code)["started"] is True
    # When the sweep runs at the old stuck deadline, and just before the new one
    at_old = sweep_at(start_s + 60)
    before_new = sweep_at(progress_s + 59)
    # Then nothing flips
    assert (at_old["flips_written"], before_new["flips_written"]) == (0, 0)
    assert shown(api, code)["status"] == "up"
    # When the sweep runs 60 s after the progress
    at_new = sweep_at(progress_s + 60)
    alerts.deliver()
    # Then the run is stuck, and the webhook names both the run time and the silence
    assert at_new["flips_written"] == 1
    assert flips(api, code)[0] == ("down", "stuck")
    [body] = alert_bodies(receiver)
    assert body["reason"] == "stuck"
    assert body["summary"] == "started 1 min 40 s ago, no progress for 1 min (limit 1 min)"


def test_stuck_after_below_the_minimum_period_is_refused(api: Api) -> None:
    # When a check is created with stuck_after of 59 s, and with 60 s
    refused = api.post("checks/", {"name": "etl", "stuck_after": 59})
    created = api.post("checks/", {"name": "etl", "stuck_after": 60})
    # Then the first is a 400 saying it is too small, and the second is kept
    assert refused.status == 400
    assert "stuck_after" in refused.error
    assert "too small" in refused.error
    assert created.status == 201, created.text
    assert created.json()["stuck_after"] == 60


# --- slower than usual -----------------------------------------------------------------------


def timed_runs(api: Api, wall: Wall, code: str, *durations_s: int) -> None:
    """Runs of these durations (start, then a plain success), a minute apart."""
    for took_s in durations_s:
        assert api.ping(code, "/start").status == 200
        wall.move(took_s)
        assert api.ping(code).status == 200
        wall.move(60)


def test_a_slow_run_is_not_judged_before_five_runs_are_known(
    aws: Aws, api: Api, receiver: Receiver, wall: Wall
) -> None:
    # Given a check with slow_factor 2 and its default window that ran 4 times for 10 s
    code, alerts = watched_check(aws, api, receiver, slow_factor=2)
    wall.move(60)
    timed_runs(api, wall, code, 10, 10, 10, 10)
    before = shown(api, code)
    assert (before["slow_factor"], before["slow_window"]) == (2, 20)
    assert before["usual_duration_ms"] is None
    # When a run takes 100 s
    timed_runs(api, wall, code, 100)
    alerts.deliver()
    # Then it is a plain success, and nobody is told
    after = shown(api, code)
    assert (after["status"], after["last_duration_ms"]) == ("up", 100_000)
    assert flips(api, code) == [("up", "first_ping")]
    assert receiver.received == []


def test_a_run_much_slower_than_the_usual_p95_goes_down_as_slower_than_usual(
    aws: Aws, api: Api, receiver: Receiver, wall: Wall
) -> None:
    # Given a check with slow_factor 2 that ran 5 times for 10 s
    code, alerts = watched_check(aws, api, receiver, slow_factor=2)
    wall.move(60)
    timed_runs(api, wall, code, 10, 10, 10, 10, 10)
    assert shown(api, code)["usual_duration_ms"] == 10_000
    # When a run takes exactly twice that
    timed_runs(api, wall, code, 20)
    # Then it is still a success, and the usual p95 is now 20 s
    alerts.deliver()
    assert shown(api, code)["status"] == "up"
    assert shown(api, code)["usual_duration_ms"] == 20_000
    assert receiver.received == []
    # When a run takes 50 s
    timed_runs(api, wall, code, 50)
    alerts.deliver()
    # Then the check is down as slower than usual, and the webhook says by how much
    after = shown(api, code)
    assert (after["status"], after["status_reason"]) == ("down", "slower_than_usual")
    assert after["last_duration_ms"] == 50_000
    assert flips(api, code)[0] == ("down", "slower_than_usual")
    [body] = alert_bodies(receiver)
    assert (body["kind"], body["reason"], body["duration_ms"]) == (
        "flip",
        "slower_than_usual",
        50_000,
    )
    assert "its usual p95 of" in body["summary"]
    assert body["summary"] == "took 50.0 s, 2.5× its usual p95 of 20.0 s"


# --- which deadline of an open run comes first -----------------------------------------------


@dataclass(frozen=True)
class Ordering:
    fields: dict[str, int]
    start_after_s: int
    """When the run starts, after the last ping."""
    down_after_s: int
    """When it goes down, after the last ping."""
    reason: str
    summary: str


ORDERINGS = {
    # Due a day after the last ping: 60 s without progress comes first.
    "stuck": Ordering(
        {"max_runtime": HOUR_S, "stuck_after": 60, "max_duration": 600},
        10,
        70,
        "stuck",
        "started 1 min ago, no progress for 1 min (limit 1 min)",
    ),
    "max_duration": Ordering(
        {"max_runtime": HOUR_S, "stuck_after": 600, "max_duration": 120},
        10,
        130,
        "too_slow",
        "still running after 2 min, longer than its max duration of 2 min",
    ),
    # Due 1 min after the last ping, grace 1 min: the 10 min of runtime outlast the schedule.
    "max_runtime": Ordering(
        {"timeout": 60, "grace": 60, "max_runtime": 600, "stuck_after": 900, "max_duration": 1200},
        10,
        610,
        "run_timeout",
        "started 10 min ago and never finished (limit 10 min)",
    ),
    # A max_runtime (1 min 10 s after the ping) shorter than the schedule's deadline (3 min)
    # never cuts the schedule short: the later of the two is the run's deadline.
    "max_runtime_shorter_than_the_schedule": Ordering(
        {"timeout": 120, "grace": 60, "max_runtime": 60, "stuck_after": 600},
        10,
        180,
        "timeout",
        "no ping for 3 min, expected every 2 min, grace 1 min",
    ),
    # No max_runtime: the schedule's deadline (2 min) comes before the start's grace (2 min 40 s).
    "schedule": Ordering(
        {"timeout": 60, "grace": 60, "stuck_after": 600, "max_duration": 600},
        100,
        120,
        "timeout",
        "no ping for 2 min, expected every 1 min, grace 1 min",
    ),
}


@pytest.mark.parametrize("name", list(ORDERINGS))
def test_the_first_deadline_of_an_open_run_decides_when_and_why_it_goes_down(
    aws: Aws, api: Api, receiver: Receiver, wall: Wall, name: str
) -> None:
    case = ORDERINGS[name]
    # Given a check with these run limits, and a run started after its last ping
    code, alerts = watched_check(aws, api, receiver, **case.fields)
    pinged_s = wall.now_s
    started_run(api, wall, code, case.start_after_s)
    # When the sweep runs a second before the first deadline
    early = sweep_at(pinged_s + case.down_after_s - 1)
    # Then nothing flips
    assert early["flips_written"] == 0
    assert flips(api, code) == [("up", "first_ping")]
    # When the sweep runs at that deadline
    late = sweep_at(pinged_s + case.down_after_s)
    alerts.deliver()
    # Then the check goes down for that deadline's reason, and the webhook says so in words
    assert late["flips_written"] == 1
    assert flips(api, code)[0] == ("down", case.reason)
    [body] = alert_bodies(receiver)
    assert (body["status"], body["reason"]) == ("down", case.reason)
    assert body["summary"] == case.summary
