"""Ping history and flips through the management API, with pings sent to the real ping function."""

from __future__ import annotations

import uuid

import pytest

from cronbeat import clock
from cronbeat.domain.ids import unique_key
from cronbeat.domain.model import Check, Flip
from cronbeat.store.history import flip_item
from tests.conftest import Aws
from tests.integration.api_requests import BASE, Api, api_event, send
from tests.integration.ping_requests import store

RID = "5d3f1d6e-8c1b-4a7e-9b2c-0e1f2a3b4c5d"
T0 = 1_767_225_600_000


def test_pings_are_listed_newest_first_in_healthchecks_shape(api: Api) -> None:
    # Given a check that got a start, a failing exit with output, and a plain success
    code = api.create(name="job")["uuid"]
    api.ping(code, f"/start?rid={RID}")
    api.ping(code, f"/3?rid={RID}", body="disk full\n")
    api.ping(code)
    # When its pings are listed
    reply = api.get(f"checks/{code}/pings/")
    # Then they come newest first, shaped as Healthchecks.io's, with the exit status added
    assert reply.status == 200
    pings = reply.json()["pings"]
    assert [(p["n"], p["type"]) for p in pings] == [(3, "success"), (2, "fail"), (1, "start")]
    failed = pings[1]
    assert failed["exit_status"] == 3
    assert failed["rid"] == RID
    assert failed["method"] == "POST"
    assert failed["scheme"] == "https"
    assert failed["remote_addr"] == "203.0.113.7"
    assert failed["ua"] == "curl/8.5.0"
    assert isinstance(failed["duration"], float)
    assert failed["duration"] >= 0
    assert failed["date"].endswith("+00:00")
    assert failed["body_url"] == f"{BASE}/api/v3/checks/{code}/pings/2/body"
    assert pings[0]["body_url"] is None
    assert pings[0]["exit_status"] is None
    assert "duration" not in pings[2]


def test_ping_list_limit(api: Api) -> None:
    # Given five pings
    code = api.create(name="job")["uuid"]
    for _ in range(5):
        api.ping(code)
    # When two are asked for
    pings = api.get(f"checks/{code}/pings/", query={"limit": "2"}).json()["pings"]
    # Then the two newest come back
    assert [p["n"] for p in pings] == [5, 4]


def test_ping_list_pages_back_with_before(api: Api) -> None:
    # Given five pings
    code = api.create(name="job")["uuid"]
    for _ in range(5):
        api.ping(code)

    def numbers(**query: str) -> list[int]:
        return [p["n"] for p in api.get(f"checks/{code}/pings/", query=query).json()["pings"]]

    # When pages of two are asked for, each before the oldest of the last
    # Then each page holds the next older pings, down to an empty one
    assert numbers(limit="2", before="4") == [3, 2]
    assert numbers(limit="2", before="2") == [1]
    assert numbers(limit="2", before="1") == []
    assert numbers(before="99") == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("before", ["0", "-1", "x", "10000000000"])
def test_a_bad_before_is_a_400(api: Api, before: str) -> None:
    code = api.create(name="job")["uuid"]
    reply = api.get(f"checks/{code}/pings/", query={"before": before})
    assert reply.status == 400
    assert "before" in reply.text


def test_ping_body_is_served_as_text(api: Api) -> None:
    # Given a ping with a body and one without
    code = api.create(name="job")["uuid"]
    api.ping(code, "/fail", body="Traceback: boom\nexit 1\n")
    api.ping(code)
    # When the bodies are fetched
    with_body = api.get(f"checks/{code}/pings/1/body")
    without = api.get(f"checks/{code}/pings/2/body")
    missing = api.get(f"checks/{code}/pings/99/body")
    garbage = api.get(f"checks/{code}/pings/x1/body")
    # Then the stored text comes back as text/plain with no charset (as Healthchecks.io sends
    # it), and absent bodies are 404
    assert with_body.status == 200
    assert with_body.headers["content-type"] == "text/plain"
    assert with_body.text == "Traceback: boom\nexit 1\n"
    assert [without.status, missing.status, garbage.status] == [404, 404, 404]


