"""A mass outage's flips share transactions: one lost race costs the others nothing, and every
flip is written once."""

from __future__ import annotations

import time

from cronbeat import runtime
from cronbeat.domain.machine import evaluate
from cronbeat.service.sweep import Owed, Stage, SweepWrites, sweep
from cronbeat.store.checks import CheckWrite, StoredCheck
from tests.conftest import Aws
from tests.integration.outbox import HOUR, at, outbox, put_check, simple_check, stored
from tests.integration.ping_requests import dynamodb_calls

T = at("2026-03-02 12:00")


def not_expected(check_id: str, stage: Stage, error: BaseException | str) -> None:
    raise AssertionError(f"check {check_id} failed to {stage}: {error!r}")


def writes() -> SweepWrites:
    stores = runtime.stores()
    return SweepWrites(stores.checks, stores.history)


def test_a_lost_race_in_a_shared_transaction_leaves_the_others_written(aws: Aws) -> None:
    # Given 25 overdue checks the sweep read at revision 3, one of which a ping has since moved
    checks = [put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR)) for _ in range(25)]
    moved = checks[11]
    put_check(aws, moved, rev=4)
    owed = [Owed(check, 3, evaluate(check, T)) for check in checks]
    # When their flips are written together
    with dynamodb_calls() as calls:
        results = writes().write_owed(owed, T)
    # Then the moved check lost, and the other 24 were written in a second transaction
    assert results == [check is not moved for check in checks]
    assert [call.operation for call in calls] == ["TransactWriteItems"] * 2
    assert {item["pk"]["S"] for item in outbox(aws)} == {c.id for c in checks if c is not moved}
    # And the moved check is as the ping left it
    after, rev, _ = stored(aws, moved.id)
    assert (after.status, rev) == ("up", 4)


def test_a_mass_outage_is_written_in_few_transactions_and_each_flip_once(aws: Aws) -> None:
    # Given 120 overdue checks
    checks = [put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR)) for _ in range(120)]
    scanned = [StoredCheck(check, 3) for check in checks]
    # When one sweep writes their flips
    with dynamodb_calls() as calls:
        report = sweep(scanned, writes(), T, timer=time.perf_counter, on_failure=not_expected)
    # Then every check has exactly one flip, and far fewer round trips than flips were made
    assert (report.flips, report.conflicts, report.unwritten) == (120, 0, 0)
    flipped = [item["pk"]["S"] for item in outbox(aws)]
    assert sorted(flipped) == sorted(check.id for check in checks)
    transactions = [call for call in calls if call.operation == "TransactWriteItems"]
    assert len(transactions) <= 120 // 4
    assert all(len(call.params["TransactItems"]) <= 100 for call in transactions)
    # And every check is down at the next revision
    for check in checks:
        after, rev, _ = stored(aws, check.id)
        assert (after.status, rev) == ("down", 4)


def test_a_write_that_changes_nothing_shares_no_transaction_and_counts_as_written(
    aws: Aws,
) -> None:
    # Given three checks at revision 3, of which one is written over itself
    checks = [put_check(aws, simple_check(last_ping_ms=T - 3 * HOUR)) for _ in range(3)]
    owed = [evaluate(check, T).check for check in checks]
    together = [
        CheckWrite(checks[0], owed[0], 3),
        CheckWrite(checks[1], checks[1], 3),
        CheckWrite(checks[2], owed[2], 3),
    ]
    # When they are written together
    with dynamodb_calls() as calls:
        results = runtime.stores().checks.write_together(together)
    # Then all three count as written, and only the two that changed were in the transaction
    assert results == [True, True, True]
    [call] = calls
    assert len(call.params["TransactItems"]) == 2
    assert [stored(aws, check.id)[1] for check in checks] == [4, 3, 4]
