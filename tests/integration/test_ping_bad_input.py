"""Bad input gets the specified 4xx (or a 200 where the protocol accepts it), never a 5xx."""

from __future__ import annotations

import pytest

from cronbeat.domain.model import Check
from tests.conftest import Aws
from tests.integration.ping_requests import (
    CHECK_ID,
    PING_KEY,
    all_checks,
    history,
    invoke,
    ping_event,
    put_check,
    send,
    set_ping_key,
    stored_check,
)

URL = f"/ping/{CHECK_ID}"
TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def check(aws: Aws) -> Check:
    """A check under the project's ping key, with a slug, ready to be pinged badly."""
    set_ping_key(aws)
    return put_check(aws, slug="backup")


def assert_nothing_recorded(aws: Aws) -> None:
    assert history(aws) == []
    assert stored_check(aws).n_pings == 0
    assert [c.id for c in all_checks(aws)] == [CHECK_ID]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ping", 404),
        ("/ping/../../etc/passwd", 404),
        (f"{URL}/-1", 404),
        (f"{URL}/1e3", 404),
        (f"{URL}/99999999999999999999", 400),
        (f"/ping/{PING_KEY}/backup/finish", 404),
        (f"/ping/{PING_KEY}/BACKUP", 400),
    ],
)
def test_garbage_paths_get_a_4xx_and_record_nothing(
    aws: Aws, check: Check, path: str, status: int
) -> None:
    # Given a check
    # When a garbage path is requested
    response = send(path)
    # Then it gets the 4xx the URL rules give, with the ping headers, and nothing is recorded
    assert response["statusCode"] == status
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert_nothing_recorded(aws)


@pytest.mark.parametrize("suffix", ["", "/fail", "/0"])
def test_a_uuid_without_dashes_is_not_found(aws: Aws, check: Check, suffix: str) -> None:
    # Given a check
    # When its UUID is sent without dashes
    response = send("/ping/" + CHECK_ID.replace("-", "") + suffix)
    # Then it is not found
    assert (response["statusCode"], response["body"]) == (404, "not found")
    assert_nothing_recorded(aws)


def test_exit_status_256_is_an_invalid_url(aws: Aws, check: Check) -> None:
    # Given a check
    # When exit status 256 is reported
    response = send(f"{URL}/256")
    # Then it is refused
    assert (response["statusCode"], response["body"]) == (400, "invalid url format")
    assert_nothing_recorded(aws)


@pytest.mark.parametrize(
    "rid", ["12345", "", "not-a-uuid", CHECK_ID.replace("-", ""), "{" + CHECK_ID + "}"]
)
def test_a_bad_rid_is_an_invalid_uuid(aws: Aws, check: Check, rid: str) -> None:
    # Given a check
    # When a run id that is not a dashed UUID comes with a ping
    response = send(URL, query={"rid": rid})
    # Then it is refused
    assert (response["statusCode"], response["body"]) == (400, "invalid uuid format")
    assert_nothing_recorded(aws)


@pytest.mark.parametrize("base64_body", [False, True])
def test_a_10_mb_body_is_cut_to_the_limit(aws: Aws, check: Check, base64_body: bool) -> None:
    # Given a check
    # When a 10 MB body arrives, plain or base64-encoded
    response = send(URL, method="POST", body="x" * TEN_MB, base64_body=base64_body)
    # Then the ping counts and the stored body is cut to the 10,000-byte limit
    assert response["statusCode"] == 200
    [ping] = history(aws)
    assert ping["body"] == {"B": b"x" * 10_000}


def test_a_non_utf8_body_is_stored_raw_and_filters_still_decide(aws: Aws) -> None:
    # Given an up check that reads its outcome from the body
    put_check(aws, status="up", filter_http_body=True, failure_kw="FAILED")
    raw = b"\xff\xfe\x00 backup FAILED \xc3\x28"
    # When a body that is not UTF-8 arrives
    response = send(URL, method="POST", body=raw, base64_body=True)
    # Then it is stored byte for byte and the keyword still makes it a failure
    assert response["statusCode"] == 200
    [ping] = history(aws)
    assert (ping["body"], ping["kind"]) == ({"B": raw}, {"S": "fail"})


def test_headers_utf8_cannot_encode_are_recorded_with_a_question_mark(
    aws: Aws, check: Check
) -> None:
    # Given a check
    # When the sender's headers carry lone surrogates, as a JSON event may
    response = send(
        URL,
        headers={
            "user-agent": "curl\ud800/8",
            "x-forwarded-for": "198.51.100.\udfff",
            "x-forwarded-proto": "\ud83dhttps",
        },
    )
    # Then the ping counts, each header kept with `?` in place of what could not be stored
    assert response["statusCode"] == 200
    [ping] = history(aws)
    assert (ping["ua"], ping["ip"], ping["scheme"]) == (
        {"S": "curl?/8"},
        {"S": "198.51.100.?"},
        {"S": "?https"},
    )


def test_a_body_that_is_not_valid_base64_is_stored_as_sent(aws: Aws, check: Check) -> None:
    # Given a check
    event = ping_event(URL, method="POST", body="not base64 at all!")
    event["isBase64Encoded"] = True
    # When API Gateway claims base64 for a body that is not
    response = invoke(event)
    # Then the ping still counts, with the text kept as it came
    assert response["statusCode"] == 200
    assert history(aws)[0]["body"] == {"B": b"not base64 at all!"}


def test_an_event_without_headers_query_or_body_is_a_plain_ping(aws: Aws, check: Check) -> None:
    # Given a check
    event = ping_event(URL)
    for key in ("headers", "queryStringParameters", "body", "isBase64Encoded", "cookies"):
        event.pop(key, None)
    # When the event carries nothing but the path and the request context
    response = invoke(event)
    # Then it is an ordinary success ping from the source IP
    assert response["statusCode"] == 200
    [ping] = history(aws)
    assert (ping["ip"], ping["scheme"]) == ({"S": "203.0.113.7"}, {"S": "http"})


def test_create_with_bad_input_creates_nothing(aws: Aws, check: Check) -> None:
    # Given the project's ping key
    # When create pings arrive with a bad rid, a bad exit status and an upper-case slug
    replies = [
        send(f"/ping/{PING_KEY}/fresh", query={"create": "1", "rid": "12345"}),
        send(f"/ping/{PING_KEY}/fresh/256", query={"create": "1"}),
        send(f"/ping/{PING_KEY}/Fresh", query={"create": "1"}),
    ]
    # Then each is a 400 and no check was made
    assert [r["statusCode"] for r in replies] == [400, 400, 400]
    assert_nothing_recorded(aws)