def test_ping_body_that_is_not_utf8_comes_back_byte_for_byte(api: Api) -> None:
    # Given a job that sent output that is not UTF-8 (a Latin-1 log, a stray binary byte)
    code = api.create(name="job")["uuid"]
    raw = b"caf\xe9 \xff\xfe done\x00\n"
    event = api_event(
        "POST", f"/ping/{code}/fail", body=raw, headers={"content-type": "application/octet-stream"}
    )
    assert send(event).status == 200
    # When its body is fetched
    reply = api.get(f"checks/{code}/pings/1/body")
    # Then the stored bytes come back unchanged, as text/plain that promises no charset
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/plain"
    assert reply.body == raw


def test_read_only_key_reads_history_by_unique_key(api: Api, readonly: Api) -> None:
    # Given a check with a ping that has a body
    code = api.create(name="job")["uuid"]
    api.ping(code, "/fail", body="oops")
    key = unique_key(code)
    # When a read-only key lists the pings by unique_key and follows the body URL
    pings = readonly.get(f"checks/{key}/pings/").json()["pings"]
    body_url = pings[0]["body_url"]
    body = readonly.get(body_url.removeprefix(BASE))
    # Then the body URL uses the unique_key, never the uuid, and works
    assert body_url == f"{BASE}/api/v3/checks/{key}/pings/1/body"
    assert code not in readonly.get(f"checks/{key}/pings/").text
    assert body.text == "oops"


def test_flips_list_status_changes_as_healthchecks(api: Api) -> None:
    # Given a check that came up, failed, and was paused
    code = api.create(name="job")["uuid"]
    api.ping(code)
    api.ping(code, "/fail")
    api.post(f"checks/{code}/pause")
    # When its flips are listed
    reply = api.get(f"checks/{code}/flips/")
    # Then each change is there, newest first, with `up` as 1 or 0 and cronbeat's extras
    flips = reply.json()["flips"]
    assert [(f["up"], f["status"], f["reason"]) for f in flips] == [
        (0, "paused", "paused"),
        (0, "down", "fail"),
        (1, "up", "first_ping"),
    ]
    assert all(f["timestamp"].endswith("+00:00") for f in flips)


def test_flips_filter_by_start_end_and_seconds(
    aws: Aws, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check with flips at T0, T0 + 1 h and T0 + 2 h
    check = Check(id=str(uuid.uuid4()), status="up")
    store(aws).create(check, None)
    for i, (old, new) in enumerate([("new", "up"), ("up", "down"), ("down", "up")]):
        item = flip_item(
            check=check,
            flip=Flip(old=old, new=new, reason="timeout"),  # type: ignore[arg-type]
            at_ms=T0 + i * 3_600_000,
            rev=i + 2,
            retention_days=400,
        )
        aws.dynamodb.put_item(TableName=aws.events_table, Item=item)
    monkeypatch.setattr(clock, "now_ms", lambda: T0 + 2 * 3_600_000 + 1000)
    start_s, end_s = T0 // 1000, T0 // 1000 + 7200

    def times(**query: str) -> list[str]:
        reply = api.get(f"checks/{check.id}/flips/", query=query)  # type: ignore[arg-type]
        return [f["timestamp"][11:16] for f in reply.json()["flips"]]

    # When filtering by start (inclusive), end (exclusive) and recent seconds
    # Then only the flips in each window are listed
    assert times() == ["02:00", "01:00", "00:00"]
    assert times(start=str(start_s + 3600)) == ["02:00", "01:00"]
    assert times(end=str(end_s)) == ["01:00", "00:00"]
    assert times(start=str(start_s), end=str(start_s + 3600)) == ["00:00"]
    assert times(seconds="3700") == ["02:00", "01:00"]
    assert times(start=str(end_s), end=str(start_s)) == []


def test_flips_by_unique_key_for_a_read_only_key(api: Api, readonly: Api) -> None:
    # Given a check that came up
    code = api.create(name="job")["uuid"]
    api.ping(code)
    # When a read-only key lists its flips by unique_key
    reply = readonly.get(f"checks/{unique_key(code)}/flips/")
    # Then it sees them
    assert [f["up"] for f in reply.json()["flips"]] == [1]


def test_history_of_an_unknown_check_is_404(api: Api) -> None:
    # When the pings and flips of a check that does not exist are asked for
    missing = str(uuid.uuid4())
    # Then 404
    assert api.get(f"checks/{missing}/pings/").status == 404
    assert api.get(f"checks/{missing}/flips/").status == 404
    assert api.get(f"checks/{missing}/pings/1/body").status == 404
