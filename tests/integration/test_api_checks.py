"""The check endpoints of the management API, through the handler with HTTP API v2 events."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from cronbeat import clock, runtime
from cronbeat.channels.message import what_happened
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import Check
from cronbeat.service.notify import outbox_entry
from cronbeat.store.channels import ChannelStore
from cronbeat.store.checks import CheckRepository
from cronbeat.store.codec import SLUG_KEY
from cronbeat.store.project import ProjectStore
from cronbeat.store.tables import ALERTING_ITEM_TYPES
from tests.conftest import Aws
from tests.integration.api_requests import BASE, Api
from tests.integration.ping_requests import store

T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
HOUR = 3_600_000

RW_ONLY = {"uuid", "ping_url", "update_url", "pause_url", "resume_url", "channels"}


def store_check(aws: Aws, **fields: object) -> Check:
    check = Check(id=str(uuid.uuid4()), created_ms=T0, **fields)  # type: ignore[arg-type]
    store(aws).create(check, None)
    return check


def add_channel(aws: Aws, channel_id: str, name: str = "") -> None:
    ChannelStore(aws.dynamodb, aws.events_table).put(
        Channel(id=channel_id, kind="webhook", name=name, config={"url": "https://x.test/"})
    )


def test_create_returns_201_and_the_healthchecks_shape(api: Api) -> None:
    # Given a read-write key
    # When a check is created with Healthchecks.io's documented fields
    reply = api.post(
        "checks/",
        {"name": "backup", "slug": "backup", "tags": "prod db", "timeout": 3600, "grace": 600},
    )
    # Then it is created, new, and carries every URL built from the request's host
    assert reply.status == 201
    check = reply.json()
    code = check["uuid"]
    assert check["name"] == "backup"
    assert check["slug"] == "backup"
    assert check["tags"] == "prod db"
    assert (check["timeout"], check["grace"]) == (3600, 600)
    assert check["status"] == "new"
    assert check["started"] is False
    assert check["last_ping"] is None
    assert check["next_ping"] is None
    assert check["n_pings"] == 0
    assert check["ping_url"] == f"{BASE}/ping/{code}"
    assert check["update_url"] == f"{BASE}/api/v3/checks/{code}"
    assert check["pause_url"] == f"{BASE}/api/v3/checks/{code}/pause"
    assert check["resume_url"] == f"{BASE}/api/v3/checks/{code}/resume"
    assert check["failure_threshold"] == 1
    assert check["recovery_threshold"] == 1
    assert check["max_runtime"] is None
    assert check["realert_every"] is None
    assert "schedule" not in check
    assert "last_duration" not in check
    assert "unique_key" not in check


HEALTHCHECKS_FIELDS = {
    *("name", "slug", "tags", "desc", "grace", "n_pings", "status", "started", "last_ping"),
    *("next_ping", "manual_resume", "methods", "start_kw", "success_kw", "failure_kw"),
    *("filter_http_body", "filter_default_fail", "filter_subject", "filter_body"),
    *("subject", "subject_fail", "badge_url"),
}
CRONBEAT_FIELDS = {
    "failure_threshold",
    "recovery_threshold",
    "max_runtime",
    "realert_every",
    "min_duration",
    "max_duration",
    *("muted", "muted_until", "in_maintenance", "maintenance"),
    *("slow_factor", "slow_window", "min_count", "stuck_after", "last_count", "usual_duration_ms"),
}


def test_check_object_has_exactly_the_fields_each_key_may_see(
    aws: Aws, api: Api, readonly: Api
) -> None:
    # Given a simple check, and a cron check that has finished a run
    api.create(name="simple", timeout=3600)
    store_check(
        aws, name="cron", kind="cron", schedule="0 2 * * *", tz="Europe/Riga", badge_key="b1",
        status="up", last_ping_ms=T0, last_duration_ms=5_000,
    )  # fmt: skip
    # When both are read with a read-write key and with a read-only key
    rw = {c["name"]: set(c) for c in api.get("checks/").json()["checks"]}
    ro = {c["name"]: set(c) for c in readonly.get("checks/").json()["checks"]}
    # Then each has Healthchecks.io's fields and cronbeat's, the period fields of its kind,
    # last_duration only once set, and either the uuid, URLs and channels or the unique_key
    base = HEALTHCHECKS_FIELDS | CRONBEAT_FIELDS
    assert rw["simple"] == base | {"timeout"} | RW_ONLY
    # The cron check is overdue, so it also says since when and why it is down.
    cron = {"schedule", "tz", "schedule_text", "next_fires", "last_duration", "last_duration_ms"}
    cron |= {"status_since", "status_reason"}
    assert rw["cron"] == base | cron | RW_ONLY
    assert ro["simple"] == base | {"timeout", "unique_key"}
    assert ro["cron"] == base | {
        "schedule",
        "tz",
        "schedule_text",
        "next_fires",
        "status_since",
        "status_reason",
        "last_duration",
        "last_duration_ms",
        "unique_key",
    }


def test_create_with_an_empty_body_uses_the_defaults(api: Api) -> None:
    # When a check is created with no body at all
    reply = api.post("checks/")
    # Then it gets Healthchecks.io's defaults: a day's timeout and an hour's grace
    assert reply.status == 201
    assert (reply.json()["timeout"], reply.json()["grace"]) == (86400, 3600)


def test_create_cron_check_shows_schedule_and_tz_instead_of_timeout(api: Api) -> None:
    # When a cron check is created
    check = api.create(name="nightly", schedule="0 2 * * *", tz="Europe/Riga", grace=900)
    # Then it shows its schedule and zone, and no timeout
    assert (check["schedule"], check["tz"]) == ("0 2 * * *", "Europe/Riga")
    assert "timeout" not in check


def test_ping_url_uses_the_configured_base_url(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment whose public base URL is configured
    monkeypatch.setenv("CRONBEAT_BASE_URL", "https://beat.example.org/")
    runtime.reset()
    # When a check is created
    check = api.create(name="x")
    # Then its URLs use that base, not the request's host
    assert check["ping_url"] == f"https://beat.example.org/ping/{check['uuid']}"


def test_cronbeat_fields_round_trip(api: Api) -> None:
    # When a check is created with cronbeat's own fields
    check = api.create(
        name="etl", failure_threshold=3, recovery_threshold=2, max_runtime=7200, realert_every=3600
    )
    # Then they are stored and shown
    shown = api.get(f"checks/{check['uuid']}").json()
    assert shown["failure_threshold"] == 3
    assert shown["recovery_threshold"] == 2
    assert shown["max_runtime"] == 7200
    assert shown["realert_every"] == 3600
    # And null sets the optional periods back to their defaults
    cleared = api.post(f"checks/{check['uuid']}", {"max_runtime": None, "realert_every": None})
    assert cleared.status == 200
    assert cleared.json()["max_runtime"] is None
    assert cleared.json()["realert_every"] is None


def test_duration_bounds_round_trip_and_null_turns_them_off(api: Api) -> None:
    # When a check is created with duration bounds
    check = api.create(name="etl", min_duration=30, max_duration=900)
    # Then they are stored and shown
    shown = api.get(f"checks/{check['uuid']}").json()
    assert (shown["min_duration"], shown["max_duration"]) == (30, 900)
    # And one can be changed alone, still checked against the other
    raised = api.post(f"checks/{check['uuid']}", {"max_duration": 1200})
    assert (raised.status, raised.json()["min_duration"]) == (200, 30)
    crossed = api.post(f"checks/{check['uuid']}", {"min_duration": 1200})
    assert crossed.status == 400
    assert crossed.json()["error"] == (
        "json validation error: min_duration must be less than max_duration"
    )
    # And null turns a bound off
    cleared = api.post(f"checks/{check['uuid']}", {"min_duration": None, "max_duration": None})
    assert (cleared.json()["min_duration"], cleared.json()["max_duration"]) == (None, None)


@pytest.mark.parametrize("value", [0, -5, 1.5, "60", True, 31_536_001])
def test_a_bad_duration_bound_is_a_400_naming_it(api: Api, value: object) -> None:
    reply = api.post("checks/", {"name": "x", "max_duration": value})
    assert reply.status == 400
    assert "max_duration" in reply.json()["error"]


def test_a_new_check_gets_channels_only_when_asked_as_on_healthchecks_io(
    aws: Aws, api: Api
) -> None:
    # Given two channels
    add_channel(aws, "b-channel")
    add_channel(aws, "a-channel")
    # When checks are created without `channels`, with "*", with "", and with one id
    omitted = api.create(name="omitted")
    every = api.create(name="all", channels="*")
    none = api.create(name="none", channels="")
    one = api.create(name="one", channels="b-channel")
    # Then the omitted field assigns none; "*" all (comma-separated, sorted), "" none, one id one
    assert omitted["channels"] == ""
    assert every["channels"] == "a-channel,b-channel"
    assert none["channels"] == ""
    assert one["channels"] == "b-channel"
    # And updating a check without `channels` keeps the ones it has
    kept = api.post(f"checks/{one['uuid']}", {"name": "renamed"}).json()
    assert kept["channels"] == "b-channel"


def test_channels_may_be_named_and_unknown_ones_are_refused(aws: Aws, api: Api) -> None:
    # Given a named channel
    add_channel(aws, "c1", name="ops-webhook")
    check = api.create(name="x", channels="")
    # When a check is given the channel by name, then an unknown and an empty identifier
    named = api.post(f"checks/{check['uuid']}", {"channels": "ops-webhook"})
    unknown = api.post(f"checks/{check['uuid']}", {"channels": "c1,nope"})
    empty = api.post(f"checks/{check['uuid']}", {"channels": "c1,"})
    # Then the name resolves to its id, and the others get Healthchecks.io's 400s
    assert named.json()["channels"] == "c1"
    assert (unknown.status, unknown.error) == (400, "invalid channel identifier: nope")
    assert (empty.status, empty.error) == (400, "empty channel identifier")
    assert api.get(f"checks/{check['uuid']}").json()["channels"] == "c1"


def test_unique_upserts_the_matching_check(api: Api) -> None:
    # Given a check named "backup"
    first = api.create(name="backup", timeout=3600)
    # When a create names `unique: ["name"]` with the same name
    again = api.post("checks/", {"name": "backup", "timeout": 7200, "unique": ["name"]})
    # Then the existing check is updated and returned with 200, not duplicated
    assert again.status == 200
    assert again.json()["uuid"] == first["uuid"]
    assert again.json()["timeout"] == 7200
    assert len(api.get("checks/").json()["checks"]) == 1


def test_unique_creates_when_a_listed_field_is_absent_or_differs(api: Api) -> None:
    # Given a check named "backup"
    api.create(name="backup")
    # When `unique` lists a field the request lacks, or a value that differs
    absent = api.post("checks/", {"name": "backup", "unique": ["name", "slug"]})
    differs = api.post("checks/", {"name": "other", "unique": ["name"]})
    # Then new checks are created
    assert (absent.status, differs.status) == (201, 201)
    assert len(api.get("checks/").json()["checks"]) == 3


def test_list_filters_by_every_tag_and_by_slug(api: Api) -> None:
    # Given checks with different tags and slugs
    api.create(name="a", tags="prod db", slug="a")
    api.create(name="b", tags="prod web", slug="b")
    api.create(name="c", tags="dev db", slug="c")
    # When listing by tags (all must match) and by slug
    prod = api.get("checks/", query={"tag": "prod"}).json()["checks"]
    prod_db = api.get("checks/", query={"tag": ["prod", "db"]}).json()["checks"]
    slug_c = api.get("checks/", query={"slug": "c"}).json()["checks"]
    # Then only the matching checks are listed
    assert sorted(c["name"] for c in prod) == ["a", "b"]
    assert [c["name"] for c in prod_db] == ["a"]
    assert [c["name"] for c in slug_c] == ["c"]


def test_get_by_uuid_and_by_unique_key(api: Api, readonly: Api) -> None:
    # Given a check
    check = api.create(name="x")
    expected_key = hashlib.sha1(check["uuid"].replace("-", "")[:16].encode()).hexdigest()  # noqa: S324
    # When it is read by uuid and by the read-only key's unique_key
    by_uuid = api.get(f"checks/{check['uuid']}")
    by_key = readonly.get(f"checks/{expected_key}")
    # Then both find it
    assert by_uuid.json()["name"] == "x"
    assert by_key.status == 200
    assert by_key.json()["unique_key"] == expected_key


def test_read_only_key_sees_unique_key_and_no_uuid_urls_or_channels(
    api: Api, readonly: Api
) -> None:
    # Given a check
    check = api.create(name="x")
    # When a read-only key lists and reads checks
    listed = readonly.get("checks/").json()["checks"][0]
    # Then the uuid, the URLs and the channels are redacted, replaced by unique_key
    assert RW_ONLY.isdisjoint(listed)
    assert (
        listed["unique_key"]
        == hashlib.sha1(  # noqa: S324
            check["uuid"].replace("-", "")[:16].encode()
        ).hexdigest()
    )
    assert check["uuid"] not in readonly.get("checks/").text
    # And a read-write key sees them
    assert RW_ONLY.issubset(api.get("checks/").json()["checks"][0])


def test_read_only_key_cannot_write(api: Api, readonly: Api) -> None:
    # Given a check
    check = api.create(name="x")
    code = check["uuid"]
    # When a read-only key tries every write endpoint
    replies = [
        readonly.post("checks/", {"name": "y"}),
        readonly.post(f"checks/{code}", {"name": "y"}),
        readonly.delete(f"checks/{code}"),
        readonly.post(f"checks/{code}/pause"),
        readonly.post(f"checks/{code}/resume"),
        readonly.post("channels/", {"kind": "slack", "url": "https://hooks.test/x"}),
    ]
    # Then each is refused with 401, and nothing changed
    assert [(r.status, r.error) for r in replies] == [(401, "wrong api key")] * len(replies)
    assert api.get(f"checks/{code}").json()["name"] == "x"


def test_update_changes_only_the_given_fields(api: Api) -> None:
    # Given a simple check
    check = api.create(name="x", tags="a", timeout=3600, grace=600, desc="keep")
    # When it is updated with a schedule and new tags
    reply = api.post(f"checks/{check['uuid']}", {"schedule": "*/5 * * * *", "tags": "b c"})
    # Then it becomes a cron check with the new tags, and the rest is kept
    assert reply.status == 200
    updated = reply.json()
    assert updated["schedule"] == "*/5 * * * *"
    assert updated["tz"] == "UTC"
    assert "timeout" not in updated
    assert (updated["tags"], updated["desc"], updated["grace"]) == ("b c", "keep", 600)
    assert api.get(f"checks/{check['uuid']}").json() == updated


def test_update_keeps_the_slug_lookup_key_in_step(aws: Aws, api: Api) -> None:
    # Given a check with a slug
    check = api.create(name="x", slug="old")
    ping_key = ProjectStore(aws.dynamodb, aws.events_table).ensure_ping_key()
    # When its slug changes, and is then removed
    api.post(f"checks/{check['uuid']}", {"slug": "new"})
    renamed = aws.dynamodb.get_item(TableName=aws.checks_table, Key={"id": {"S": check["uuid"]}})
    api.post(f"checks/{check['uuid']}", {"slug": ""})
    cleared = aws.dynamodb.get_item(TableName=aws.checks_table, Key={"id": {"S": check["uuid"]}})
    # Then the indexed slug key follows it, and goes when the slug goes
    assert renamed["Item"][SLUG_KEY] == {"S": f"{ping_key}/new"}
    assert SLUG_KEY not in cleared["Item"]


def test_slug_ping_reaches_a_check_created_through_the_api(aws: Aws, api: Api) -> None:
    # Given a check created with a slug
    check = api.create(name="x", slug="nightly-backup")
    ping_key = ProjectStore(aws.dynamodb, aws.events_table).ensure_ping_key()
    # When the job pings its slug URL
    reply = api.ping(f"{ping_key}/nightly-backup")
    # Then the ping lands on that check
    assert (reply.status, reply.text) == (200, "OK")
    assert api.get(f"checks/{check['uuid']}").json()["n_pings"] == 1


def test_delete_returns_the_check_and_then_it_is_gone(api: Api) -> None:
    # Given a check
    check = api.create(name="x")
    # When it is deleted
    reply = api.delete(f"checks/{check['uuid']}")
    # Then the reply is the check as it was, and it is gone
    assert reply.status == 200
    assert reply.json()["uuid"] == check["uuid"]
    assert api.get(f"checks/{check['uuid']}").status == 404
    assert api.delete(f"checks/{check['uuid']}").status == 404


def _history(aws: Aws, check_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws.dynamodb.query(
        TableName=aws.events_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": check_id}},
    )["Items"]
    return items


def test_pausing_a_down_check_alerts_once_that_it_was_paused_while_down(aws: Aws, api: Api) -> None:
    # Given a check that is down
    check = store_check(aws, name="x", status="down", status_since_ms=T0)
    # When it is paused twice
    first = api.post(f"checks/{check.id}/pause")
    second = api.post(f"checks/{check.id}/pause")
    # Then both answer the paused check
    assert (first.status, second.status) == (200, 200)
    assert first.json()["status"] == second.json()["status"] == "paused"
    # And one flip is written, of a type the stream carries to the notifier
    items = _history(aws, check.id)
    assert [(i["type"]["S"], i["old"]["S"], i["new"]["S"]) for i in items] == [
        ("flip", "down", "paused")
    ]
    assert items[0]["type"]["S"] in ALERTING_ITEM_TYPES
    # And its alert tells the people on call the incident was silenced, not resolved
    entry = outbox_entry({"eventName": "INSERT", "dynamodb": {"NewImage": items[0]}}, base_url="")
    assert entry is not None
    assert what_happened(entry.alert) == "paused while down"


def test_pausing_a_check_that_is_up_records_a_silent_flip(aws: Aws, api: Api) -> None:
    # Given a check that is up
    check = store_check(aws, name="x", status="up", last_ping_ms=T0, status_since_ms=T0)
    # When it is paused
    assert api.post(f"checks/{check.id}/pause").status == 200
    # Then one history flip is written, of a type the notifier's stream never carries
    items = _history(aws, check.id)
    assert [(i["type"]["S"], i["old"]["S"], i["new"]["S"]) for i in items] == [
        ("manual_flip", "up", "paused")
    ]
    # And neither local mode's stream nor the notifier would alert anyone with it
    assert items[0]["type"]["S"] not in ALERTING_ITEM_TYPES
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": items[0]}}
    assert outbox_entry(record, base_url="") is None


def test_pause_clears_a_running_start(aws: Aws, api: Api) -> None:
    # Given a check with an open run
    check = store_check(aws, name="x", status="up", last_ping_ms=T0, last_start_ms=T0)
    # When it is paused
    paused = api.post(f"checks/{check.id}/pause").json()
    # Then it is no longer started
    assert paused["started"] is False


def test_resume_makes_a_paused_check_new_and_refuses_others(aws: Aws, api: Api) -> None:
    # Given a paused check that had pinged, and an up check
    paused = store_check(aws, name="p", status="paused", last_ping_ms=T0, n_pings=3)
    up = store_check(aws, name="u", status="up", last_ping_ms=T0)
    # When both are resumed
    resumed = api.post(f"checks/{paused.id}/resume")
    refused = api.post(f"checks/{up.id}/resume")
    # Then the paused one is new again, with no last ping, and the other gets 409
    assert resumed.status == 200
    assert (resumed.json()["status"], resumed.json()["last_ping"]) == ("new", None)
    assert resumed.json()["n_pings"] == 3
    assert (refused.status, refused.text) == (409, "check is not paused")


def test_status_is_derived_at_request_time(
    aws: Aws, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an up check pinged at T0 with timeout 1 h and grace 10 min, and a running one
    check = store_check(aws, status="up", last_ping_ms=T0, timeout_s=3600, grace_s=600)
    running = store_check(
        aws, status="up", last_ping_ms=T0, last_start_ms=T0 + HOUR, last_duration_ms=95_500
    )
    seen = {}
    # When it is read before due, within grace, and after grace
    for label, at in (("up", T0 + HOUR - 1), ("grace", T0 + HOUR + 1), ("down", T0 + 2 * HOUR)):
        monkeypatch.setattr(clock, "now_ms", lambda at=at: at)
        seen[label] = api.get(f"checks/{check.id}").json()
    monkeypatch.setattr(clock, "now_ms", lambda: T0 + HOUR + 60_000)
    started = api.get(f"checks/{running.id}").json()
    # Then the status follows the clock, with ISO times and the next expected ping
    assert [seen[s]["status"] for s in ("up", "grace", "down")] == ["up", "grace", "down"]
    assert seen["up"]["last_ping"] == "2026-01-01T00:00:00+00:00"
    assert seen["up"]["next_ping"] == "2026-01-01T01:00:00+00:00"
    assert seen["grace"]["next_ping"] == "2026-01-01T01:00:00+00:00"
    # And, as on Healthchecks.io, nothing is expected of a down check, even before a sweep wrote it
    assert seen["down"]["next_ping"] is None
    # And a running check says so, with its last duration in whole seconds
    assert started["started"] is True
    assert started["last_duration"] == 95


def test_last_duration_ms_keeps_what_last_duration_truncates(aws: Aws, api: Api) -> None:
    # Given checks whose last runs took 2.998 s and 0.3 s
    slow = store_check(aws, name="slow", status="up", last_ping_ms=T0, last_duration_ms=2_998)
    quick = store_check(aws, name="quick", status="up", last_ping_ms=T0, last_duration_ms=300)
    # When they are read
    shown = {c["name"]: c for c in api.get("checks/").json()["checks"]}
    # Then last_duration is Healthchecks.io's truncated whole seconds, and last_duration_ms
    # has the milliseconds
    assert (shown["slow"]["last_duration"], shown["slow"]["last_duration_ms"]) == (2, 2_998)
    assert (shown["quick"]["last_duration"], shown["quick"]["last_duration_ms"]) == (0, 300)
    assert {slow.id, quick.id} == {c["uuid"] for c in shown.values()}


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_older_versions_and_slash_variants_are_aliases(api: Api, version: str) -> None:
    # Given a check
    check = api.create(name="x")
    # When it is read under each API version, with and without trailing slashes
    listed = api.get(f"/api/{version}/checks")
    single = api.get(f"/api/{version}/checks/{check['uuid']}/")
    # Then the same data comes back
    assert listed.status == single.status == 200
    assert single.json()["uuid"] == check["uuid"]


def test_api_key_may_come_in_the_post_body(api: Api) -> None:
    # When a create carries the key in the body and no header
    reply = Api(key=None).post("checks/", {"api_key": api.key, "name": "from-body"})
    # Then it is accepted
    assert reply.status == 201
    assert reply.json()["name"] == "from-body"


def test_form_encoded_json_is_parsed_as_json(api: Api) -> None:
    # Given Healthchecks.io's documented `curl --data '{...}'`, sent as a form content type
    # When it creates a check
    reply = api.post(
        "checks/",
        raw='{"name": "curl"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # Then the body is read as JSON
    assert reply.status == 201
    assert reply.json()["name"] == "curl"


def test_unknown_and_malformed_check_references_get_404(api: Api) -> None:
    # When a well-formed unknown uuid, an unknown unique key and a garbage id are read
    replies = [
        api.get(f"checks/{uuid.uuid4()}"),
        api.get("checks/" + "0" * 40),
        api.get("checks/not-a-uuid"),
        api.post(f"checks/{uuid.uuid4()}", {"name": "x"}),
        api.post(f"checks/{uuid.uuid4()}/pause"),
        api.post(f"checks/{uuid.uuid4()}/resume"),
        api.delete(f"checks/{uuid.uuid4()}"),
        api.delete("checks/not-a-uuid"),
    ]
    # Then each is a 404 (a unique_key URL refuses writes with 405: test_hc_compat)
    assert [r.status for r in replies] == [404] * len(replies)


def test_update_racing_a_ping_keeps_both(
    aws: Aws, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check, and a ping that lands between the API's read and its first write
    code = api.create(name="x", timeout=3600)["uuid"]
    real_write = CheckRepository.write
    raced: list[bool] = []

    def write_after_a_ping(self: CheckRepository, *args: Any, **kwargs: Any) -> int:
        if not raced:
            raced.append(True)
            assert api.ping(code).status == 200
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(CheckRepository, "write", write_after_a_ping)
    # When the update is written
    reply = api.post(f"checks/{code}", {"timeout": 7200})
    # Then it was retried on the fresh check: the ping's changes and the new timeout both stay
    assert reply.status == 200
    stored = api.get(f"checks/{code}").json()
    assert (stored["timeout"], stored["n_pings"], stored["status"]) == (7200, 1, "up")


def test_a_check_can_be_created_with_a_given_uuid_once(api: Api) -> None:
    # Given a UUID a check had on another monitor (upper case, as some tools print it)
    moved = "6A0E2F6C-4D4B-4C1A-9C58-0F1D2E3A4B5C"
    # When a check is created with it, and again
    first = api.post("checks/", {"name": "moved", "uuid": moved})
    again = api.post("checks/", {"name": "moved again", "uuid": moved.lower()})
    # Then the first keeps that UUID, so its old ping URL works, and the second is refused
    assert first.status == 201, first.text
    assert first.json()["uuid"] == moved.lower()
    assert api.ping(moved.lower()).status == 200
    assert (again.status, again.error) == (409, f"a check with uuid {moved.lower()} already exists")
    assert [c["name"] for c in api.get("checks/").json()["checks"]] == ["moved"]


@pytest.mark.parametrize("bad", ["not-a-uuid", "6a0e2f6c4d4b4c1a9c580f1d2e3a4b5c", "../../x"])
def test_a_given_uuid_must_be_one(api: Api, bad: str) -> None:
    reply = api.post("checks/", {"name": "x", "uuid": bad})
    assert (reply.status, reply.error) == (400, "json validation error: uuid is not a valid UUID")
    assert api.get("checks/").json()["checks"] == []


def test_a_uuid_cannot_be_changed(api: Api) -> None:
    code = api.create(name="x")["uuid"]
    reply = api.post(f"checks/{code}", {"uuid": "6a0e2f6c-4d4b-4c1a-9c58-0f1d2e3a4b5c"})
    assert (reply.status, reply.error) == (
        400,
        "json validation error: uuid can only be given on create",
    )


def test_a_cron_check_says_its_schedule_in_words_and_its_next_fires_in_its_zone(
    api: Api,
) -> None:
    # Given a weekday cron check in a zone east of UTC
    check = api.create(name="report", schedule="30 9 * * mon-fri", tz="Asia/Tokyo")
    # Then it reads in words, and its next five fires are weekdays at 09:30 Tokyo time, in order
    assert check["schedule_text"] == "At 09:30, Monday through Friday"
    fires = [datetime.fromisoformat(f) for f in check["next_fires"]]
    assert len(fires) == 5
    assert fires == sorted(fires)
    assert all(f.strftime("%H:%M %z") == "09:30 +0900" and f.weekday() < 5 for f in fires)


def test_a_schedule_is_described_before_any_check_has_it(api: Api) -> None:
    reply = api.get("schedule/", query={"schedule": "0 3 * * *", "tz": "Europe/Riga"})
    assert reply.status == 200, reply.text
    assert reply.json()["schedule_text"] == "At 03:00"
    assert len(reply.json()["next_fires"]) == 5
    assert api.get("schedule/", query={"schedule": "Mon..Fri 09:00"}).json()["schedule_text"] == (
        "OnCalendar Mon..Fri 09:00"
    )
    bad = api.get("schedule/", query={"schedule": "99 * * * *"})
    assert (bad.status, bad.error) == (
        400,
        "invalid query parameter: schedule is not a valid schedule",
    )
    zone = api.get("schedule/", query={"schedule": "* * * * *", "tz": "Mars/Olympus"})
    assert (zone.status, zone.error) == (400, "invalid query parameter: tz is not a valid timezone")


def test_a_down_check_says_since_when_and_why(api: Api) -> None:
    # Given a check whose run failed with an exit status, after 2.998 s
    code = api.create(name="job", timeout=3600)["uuid"]
    rid = "0b7c6f1e-0000-4000-8000-000000000001"
    assert api.ping(code, f"/start?rid={rid}").status == 200
    shown = api.get(f"checks/{code}").json()
    assert shown["last_start"] is not None
    assert api.ping(code, f"/137?rid={rid}").status == 200
    shown = api.get(f"checks/{code}").json()
    # Then the check says it is down because of that failure, since when, and with what status
    assert (shown["status"], shown["status_reason"], shown["last_exit"]) == ("down", "fail", 137)
    assert shown["status_since"] is not None
    assert "last_start" not in shown


def test_a_run_of_2998_ms_reads_2998_ms_and_2_whole_seconds(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run that starts and finishes 2.998 s later
    code = api.create(name="job", timeout=3600)["uuid"]
    monkeypatch.setattr(clock, "now_ms", lambda: T0)
    api.ping(code, "/start")
    monkeypatch.setattr(clock, "now_ms", lambda: T0 + 2998)
    api.ping(code)
    # Then the API keeps the milliseconds and truncates the seconds, as Healthchecks.io does
    shown = api.get(f"checks/{code}").json()
    assert (shown["last_duration_ms"], shown["last_duration"]) == (2998, 2)


def test_a_check_overdue_before_the_sweep_says_it_timed_out_since_its_deadline(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check that came up and then missed its deadline, with no sweep since
    monkeypatch.setattr(clock, "now_ms", lambda: T0)
    code = api.create(name="job", timeout=60, grace=60)["uuid"]
    api.ping(code)
    monkeypatch.setattr(clock, "now_ms", lambda: T0 + 10 * 60_000)
    shown = api.get(f"checks/{code}").json()
    # Then it reads down, because of the timeout, since its deadline passed (not since it came up)
    assert (shown["status"], shown["status_reason"]) == ("down", "timeout")
    assert (
        shown["status_since"] == datetime.fromtimestamp((T0 + 120_000) / 1000, tz=UTC).isoformat()
    )
