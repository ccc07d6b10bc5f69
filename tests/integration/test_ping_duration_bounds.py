"""Duration bounds through the real write path: a too-slow run is stored, counted and flipped."""

from __future__ import annotations

from cronbeat.domain.model import Check, Ping, Sender
from tests.conftest import Aws
from tests.integration.ping_requests import (
    CHECK_ID,
    flips,
    history,
    ping_service,
    put_check,
    stored_check,
)

T0 = 1_767_225_600_000


def test_a_too_slow_run_is_recorded_as_run_and_flips_the_check_down(aws: Aws) -> None:
    # Given an up check whose runs may take 10 minutes at most
    put_check(aws, Check(id=CHECK_ID, name="etl", status="up", last_ping_ms=T0, max_duration_s=600))
    service = ping_service(aws)
    # When a run starts and succeeds 14 minutes later
    service.apply(CHECK_ID, Ping.start(rid="r"), T0 + 1000, Sender())
    outcome = service.apply(CHECK_ID, Ping.success(rid="r"), T0 + 1000 + 14 * 60_000, Sender())
    # Then the ping is stored as the success it was, with its duration
    assert outcome is not None
    assert [item["kind"]["S"] for item in history(aws)] == ["start", "success"]
    # And the check went down as too slow, in one flip
    check = stored_check(aws)
    assert (check.status, check.last_duration_ms, check.failure_streak) == ("down", 840_000, 1)
    assert [item["reason"]["S"] for item in flips(aws)] == ["too_slow"]
