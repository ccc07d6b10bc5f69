"""The Healthchecks.io ping protocol, through the real handler on moto: URLs, methods, replies."""

from __future__ import annotations

import base64
import uuid

import pytest

from cronbeat import runtime
from cronbeat.domain.channel import Channel
from cronbeat.domain.model import DEFAULT_GRACE_S, DEFAULT_TIMEOUT_S, Check
from cronbeat.store.channels import ChannelStore
from tests.conftest import Aws
from tests.integration.ping_requests import (
    CHECK_ID,
    PING_KEY,
    all_checks,
    flips,
    history,
    invoke,
    load_event,
    put_check,
    send,
    set_ping_key,
    stored_check,
)

URL = f"/ping/{CHECK_ID}"
RID = "3f2b8c1e-9d4a-4e7b-8c6d-5a1f0e2d3b4c"
OTHER_ID = "0b6c2d1e-7f3a-4c5b-8d9e-1a2b3c4d5e6f"


def assert_plain(response: dict[str, object], status: int, text: str) -> None:
    assert (response["statusCode"], response["body"]) == (status, text)


# URLs


def test_a_uuid_url_records_a_success(aws: Aws) -> None:
    # Given a new check
    put_check(aws)
    # When its URL is called
    response = send(URL)
    # Then it answers OK, records a success and comes up
    assert_plain(response, 200, "OK")
    [ping] = history(aws)
    assert ping["kind"] == {"S": "success"}
    assert stored_check(aws).status == "up"


@pytest.mark.parametrize(
    ("suffix", "kind", "exit_status"),
    [
        ("/start", "start", None),
        ("/fail", "fail", None),
        ("/log", "log", None),
        ("/0", "success", 0),
        ("/1", "fail", 1),
        ("/255", "fail", 255),
        ("/007", "fail", 7),
    ],
)
def test_suffixes_record_their_kind_and_exit_status(
    aws: Aws, suffix: str, kind: str, exit_status: int | None
) -> None:
    # Given a check
    put_check(aws)
    # When a suffixed URL is called
    response = send(URL + suffix)
    # Then the ping is recorded as that kind, with the exit status when one was given
    assert_plain(response, 200, "OK")
    [ping] = history(aws)
    assert ping["kind"] == {"S": kind}
    assert ping.get("exit") == (None if exit_status is None else {"N": str(exit_status)})
    assert stored_check(aws).last_exit == (exit_status if kind != "start" else None)


