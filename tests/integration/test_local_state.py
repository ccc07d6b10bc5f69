"""`cronbeat dev --state`: the tables to a JSON file and back, binary values and TTL included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cronbeat.local import state
from cronbeat.store.tables import CHECKS, EVENTS, create_tables
from tests.conftest import Aws

NOW_S = 1_795_000_000


def test_tables_round_trip_through_the_file(aws: Aws, tmp_path: Path) -> None:
    # Given a check, a ping with a binary body, a nested item and a ping past its TTL
    names = {CHECKS.logical_name: aws.checks_table, EVENTS.logical_name: aws.events_table}
    check = {"id": {"S": "c1"}, "status": {"S": "up"}, "rev": {"N": "3"}}
    ping = {
        "pk": {"S": "c1"},
        "sk": {"S": "P#0000000001"},
        "type": {"S": "ping"},
        "body": {"B": b"\xff\x00output"},
        "expires_at": {"N": str(NOW_S + 60)},
    }
    nested = {
        "pk": {"S": "channel"},
        "sk": {"S": "ch1"},
        "config": {"M": {"url": {"S": "http://127.0.0.1:9/"}}},
        "tags": {"L": [{"S": "a"}, {"BOOL": True}, {"NULL": True}]},
    }
    expired = {"pk": {"S": "c1"}, "sk": {"S": "P#0000000000"}, "expires_at": {"N": str(NOW_S)}}
    aws.dynamodb.put_item(TableName=aws.checks_table, Item=check)
    for item in (ping, nested, expired):
        aws.dynamodb.put_item(TableName=aws.events_table, Item=item)

    # When the tables are saved, and loaded into fresh tables
    path = tmp_path / "state.json"
    tables = state.dump_tables(aws.dynamodb, names, NOW_S)
    state.write(path, state.State(tables, {"read_write": "k" * 32}))
    restored = state.read(path)
    assert restored is not None
    fresh = {CHECKS.logical_name: "checks-2", EVENTS.logical_name: "events-2"}
    create_tables(aws.dynamodb, fresh)
    loaded = state.load_tables(aws.dynamodb, fresh, restored, NOW_S)

    # Then every live item is back, byte for byte, and the expired one is gone
    assert loaded == 3
    assert aws.dynamodb.scan(TableName="checks-2")["Items"] == [check]
    events = aws.dynamodb.scan(TableName="events-2")["Items"]
    assert sorted(events, key=lambda i: i["pk"]["S"]) == [ping, nested]
    assert restored.keys == {"read_write": "k" * 32}
    # And the file is plain JSON, the binary body in base64
    document = json.loads(path.read_text())
    assert document["format"] == "cronbeat-dev-state"
    assert {"B": "/wBvdXRwdXQ="} in [i.get("body") for i in document["tables"]["Events"]]


def test_a_missing_file_is_a_fresh_start(tmp_path: Path) -> None:
    assert state.read(tmp_path / "not-yet.json") is None


def test_a_directory_that_cannot_be_written_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(state.StateError, match="no directory"):
        state.check_writable(tmp_path / "missing" / "state.json")
