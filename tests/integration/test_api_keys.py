"""API keys: stored only as digests, checked in constant time, managed with `cronbeat keys`."""

from __future__ import annotations

import json

import boto3
import pytest

from cronbeat.admin.keys import main
from cronbeat.store.keys import ApiKeyStore, KeyConflict
from cronbeat.store.project import ProjectStore
from cronbeat.store.tables import EVENTS, create_table_request
from tests.conftest import REGION, Aws
from tests.integration.api_requests import Api


@pytest.fixture
def store(aws: Aws) -> ApiKeyStore:
    return ApiKeyStore(aws.dynamodb, aws.events_table)


def test_created_key_is_stored_only_as_a_digest(aws: Aws, store: ApiKeyStore) -> None:
    # When a key is created
    key = store.create(read_only=False, name="ci", at_ms=1_000)
    # Then it is 32 characters and authenticates
    assert len(key) == 32
    record = store.authenticate(key)
    assert record is not None
    assert (record.prefix, record.read_only, record.name) == (key[:8], False, "ci")
    # And the table holds its prefix and digest, never the key itself
    items = aws.dynamodb.scan(TableName=aws.events_table)["Items"]
    assert key not in json.dumps(items)
    assert [i["sk"]["S"] for i in items] == [key[:8]]
    assert items[0]["digest"]["S"] == store.digest(key)


def test_the_digest_is_the_one_earlier_versions_stored(store: ApiKeyStore) -> None:
    # Given a key stored by an earlier version: HMAC-SHA256 under its default pepper "cronbeat"
    key = "dev-key-00000000000000000000000a"
    stored = "e803438aa8de693f97e31115f2f2a00df4aee7b3a2815915c7685e75f17273a2"
    # Then today's digest of it is the same, so deployed keys keep working after an upgrade
    assert store.digest(key) == stored


def test_wrong_keys_do_not_authenticate(store: ApiKeyStore) -> None:
    # Given a key
    key = store.create(read_only=True, at_ms=1)
    # When a key with the same prefix but another tail, or a short key, is tried
    forged = key[:8] + ("A" if key[8] != "A" else "B") + key[9:]
    # Then none authenticates
    assert store.authenticate(forged) is None
    assert store.authenticate(key[:31]) is None
    assert store.authenticate(key) is not None


def test_fixed_key_is_seeded_once_and_a_prefix_clash_is_refused(store: ApiKeyStore) -> None:
    # Given a fixed key, as local mode seeds it
    fixed = "dev-key-00000000000000000000000a"
    store.create(read_only=False, key=fixed, at_ms=1)
    # When the same key is seeded again, and another key with its prefix is made
    again = store.create(read_only=False, key=fixed, at_ms=2)
    # Then the first is a no-op and the second is refused
    assert again == fixed
    with pytest.raises(KeyConflict):
        store.create(read_only=False, key="dev-key-11111111111111111111111b", at_ms=3)
    with pytest.raises(ValueError, match="32 printable"):
        store.create(read_only=False, key="too short", at_ms=3)


def test_list_and_revoke(store: ApiKeyStore) -> None:
    # Given two keys
    first = store.create(read_only=False, name="a", at_ms=1)
    second = store.create(read_only=True, name="b", at_ms=2)
    # When the first is revoked
    revoked = store.revoke(first[:8])
    # Then only the second is listed and authenticates, and revoking again says so
    assert revoked is True
    assert [(r.prefix, r.name, r.read_only) for r in store.all()] == [(second[:8], "b", True)]
    assert store.authenticate(first) is None
    assert store.revoke(first[:8]) is False