def test_a_trailing_slash_after_the_bare_uuid_is_accepted(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When its URL is called with a trailing slash
    response = send(URL + "/")
    # Then it is a success ping
    assert_plain(response, 200, "OK")
    assert stored_check(aws).n_pings == 1


@pytest.mark.parametrize("path", [f"/ping/{CHECK_ID.upper()}", f"/ping/{CHECK_ID}/fail/"])
def test_only_the_canonical_lowercase_uuid_url_names_a_check(aws: Aws, path: str) -> None:
    # Given a check
    put_check(aws)
    # When a URL that is not the canonical form is called
    response = send(path)
    # Then it is not found and nothing is recorded
    assert_plain(response, 404, "not found")
    assert stored_check(aws).n_pings == 0


@pytest.mark.parametrize(
    ("suffix", "kind"),
    [("", "success"), ("/start", "start"), ("/fail", "fail"), ("/log", "log"), ("/3", "fail")],
)
def test_slug_urls_take_the_same_suffixes(aws: Aws, suffix: str, kind: str) -> None:
    # Given a check with a slug, and the project's ping key
    set_ping_key(aws)
    put_check(aws, slug="db-backup")
    # When its slug URL is called
    response = send(f"/ping/{PING_KEY}/db-backup{suffix}")
    # Then the ping is recorded on that check
    assert_plain(response, 200, "OK")
    [ping] = history(aws)
    assert ping["kind"] == {"S": kind}


# Methods


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_get_post_and_head_all_record_a_ping(aws: Aws, method: str) -> None:
    # Given a check
    put_check(aws)
    # When it is pinged with the method
    response = send(URL, method=method)
    # Then the ping is recorded with its method
    assert_plain(response, 200, "OK")
    [ping] = history(aws)
    assert ping["method"] == {"S": method}


def test_other_methods_are_refused_and_not_recorded(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When it is called with PUT
    response = send(URL, method="PUT")
    # Then it gets a 4xx and nothing is recorded
    assert response["statusCode"] == 405
    assert history(aws) == []


# Status codes and bodies


def test_unknown_check_is_not_found(aws: Aws) -> None:
    # Given no check with this id
    # When it is pinged
    response = send(f"/ping/{OTHER_ID}")
    # Then the reply is 404 and no check appears
    assert_plain(response, 404, "not found")
    assert all_checks(aws) == []


def test_unknown_slug_without_create_is_not_found(aws: Aws) -> None:
    # Given the project's ping key and no check with the slug
    set_ping_key(aws)
    # When the slug is pinged without create
    response = send(f"/ping/{PING_KEY}/nightly")
    # Then it is not found and nothing is made
    assert_plain(response, 404, "not found")
    assert all_checks(aws) == []


def test_wrong_ping_key_is_not_found_even_with_create(aws: Aws) -> None:
    # Given a check with a slug under the project's key
    set_ping_key(aws)
    put_check(aws, slug="db-backup")
    # When the slug is pinged under another key, with and without create
    plain = send("/ping/wrongkeywrongkeywrongk/db-backup")
    create = send("/ping/wrongkeywrongkeywrongk/db-backup", query={"create": "1"})
    # Then both are not found, nothing is recorded and no check is made
    assert_plain(plain, 404, "not found")
    assert_plain(create, 404, "not found")
    assert [c.id for c in all_checks(aws)] == [CHECK_ID]
    assert history(aws) == []


def test_create_provisions_a_slug_check_attached_to_all_channels(aws: Aws) -> None:
    # Given the project's ping key and two channels
    set_ping_key(aws)
    channels = ChannelStore(aws.dynamodb, aws.events_table)
    channels.put(Channel(id="ch-a", kind="webhook", name="hook"))
    channels.put(Channel(id="ch-b", kind="slack", name="ops"))
    # When an unknown slug is pinged with create=1
    response = send(f"/ping/{PING_KEY}/nightly-report", query={"create": "1"})
    # Then it answers 201 Created with a check named after the slug, on defaults and all channels
    assert_plain(response, 201, "Created")
    [check] = all_checks(aws)
    assert (check.name, check.slug) == ("nightly-report", "nightly-report")
    assert (check.timeout_s, check.grace_s) == (DEFAULT_TIMEOUT_S, DEFAULT_GRACE_S)
    assert sorted(check.channel_ids) == ["ch-a", "ch-b"]
    assert check.created_ms is not None
    # And the ping was recorded on it, bringing it up from new
    assert (check.n_pings, check.status) == (1, "up")
    assert [f["old"]["S"] + ">" + f["new"]["S"] for f in flips(aws, check.id)] == ["new>up"]


def test_create_on_an_existing_slug_pings_it_without_making_another(aws: Aws) -> None:
    # Given a check provisioned by a first create ping
    set_ping_key(aws)
    first = send(f"/ping/{PING_KEY}/nightly", query={"create": "1"})
    # When the same slug is pinged with create=1 again
    second = send(f"/ping/{PING_KEY}/nightly/start", query={"create": "1"})
    # Then the second answers OK and lands on the same single check
    assert_plain(first, 201, "Created")
    assert_plain(second, 200, "OK")
    [check] = all_checks(aws)
    assert check.n_pings == 2


def test_two_checks_sharing_a_slug_are_ambiguous(aws: Aws) -> None:
    # Given two checks with the same slug
    set_ping_key(aws)
    put_check(aws, slug="backup")
    put_check(aws, Check(id=OTHER_ID, name="other"), slug="backup")
    # When the slug is pinged
    response = send(f"/ping/{PING_KEY}/backup")
    # Then it is a conflict and neither records anything
    assert_plain(response, 409, "ambiguous slug")
    assert (history(aws), history(aws, OTHER_ID)) == ([], [])


@pytest.mark.parametrize(
    ("path", "query", "text"),
    [
        (f"{URL}/256", None, "invalid url format"),
        (f"/ping/{PING_KEY}/Backup", None, "invalid url format"),
        (f"/ping/{PING_KEY}/back.up", None, "invalid url format"),
        (f"/ping/{PING_KEY}/backup/256", {"create": "1"}, "invalid url format"),
        (URL, {"rid": "12345"}, "invalid uuid format"),
        (URL, {"rid": ""}, "invalid uuid format"),
        (f"/ping/{PING_KEY}/fresh", {"create": "1", "rid": "nope"}, "invalid uuid format"),
    ],
)
def test_bad_requests_get_400_and_record_nothing(
    aws: Aws, path: str, query: dict[str, str] | None, text: str
) -> None:
    # Given a check and the project's ping key
    set_ping_key(aws)
    put_check(aws, slug="backup")
    # When a malformed ping arrives
    response = send(path, query=query)
    # Then it is a 400 with the protocol's text, nothing is recorded and nothing is created
    assert_plain(response, 400, text)
    assert history(aws) == []
    assert [c.id for c in all_checks(aws)] == [CHECK_ID]


# Headers


@pytest.mark.parametrize(
    ("method", "path", "query", "status"),
    [
        ("GET", URL, None, 200),
        ("HEAD", URL, None, 200),
        ("GET", f"/ping/{PING_KEY}/made-now", {"create": "1"}, 201),
        ("GET", f"{URL}/256", None, 400),
        ("GET", URL, {"rid": "12345"}, 400),
        ("GET", f"/ping/{OTHER_ID}", None, 404),
        ("GET", "/ping/garbage", None, 404),
        ("GET", "/elsewhere", None, 404),
        ("PUT", URL, None, 405),
        ("GET", f"/ping/{PING_KEY}/shared", None, 409),
    ],
)
def test_every_reply_carries_the_ping_headers(
    aws: Aws, method: str, path: str, query: dict[str, str] | None, status: int
) -> None:
    # Given a check, two checks sharing a slug, and the project's ping key
    set_ping_key(aws)
    put_check(aws)
    put_check(aws, Check(id=str(uuid.uuid4()), name="one"), slug="shared")
    put_check(aws, Check(id=str(uuid.uuid4()), name="two"), slug="shared")
    # When any ping request is answered
    response = send(path, method=method, query=query)
    # Then it is text/plain with CORS, no caching and the body limit
    assert response["statusCode"] == status
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["content-type"] == "text/plain"
    assert headers["access-control-allow-origin"] == "*"
    assert "no-cache" in headers["cache-control"]
    assert headers["ping-body-limit"] == "10000"


# rid


def test_rid_pairs_start_and_finish_in_any_letter_case(aws: Aws) -> None:
    # Given a check whose run started with an upper-case rid
    put_check(aws)
    send(f"{URL}/start", query={"rid": RID.upper()})
    # When the run finishes with the same rid in lower case
    response = send(URL, query={"rid": RID})
    # Then the finish closes that run and records its duration
    assert_plain(response, 200, "OK")
    start, finish = history(aws)
    assert start["rid"] == finish["rid"] == {"S": RID}
    assert "duration" in finish
    check = stored_check(aws)
    assert check.last_start_ms is None
    assert check.last_duration_ms == int(finish["duration"]["N"])


def test_a_finish_without_rid_closes_a_start_without_rid(aws: Aws) -> None:
    # Given an up check whose run started without a rid
    put_check(aws, status="up", last_ping_ms=1_000)
    send(f"{URL}/start")
    # When the run finishes with exit status 0, also without a rid
    response = send(f"{URL}/0")
    # Then the finish closes the run and records its duration
    assert_plain(response, 200, "OK")
    start, finish = history(aws)
    assert ("rid" in start, "rid" in finish) == (False, False)
    assert int(finish["duration"]["N"]) >= 0
    check = stored_check(aws)
    assert (check.last_start_ms, check.status) == (None, "up")
    assert check.last_duration_ms == int(finish["duration"]["N"])


def test_a_finish_with_another_rid_leaves_the_run_open(aws: Aws) -> None:
    # Given an up check with a run open under one rid
    put_check(aws)
    send(URL)
    send(f"{URL}/start", query={"rid": RID})
    # When a success arrives for a different rid
    send(URL, query={"rid": OTHER_ID})
    # Then the first run stays open and no duration is recorded
    check = stored_check(aws)
    assert (check.last_start_rid, check.last_duration_ms) == (RID, None)
    assert "duration" not in history(aws)[-1]


# Body


def test_the_body_is_stored_raw(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When it is pinged with a POST body
    send(URL, method="POST", body="rows: 42\nstatus: fine\n")
    # Then the history keeps the body bytes
    [ping] = history(aws)
    assert ping["body"] == {"B": b"rows: 42\nstatus: fine\n"}


def test_a_base64_body_is_decoded_before_it_is_stored(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When API Gateway hands over a base64-encoded binary body
    send(URL, method="POST", body=b"\x00\x01binary\xff", base64_body=True)
    # Then the decoded bytes are stored
    [ping] = history(aws)
    assert ping["body"] == {"B": b"\x00\x01binary\xff"}


def test_the_body_is_cut_to_the_limit_the_header_announces(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment with a 16-byte body limit
    monkeypatch.setenv("CRONBEAT_PING_BODY_LIMIT", "16")
    runtime.reset()
    put_check(aws)
    # When a longer body arrives, plain and base64-encoded
    plain = send(URL, method="POST", body="0123456789abcdefXYZ")
    encoded = send(URL, method="POST", body=b"fedcba9876543210XYZ", base64_body=True)
    # Then each stored body holds the first 16 bytes, and the replies say so
    assert [p["body"]["B"] for p in history(aws)] == [b"0123456789abcdef", b"fedcba9876543210"]
    assert plain["headers"]["Ping-Body-Limit"] == encoded["headers"]["Ping-Body-Limit"] == "16"


# What each ping records


def test_a_ping_records_method_scheme_address_agent_and_kind(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When a POST arrives through a proxy chain, with a port on the client's IPv4 address
    send(
        f"{URL}/0",
        method="POST",
        headers={
            "x-forwarded-for": "198.51.100.23:53122, 10.0.0.1",
            "x-forwarded-proto": "https",
            "user-agent": "runitor/v1.3.0",
        },
    )
    # Then the history records the first forwarded address without its port, and the rest
    [ping] = history(aws)
    assert ping["ip"] == {"S": "198.51.100.23"}
    assert ping["scheme"] == {"S": "https"}
    assert ping["method"] == {"S": "POST"}
    assert ping["ua"] == {"S": "runitor/v1.3.0"}
    assert (ping["kind"], ping["exit"]) == ({"S": "success"}, {"N": "0"})


def test_ipv6_forwarded_addresses_are_kept_whole(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When the client's address is IPv6
    send(URL, headers={"x-forwarded-for": "2001:db8::7"})
    # Then it is stored as it came
    assert history(aws)[0]["ip"] == {"S": "2001:db8::7"}


def test_without_proxy_headers_the_source_ip_and_http_are_recorded(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When a request carries no X-Forwarded-For or X-Forwarded-Proto
    send(URL, drop_headers=("x-forwarded-for", "x-forwarded-proto"))
    # Then the request context's source IP and the http scheme are recorded
    [ping] = history(aws)
    assert (ping["ip"], ping["scheme"]) == ({"S": "203.0.113.7"}, {"S": "http"})


def test_the_user_agent_is_cut_to_200_characters(aws: Aws) -> None:
    # Given a check
    put_check(aws)
    # When the user agent is very long
    send(URL, headers={"user-agent": "a" * 150 + "b" * 150})
    # Then 200 characters are kept
    assert history(aws)[0]["ua"] == {"S": "a" * 150 + "b" * 50}


def test_history_items_expire_after_the_ping_retention_setting(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check
    put_check(aws)
    # When it is pinged on the default retention, and again with a 7-day retention
    send(URL)
    monkeypatch.setenv("CRONBEAT_PING_RETENTION_DAYS", "7")
    runtime.reset()
    send(URL)
    # Then each history item's TTL is its own time plus that many days, in epoch seconds
    kept_days = [
        (int(p["expires_at"]["N"]) - int(p["at"]["N"]) // 1000) / 86400 for p in history(aws)
    ]
    assert kept_days == [30, 7]


# State changes come from the domain


def test_a_paused_check_with_manual_resume_ignores_pings(aws: Aws) -> None:
    # Given a paused check that resumes only by hand
    put_check(aws, status="paused", manual_resume=True)
    # When it is pinged
    response = send(URL)
    # Then the ping is recorded as ignored and the check stays paused
    assert_plain(response, 200, "OK")
    assert history(aws)[0]["kind"] == {"S": "ign"}
    assert stored_check(aws).status == "paused"


def test_a_paused_check_resumes_on_a_ping(aws: Aws) -> None:
    # Given a paused check without manual resume
    put_check(aws, status="paused", status_since_ms=1_000)
    # When it is pinged
    send(URL)
    # Then it comes up, with a resumed flip that remembers when the pause began
    assert stored_check(aws).status == "up"
    [flip] = flips(aws)
    assert (flip["reason"], flip["previous_since"]) == ({"S": "resumed"}, {"N": "1000"})


def test_a_post_only_check_ignores_get_pings(aws: Aws) -> None:
    # Given an up check that accepts only POST
    put_check(aws, status="up", methods="POST")
    # When a GET and then a POST arrive
    send(URL)
    send(URL, method="POST")
    # Then the GET is ignored and the POST counts
    assert [p["kind"]["S"] for p in history(aws)] == ["ign", "success"]
    assert stored_check(aws).success_streak == 1


def test_keyword_filters_decide_from_the_body(aws: Aws) -> None:
    # Given an up check that reads its outcome from the body
    put_check(aws, status="up", filter_http_body=True, failure_kw="ERROR", success_kw="done")
    # When bodies with each keyword arrive
    send(URL, method="POST", body="all done")
    send(URL, method="POST", body="ERROR: disk full")
    # Then the first is a success and the second a failure that takes the check down
    assert [p["kind"]["S"] for p in history(aws)] == ["success", "fail"]
    assert stored_check(aws).status == "down"


def test_failure_threshold_flips_down_only_on_the_nth_failure(aws: Aws) -> None:
    # Given an up check that tolerates one failure
    put_check(aws, status="up", failure_threshold=2)
    # When two failures arrive
    send(f"{URL}/fail")
    after_first = stored_check(aws).status
    send(f"{URL}/fail")
    # Then only the second flips it down
    assert (after_first, stored_check(aws).status) == ("up", "down")
    [flip] = flips(aws)
    assert (flip["old"], flip["new"], flip["reason"]) == ({"S": "up"}, {"S": "down"}, {"S": "fail"})


def test_recovery_threshold_needs_m_successes(aws: Aws) -> None:
    # Given a down check that needs two successes to recover
    put_check(aws, status="down", recovery_threshold=2)
    # When two successes arrive
    send(URL)
    after_first = stored_check(aws).status
    send(URL)
    # Then only the second brings it up
    assert (after_first, stored_check(aws).status) == ("down", "up")
    assert [f["reason"]["S"] for f in flips(aws)] == ["recovered"]


# The sample events


@pytest.mark.parametrize(
    ("name", "status", "text"),
    [
        ("ping_get_success", 200, "OK"),
        ("ping_post_body", 200, "OK"),
        ("ping_base64_body", 200, "OK"),
        ("ping_start_rid", 200, "OK"),
        ("ping_exit_code", 200, "OK"),
        ("ping_slug_create", 201, "Created"),
        ("ping_bad_path", 404, "not found"),
    ],
)
def test_each_sample_event_gets_its_reply(aws: Aws, name: str, status: int, text: str) -> None:
    # Given the check the samples ping and the project's ping key
    put_check(aws)
    set_ping_key(aws)
    # When the sample event is handled
    response = invoke(load_event(name))
    # Then the reply is the one the protocol specifies
    assert_plain(response, status, text)


def test_the_sample_pings_record_what_their_events_carry(aws: Aws) -> None:
    # Given the check the samples ping
    put_check(aws)
    names = ["ping_get_success", "ping_post_body", "ping_start_rid", "ping_exit_code"]
    names.append("ping_base64_body")
    events = [load_event(name) for name in names]
    # When the sample events are handled in turn
    for event in events:
        invoke(event)
    # Then each history item holds the kind, raw body, rid and exit status its event carries
    post, start, encoded = events[1], events[2], events[4]
    assert [(p["kind"]["S"], p.get("body"), p.get("rid"), p.get("exit")) for p in history(aws)] == [
        ("success", None, None, None),
        ("success", {"B": post["body"].encode()}, None, None),
        ("start", None, {"S": start["queryStringParameters"]["rid"].lower()}, None),
        ("fail", None, None, {"N": "1"}),
        ("fail", {"B": base64.b64decode(encoded["body"])}, None, None),
    ]
    assert [p["method"]["S"] for p in history(aws)] == ["GET", "POST", "GET", "GET", "POST"]
