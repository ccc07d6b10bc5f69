"""Item sizes follow DynamoDB's billing rules, so the budgets they check mean something."""

from __future__ import annotations

from cronbeat.store.codec import to_item
from cronbeat.store.history import ping_item
from cronbeat.store.sizing import item_bytes, value_bytes, write_units
from tests.unit.checks import T0, make_check


def test_strings_numbers_and_binary_cost_what_dynamodb_charges() -> None:
    assert value_bytes({"S": "héllo"}) == 6
    assert value_bytes({"N": "1767225612345"}) == 8
    assert value_bytes({"N": "1767225600000"}) == 5  # trailing zeros are trimmed
    assert value_bytes({"N": "-0.5"}) == 2
    assert value_bytes({"B": b"\x00\x01"}) == 2
    assert value_bytes({"BOOL": True}) == 1
    assert value_bytes({"NULL": True}) == 1
    assert value_bytes({"M": {"a": {"S": "x"}}}) == 3 + 1 + 1 + 1
    assert value_bytes({"L": [{"S": "x"}, {"N": "1"}]}) == 3 + 2 + 3
    assert value_bytes({"SS": ["ab", "c"]}) == 3
    assert value_bytes({"NS": ["12", "3"]}) == 4


def test_a_typical_check_item_stays_under_600_bytes() -> None:
    # Given a typical cron check with tags, a slug and two channels, pinged many times
    check = make_check(
        name="nightly database backup",
        slug="nightly-db-backup",
        tags="prod db backup",
        kind="cron",
        schedule="0 2 * * *",
        tz="Europe/Riga",
        status="up",
        status_since_ms=T0,
        last_ping_ms=T0,
        last_exit=0,
        last_duration_ms=93_000,
        n_pings=12_345,
        success_streak=400,
        channels="1f0c6a52-8a0e-4a43-9d7e-6b2d3f7c9e10,9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        created_ms=T0,
    )
    # When it is encoded as an item with its slug key and revision
    item = to_item(check, rev=12_400, ping_key="x" * 22)
    # Then it fits the scanner's budget
    assert item_bytes(item) <= 600


def test_a_ping_item_without_a_body_is_one_write_unit() -> None:
    item = ping_item(
        check_id=make_check().id,
        n=1_234_567,
        at_ms=T0,
        kind="success",
        method="POST",
        scheme="https",
        remote_addr="2001:db8::1",
        ua="x" * 200,
        body=b"",
        retention_days=30,
        exit_status=0,
        rid="b7a7c7d2-1e7e-4a8d-9d4e-2b8d0f7c6a11",
        duration_ms=93_000,
    )
    assert item_bytes(item) < 1024
    assert write_units(item) == 1
