"""Healthchecks.io behaviours that its clients rely on, each test named after the one it follows.

Healthchecks.io's API source and documentation are the specification; these tests pin the same
behaviour through cronbeat's handler, so a client moving over by changing only its base URL
keeps working.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cronbeat import clock
from tests.conftest import Aws
from tests.integration.api_requests import BASE, RO_KEY, Api, api_event, send
from tests.integration.ping_requests import PING_KEY, set_ping_key


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_and_v2_fill_the_slug_from_the_name_on_create(aws: Aws, api: Api, version: str) -> None:
    # Given a project with a ping key, and a client on an older API version (the PyPI
    # healthchecks-io client defaults to v1)
    set_ping_key(aws)
    old = Api(prefix=f"/api/{version}/")
    # When it creates a check by name alone
    created = old.post("checks/", {"name": "Nightly DB Backup!", "timeout": 3600})
    # Then the slug is made from the name
    assert created.status == 201, created.text
    assert created.json()["slug"] == "nightly-db-backup"
    # And the job can ping it by that slug
    assert old.ping(f"{PING_KEY}/nightly-db-backup").status == 200
    listed = api.get("checks/", query={"slug": "nightly-db-backup"}).json()["checks"]
    assert [c["n_pings"] for c in listed] == [1]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_and_v2_refill_the_slug_on_rename(api: Api, version: str) -> None:
    # Given a check with a slug
    check = api.create(name="old name", slug="kept-slug")
    old = Api(prefix=f"/api/{version}/")
    # When an older-version client renames it
    renamed = old.post(f"checks/{check['uuid']}", {"name": "Weekly Report"})
    # Then the slug follows the new name
    assert renamed.status == 200, renamed.text
    assert renamed.json()["slug"] == "weekly-report"
    # And an update that leaves the name alone leaves the slug alone
    regraced = old.post(f"checks/{check['uuid']}", {"grace": 120})
    assert regraced.json()["slug"] == "weekly-report"


def test_v1_takes_an_explicit_slug_over_the_one_from_the_name(api: Api) -> None:
    # When an older-version client gives both a name and a slug
    created = Api(prefix="/api/v1/").post("checks/", {"name": "Backup", "slug": "my_backup"})
    # Then the given slug wins
    assert created.json()["slug"] == "my_backup"


def test_v3_takes_the_slug_only_when_given(api: Api) -> None:
    # When a v3 client creates and then renames a check, never giving a slug
    created = api.create(name="Backup")
    renamed = api.post(f"checks/{created['uuid']}", {"name": "Other"}).json()
    # Then the check never gets a slug
    assert (created["slug"], renamed["slug"]) == ("", "")


def test_v1_reports_a_running_check_as_started(api: Api) -> None:
    # Given a check that is up and has a run in progress
    check = api.create(name="etl", timeout=3600)
    assert api.ping(check["uuid"]).status == 200
    assert api.ping(check["uuid"], "/start").status == 200
    # When v1, v2 and v3 clients read it
    seen = {
        v: Api(prefix=f"/api/{v}/").get(f"checks/{check['uuid']}").json()
        for v in ("v1", "v2", "v3")
    }
    # Then only v1 says "started"; every version flags the run with `started`
    assert {v: c["status"] for v, c in seen.items()} == {"v1": "started", "v2": "up", "v3": "up"}
    assert all(c["started"] is True for c in seen.values())
    # And the list says the same as the single read
    listed = Api(prefix="/api/v1/").get("checks/").json()["checks"]
    assert [c["status"] for c in listed] == ["started"]


def test_v1_does_not_report_a_finished_or_paused_run_as_started(api: Api) -> None:
    # Given a check whose run finished, and another paused mid-run
    finished = api.create(name="finished")
    api.ping(finished["uuid"], "/start")
    api.ping(finished["uuid"])
    paused = api.create(name="paused")
    api.ping(paused["uuid"], "/start")
    assert api.post(f"checks/{paused['uuid']}/pause").status == 200
    # When a v1 client reads them
    v1 = Api(prefix="/api/v1/")
    statuses = [v1.get(f"checks/{c['uuid']}").json()["status"] for c in (finished, paused)]
    # Then neither says "started"
    assert statuses == ["up", "paused"]


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_urls_in_a_reply_use_the_version_of_the_request(api: Api, version: str) -> None:
    # Given a check with a ping that has a body
    check = api.create(name="urls")
    assert api.ping(check["uuid"], body="some output").status == 200
    client = Api(prefix=f"/api/{version}/")
    # When a client on each version reads the check and its pings
    shown = client.get(f"checks/{check['uuid']}").json()
    pings = client.get(f"checks/{check['uuid']}/pings/").json()["pings"]
    # Then every API URL points back at that version
    update_url = f"{BASE}/api/{version}/checks/{check['uuid']}"
    assert shown["update_url"] == update_url
    assert (shown["pause_url"], shown["resume_url"]) == (
        f"{update_url}/pause",
        f"{update_url}/resume",
    )
    assert pings[0]["body_url"] == f"{update_url}/pings/1/body"
    # And each of those URLs works
    assert client.get(pings[0]["body_url"].removeprefix(BASE)).text == "some output"


@pytest.mark.parametrize("origin", [None, "https://a.test"], ids=["no-origin", "origin"])
def test_every_api_reply_carries_the_cors_headers(api: Api, origin: str | None) -> None:
    # Given requests with or without an Origin header (Healthchecks.io's `cors` decorator adds
    # its headers whatever the request says)
    headers = {"origin": origin} if origin else {}
    # When one is answered, one is refused for its key and one is a preflight
    listed = api.get("checks/", headers=headers)
    refused = api.get("checks/", key="", headers=headers)
    preflight = api.request("OPTIONS", "checks/", key="", headers=headers)
    # Then each allows any origin, the key header and the route's methods, for ten minutes
    assert (listed.status, refused.status, preflight.status) == (200, 401, 204)
    for reply in (listed, refused, preflight):
        assert reply.headers["access-control-allow-origin"] == "*"
        assert reply.headers["access-control-allow-headers"] == "X-Api-Key"
        assert reply.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
        assert reply.headers["access-control-max-age"] == "600"


@pytest.mark.parametrize("suffix", ["", "/start", "/fail", "/0"])
def test_a_ping_preflight_is_answered_and_records_nothing(aws: Aws, api: Api, suffix: str) -> None:
    # Given a check, and a browser about to POST a ping with a JSON body from another origin
    set_ping_key(aws)
    check = api.create(name="from-a-page", slug="from-a-page", timeout=3600)
    headers = {"origin": "https://a.test", "access-control-request-method": "POST"}
    # When it sends the preflight, to the uuid URL and to the slug URL
    by_uuid = send(api_event("OPTIONS", f"/ping/{check['uuid']}{suffix}", headers=headers))
    by_slug = send(api_event("OPTIONS", f"/ping/{PING_KEY}/from-a-page{suffix}", headers=headers))
    # Then both are 204 with the ping methods allowed, and neither counts as a ping
    for reply in (by_uuid, by_slug):
        assert (reply.status, reply.text) == (204, "")
        assert reply.headers["access-control-allow-origin"] == "*"
        assert reply.headers["access-control-allow-methods"] == "GET, POST, HEAD, OPTIONS"
    shown = api.get(f"checks/{check['uuid']}").json()
    assert (shown["n_pings"], shown["status"]) == (0, "new")
    # And a method that is neither a ping nor a preflight is still refused
    assert send(api_event("PUT", f"/ping/{check['uuid']}")).status == 405


def test_cors_methods_are_the_routes_own(api: Api) -> None:
    # Given a check, whose URL takes GET, POST and DELETE
    check = api.create(name="x")
    # When it is read, and its pause URL (POST only) is preflighted
    read = api.get(f"checks/{check['uuid']}")
    pause = api.request("OPTIONS", f"checks/{check['uuid']}/pause", key="")
    # Then each names the methods of its own route
    assert read.headers["access-control-allow-methods"] == "DELETE, GET, POST, OPTIONS"
    assert pause.headers["access-control-allow-methods"] == "POST, OPTIONS"


def test_the_dashboard_page_sends_no_cors_headers(api: Api) -> None:
    # When the dashboard page is fetched
    page = send(api_event("GET", "/"))
    # Then it is same-origin only
    assert page.status == 200
    assert "access-control-allow-origin" not in page.headers


def test_subject_and_subject_fail_set_the_keywords_and_the_subject_filter(api: Api) -> None:
    # Given a check made with Healthchecks.io's deprecated email subject fields
    check = api.create(name="mail", subject="SUCCESS", subject_fail="ERROR")
    # When it is read back
    shown = api.get(f"checks/{check['uuid']}").json()
    # Then they became the success and failure keywords, with the subject filter on
    assert (shown["success_kw"], shown["failure_kw"]) == ("SUCCESS", "ERROR")
    assert (shown["subject"], shown["subject_fail"], shown["filter_subject"]) == (
        "SUCCESS",
        "ERROR",
        True,
    )
    # And emptying both turns the filter off, and the subjects read empty again
    emptied = api.post(f"checks/{check['uuid']}", {"subject": "", "subject_fail": ""}).json()
    assert (emptied["filter_subject"], emptied["subject"], emptied["subject_fail"]) == (
        False,
        "",
        "",
    )


def test_explicit_keywords_win_over_subject_and_only_subject_fail_keeps_the_filter_on(
    api: Api,
) -> None:
    # Given a check updated with a subject and an explicit success keyword at once
    check = api.create(name="mail")
    both = api.post(f"checks/{check['uuid']}", {"subject": "old", "success_kw": "new"}).json()
    # Then the explicit keyword wins, and the subject filter is on
    assert (both["success_kw"], both["filter_subject"], both["subject"]) == ("new", True, "new")
    # When the success keyword is emptied through subject while a failure keyword remains
    kept = api.post(f"checks/{check['uuid']}", {"subject_fail": "ERR", "subject": ""}).json()
    # Then the filter stays on for the failure keyword
    assert (kept["success_kw"], kept["failure_kw"], kept["filter_subject"]) == ("", "ERR", True)


def test_filter_body_is_the_email_body_filter_not_the_http_one(api: Api) -> None:
    # Given a check made with the email body filter on
    check = api.create(name="mail", filter_body=True)
    # When it is read back
    shown = api.get(f"checks/{check['uuid']}").json()
    # Then the email filter is on and the HTTP body filter is untouched, as on Healthchecks.io
    assert (shown["filter_body"], shown["filter_http_body"], shown["filter_subject"]) == (
        True,
        False,
        False,
    )


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_unique_key_url_only_reads(api: Api, method: str) -> None:
    # Given a check and the unique_key a read-only key knows it by
    check = api.create(name="x")
    unique_key = Api(key=RO_KEY).get("checks/").json()["checks"][0]["unique_key"]
    # When the unique_key URL is updated or deleted with the read-write key
    payload = {"name": "renamed"} if method == "POST" else None
    reply = api.request(method, f"checks/{unique_key}", payload)
    # Then it is 405 and says the URL only takes GET, and the check is unchanged
    assert (reply.status, reply.error) == (405, "method not allowed")
    assert reply.headers["allow"] == "GET, OPTIONS"
    assert api.get(f"checks/{check['uuid']}").json()["name"] == "x"
    # And its CORS headers, on the refusal and on a read, allow only reading too
    read = Api(key=RO_KEY).get(f"checks/{unique_key}")
    for answered in (reply, read):
        assert answered.headers["access-control-allow-methods"] == "GET, OPTIONS"


def test_an_oncalendar_schedule_makes_a_scheduled_check(api: Api) -> None:
    # Given a systemd timer's schedule, as Healthchecks.io takes it
    check = api.create(name="timer", schedule="Mon..Fri 09:00", tz="Europe/Riga", grace=600)
    # When it is pinged and read back
    assert api.ping(check["uuid"]).status == 200
    shown = api.get(f"checks/{check['uuid']}").json()
    # Then it keeps the schedule and zone, has no timeout, and expects the next weekday 09:00
    assert (shown["schedule"], shown["tz"], shown["status"]) == (
        "Mon..Fri 09:00",
        "Europe/Riga",
        "up",
    )
    assert "timeout" not in shown
    expected = datetime.fromisoformat(shown["next_ping"]).astimezone(ZoneInfo("Europe/Riga"))
    assert (expected.weekday() < 5, expected.hour, expected.minute) == (True, 9, 0)
    # And a bad one is refused in Healthchecks.io's words
    refused = api.post("checks/", {"schedule": "Mon..Fry 09:00"})
    assert (refused.status, refused.error) == (
        400,
        "json validation error: schedule is not a valid cron or OnCalendar expression",
    )


@pytest.mark.parametrize(
    "schedule",
    [
        "bad-expression",
        "* * * * * *",
        "* invalid *",
        "1,2 61 * * *",
        "0 0 31 2 *",
        "Surprise 12:34",
        "12:34 Europe/surprise",
        "12:34\nsurprise",
    ],
)
def test_a_schedule_healthchecks_io_rejects_is_rejected_and_changes_nothing(
    api: Api, schedule: str
) -> None:
    # Given a cron check
    check = api.create(name="cron", schedule="5 * * * *", grace=60)
    # When an update or a create sends a schedule that never fires or does not parse
    updated = api.post(f"checks/{check['uuid']}", {"schedule": schedule})
    created = api.post("checks/", {"name": "other", "schedule": schedule})
    # Then both are 400 in Healthchecks.io's one wording for cron and OnCalendar alike
    expected = (400, "json validation error: schedule is not a valid cron or OnCalendar expression")
    assert (updated.status, updated.error) == expected
    assert (created.status, created.error) == expected
    # And the check keeps its schedule, and no check was made
    assert api.get(f"checks/{check['uuid']}").json()["schedule"] == "5 * * * *"
    assert [c["name"] for c in api.get("checks/").json()["checks"]] == ["cron"]


def test_a_schedule_over_100_characters_is_too_long(api: Api) -> None:
    reply = api.post("checks/", {"schedule": "1," * 100 + "1 * * * *"})
    assert (reply.status, reply.error) == (400, "json validation error: schedule is too long")


@pytest.mark.parametrize(
    ("legacy", "current"),
    [("Europe/Kiev", "Europe/Kyiv"), ("UCT", "Etc/UTC"), ("CET", "Europe/Brussels")],
)
def test_a_legacy_time_zone_is_stored_under_its_current_name(
    api: Api, legacy: str, current: str
) -> None:
    # When a check is created, and another updated, with a zone's legacy name
    created = api.create(name="made", schedule="* * * * *", tz=legacy, grace=60)
    other = api.create(name="moved", schedule="* * * * *", tz="Europe/Riga", grace=60)
    updated = api.post(f"checks/{other['uuid']}", {"tz": legacy}).json()
    # Then both are stored and shown under the current name
    assert (created["tz"], updated["tz"]) == (current, current)
    assert api.get(f"checks/{created['uuid']}").json()["tz"] == current


@pytest.mark.parametrize("kept", ["Europe/Oslo", "UTC", "Etc/UTC", "America/New_York"])
def test_a_current_time_zone_name_is_stored_as_given(api: Api, kept: str) -> None:
    # Europe/Oslo is a link in tzdata's data since 2022, but zone.tab lists it: it is no
    # legacy name, and a user in Oslo keeps seeing Oslo
    created = api.create(name="here", schedule="* * * * *", tz=kept, grace=60)
    assert created["tz"] == kept


RID_A = "0b7d3a52-1c44-4a0e-9a51-2f8f6d4f0a01"
RID_B = "0b7d3a52-1c44-4a0e-9a51-2f8f6d4f0a02"
T0_MS = 1_767_225_600_000


def _ping_at(api: Api, monkeypatch: pytest.MonkeyPatch, at_s: float, target: str) -> None:
    monkeypatch.setattr(clock, "now_ms", lambda: T0_MS + round(at_s * 1000))
    assert api.ping(target).status == 200


def test_overlapping_runs_each_get_a_duration_in_the_ping_list(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two runs of one check that overlap: a starts, b starts, a ends, b fails
    check = api.create(name="overlap", timeout=3600)
    uuid = check["uuid"]
    _ping_at(api, monkeypatch, 0, f"{uuid}/start?rid={RID_A}")
    _ping_at(api, monkeypatch, 10, f"{uuid}/start?rid={RID_B}")
    _ping_at(api, monkeypatch, 30.004, f"{uuid}?rid={RID_A}")
    _ping_at(api, monkeypatch, 45.5, f"{uuid}/fail?rid={RID_B}")
    # When the pings are listed
    pings = api.get(f"checks/{uuid}/pings/").json()["pings"]
    # Then each finish measures its own run, rounded to hundredths as Healthchecks.io does
    assert [(p["type"], p["rid"], p.get("duration")) for p in pings] == [
        ("fail", RID_B, 35.5),
        ("success", RID_A, 30.0),
        ("start", RID_B, None),
        ("start", RID_A, None),
    ]
    # And the check's last duration is that of the run that was open when the last finish came
    assert api.get(f"checks/{uuid}").json()["last_duration"] == 35


def test_a_success_without_rid_after_a_start_with_one_leaves_last_duration_unset(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a measured run, then a run started with a rid
    check = api.create(name="mixed", timeout=3600)
    uuid = check["uuid"]
    _ping_at(api, monkeypatch, 0, f"{uuid}/start")
    _ping_at(api, monkeypatch, 4, uuid)
    assert api.get(f"checks/{uuid}").json()["last_duration"] == 4
    _ping_at(api, monkeypatch, 10, f"{uuid}/start?rid={RID_A}")
    # When a success without a rid arrives
    _ping_at(api, monkeypatch, 20, uuid)
    # Then the run is over, but neither the check nor the ping has a duration
    shown = api.get(f"checks/{uuid}").json()
    assert shown["started"] is False
    assert "last_duration" not in shown
    latest = api.get(f"checks/{uuid}/pings/").json()["pings"][0]
    assert "duration" not in latest