def test_keys_create_with_table_prints_a_working_key_once(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an operator creates a read-only key for a table
    status = main(["create", "--read-only", "--name", "grafana", "--table", aws.events_table])
    out, err = capsys.readouterr()
    # Then the key alone goes to stdout, a note to stderr, and the API accepts it read-only
    assert status == 0
    key = out.strip()
    assert len(key) == 32
    assert "read-only" in err
    assert key[:8] in err
    assert Api(key=key).get("checks/").status == 200
    refused = Api(key=key).post("checks/", {"name": "x"})
    assert (refused.status, refused.error) == (401, "wrong api key")


def test_a_new_key_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    from cronbeat.store import keys

    # Given a random source whose first draw starts with "-"
    draws = iter(["-" + "a" * 31, "b" * 32])
    monkeypatch.setattr(keys.secrets, "token_urlsafe", lambda _n: next(draws))
    # Then the key is the next draw, so its prefix never reads as a command-line option
    assert keys.new_key() == "b" * 32


def test_keys_list_and_revoke(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a key made with the command
    main(["create", "--name", "deploy-bot", "--table", aws.events_table])
    key = capsys.readouterr().out.strip()
    # When keys are listed, the key is revoked, and revoked again
    listed = main(["list", "--table", aws.events_table])
    table = capsys.readouterr().out
    revoked = main(["revoke", key[:8], "--table", aws.events_table])
    capsys.readouterr()
    again = main(["revoke", key[:8], "--table", aws.events_table])
    err = capsys.readouterr().err
    # Then the list shows its prefix and name but not the key, and the API refuses it after
    assert (listed, revoked, again) == (0, 0, 2)
    assert key[:8] in table
    assert "deploy-bot" in table
    assert "read-write" in table
    assert key not in table
    assert "no key with prefix" in err
    assert Api(key=key).get("checks/").status == 401


def _stack(name: str, *, with_output: bool) -> str:
    """A CloudFormation stack holding an events table, as the CDK stack names it."""
    template: dict[str, object] = {
        "Resources": {
            "StorageEventsTable1A2B3C": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": create_table_request(EVENTS, "x")["KeySchema"],
                    "AttributeDefinitions": create_table_request(EVENTS, "x")[
                        "AttributeDefinitions"
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            }
        }
    }
    if with_output:
        template["Outputs"] = {
            "EventsTableName": {"Value": {"Ref": "StorageEventsTable1A2B3C"}},
        }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    table: str = resources[0]["PhysicalResourceId"]
    return table


@pytest.mark.parametrize("with_output", [True, False])
def test_keys_create_with_stack_finds_the_events_table(
    aws: Aws, capsys: pytest.CaptureFixture[str], with_output: bool
) -> None:
    # Given a deployed stack (with the EventsTableName output, or only the table resource)
    table = _stack("Cronbeat", with_output=with_output)
    # When a key is created for the stack by its default name
    status = main(["create"])
    key = capsys.readouterr().out.strip()
    # Then its digest lands in the stack's events table
    assert status == 0
    assert ApiKeyStore(aws.dynamodb, table).authenticate(key)


def test_unknown_stack_and_bad_usage_are_one_line_errors(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the stack does not exist, and when the flags are wrong
    missing = main(["create", "--stack", "NoSuchStack"])
    missing_err = capsys.readouterr().err
    bad = main(["create", "--stack", "a", "--table", "b"])
    bad_err = capsys.readouterr().err
    # Then each says so in one line and exits 2
    assert (missing, bad) == (2, 2)
    assert missing_err.count("\n") == 1
    assert "NoSuchStack" in missing_err
    assert bad_err.count("\n") == 1
    assert "not allowed with" in bad_err


def test_keys_ping_key_prints_the_same_slug_ping_key_every_time(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployed stack's events table with no ping key yet
    # When an operator asks for the ping key twice
    first_status = main(["ping-key", "--table", aws.events_table])
    first = capsys.readouterr().out.strip()
    second_status = main(["ping-key", "--table", aws.events_table])
    second = capsys.readouterr().out.strip()
    # Then one key is made, printed both times, and it is the one slug pings are checked against
    assert (first_status, second_status) == (0, 0)
    assert first == second
    assert len(first) >= 22
    assert ProjectStore(aws.dynamodb, aws.events_table).ping_key() == first


def test_a_client_can_ask_whether_its_key_is_read_only(api: Api, readonly: Api) -> None:
    assert api.get("key/").json() == {"read_only": False}
    assert readonly.get("key/").json() == {"read_only": True}
    assert Api(key="nope-0123456789abcdefghijklmnopqr").get("key/").status == 401
