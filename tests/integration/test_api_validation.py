"""Every refusal of the management API, worded as Healthchecks.io words it."""

from __future__ import annotations

import json

import pytest

from cronbeat import runtime
from tests.integration.api_requests import RO_KEY, Api

SMOKE = [
    ({"name": 5}, "name is not a string"),
    ({"timeout": 59}, "timeout is too small"),
    ({"schedule": "61 * * * *"}, "schedule is not a valid cron or OnCalendar expression"),
    ({"unique": ["name", "desc"]}, "an item in 'unique' has unexpected value"),
]
"""One field of each kind of refusal; tests/unit/test_check_spec_wording has every field."""


@pytest.mark.parametrize(("body", "problem"), SMOKE, ids=[p for _, p in SMOKE])
def test_bad_field_gets_healthchecks_wording(
    api: Api, body: dict[str, object], problem: str
) -> None:
    # When a check is created, and updated, with the bad field
    created = api.post("checks/", body)
    check = api.create(name="valid")
    updated = api.post(f"checks/{check['uuid']}", body)
    # Then both get 400 with Healthchecks.io's message, and nothing changed
    assert (created.status, created.error) == (400, f"json validation error: {problem}")
    assert (updated.status, updated.error) == (400, f"json validation error: {problem}")
    assert [c["name"] for c in api.get("checks/").json()["checks"]] == ["valid"]


@pytest.mark.parametrize("raw", ["{", "nope", '{"name": "x"'])
def test_unparsable_body(api: Api, raw: str) -> None:
    # When the body is not JSON
    reply = api.post("checks/", raw=raw)
    # Then it says so
    assert (reply.status, reply.error) == (400, "could not parse request body")


def test_undecodable_body(api: Api) -> None:
    # When the (base64-encoded) body is not UTF-8
    reply = api.post("checks/", raw=b"\xff\xfe{}")
    # Then it cannot be parsed, and nothing crashes
    assert (reply.status, reply.error) == (400, "could not parse request body")


@pytest.mark.parametrize("raw", ["[]", '"name"', "5", "true"])
def test_body_that_is_not_an_object(api: Api, raw: str) -> None:
    # When the body is JSON but not an object
    reply = api.post("checks/", raw=raw)
    # Then Healthchecks.io's message says so
    assert (reply.status, reply.error) == (400, "json validation error: value is not an object")


UNKNOWN = "checks/3f1c7e52-0b1a-4d2e-8f00-0123456789ab"


@pytest.mark.parametrize("path", ["checks/", f"{UNKNOWN}/pause", f"{UNKNOWN}/resume", "channels/"])
def test_body_that_is_not_an_object_is_refused_before_the_key(api: Api, path: str) -> None:
    # When a POST without any key carries JSON that is not an object
    reply = api.post(path, raw="[1, 2, 3]", key="")
    # Then, as on Healthchecks.io, the body is refused before the missing key is
    assert (reply.status, reply.error) == (400, "json validation error: value is not an object")


BEYOND_THE_PARSER = {
    "nested too deep": '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "integer too long": '{"timeout": ' + "9" * 5_000 + "}",
}


@pytest.mark.parametrize("raw", BEYOND_THE_PARSER.values(), ids=BEYOND_THE_PARSER.keys())
@pytest.mark.parametrize("path", ["checks/", f"{UNKNOWN}/pause", "channels/"])
@pytest.mark.parametrize("key", ["", RO_KEY, None])
def test_body_the_json_parser_gives_up_on_is_a_400(
    api: Api, path: str, key: str | None, raw: str
) -> None:
    # When a POST body is JSON that Python's parser refuses (nested too deep, or an integer too
    # long to convert), with no key, a read-only key or the read-write key
    reply = api.post(path, raw=raw, key=key)
    # Then it is an unreadable body, not a server error
    assert (reply.status, reply.error) == (400, "could not parse request body")


def test_empty_post_body_without_a_key_is_a_missing_key(api: Api) -> None:
    # When a POST carries no body and no key
    reply = api.post("channels/", key="")
    # Then the key is what is missing, as Healthchecks.io reads an empty body as no fields
    assert (reply.status, reply.error) == (401, "missing api key")


def test_minimum_period_follows_the_setting(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given local mode's minimum period of one second
    monkeypatch.setenv("CRONBEAT_MIN_PERIOD", "1")
    runtime.reset()
    # When a check with a 1-second timeout and grace is created, and one with 0
    short = api.post("checks/", {"timeout": 1, "grace": 1})
    zero = api.post("checks/", {"timeout": 0})
    # Then the first is accepted and the second is too small
    assert short.status == 201
    assert (zero.status, zero.error) == (400, "json validation error: timeout is too small")


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "missing api key"), ("short", "missing api key"), ("x" * 33, "missing api key")],
)
def test_key_that_is_not_32_characters_is_missing(api: Api, key: str, message: str) -> None:
    # When a request carries no key, or one of the wrong length
    reply = api.get("checks/", key=key)
    # Then it is refused as missing
    assert (reply.status, reply.error) == (401, message)


def test_unknown_key_is_wrong(api: Api) -> None:
    # When a 32-character key that was never issued is used, also with a known prefix
    unknown = api.get("checks/", key="z" * 32)
    same_prefix = api.get("checks/", key=api.key[:8] + "z" * 24)  # type: ignore[index]
    # Then both are wrong keys
    assert (unknown.status, unknown.error) == (401, "wrong api key")
    assert (same_prefix.status, same_prefix.error) == (401, "wrong api key")


def test_key_is_checked_before_the_body_is_validated(api: Api) -> None:
    # When an invalid body comes without a key, and with a read-only key
    anonymous = api.post("checks/", {"name": 5}, key="")
    read_only = api.post("checks/", {"name": 5}, key=RO_KEY)
    # Then the key problem is reported, not the body's
    assert (anonymous.status, anonymous.error) == (401, "missing api key")
    assert (read_only.status, read_only.error) == (401, "wrong api key")


def test_read_only_key_reads(readonly: Api) -> None:
    # When a read-only key lists checks and channels
    # Then it may
    assert readonly.get("checks/").status == 200
    assert readonly.get("channels/").status == 200


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    # When a path is called with a method it does not take
    put = api.request("PUT", "checks/")
    patch = api.request("PATCH", "checks/3f1c7e52-0b1a-4d2e-8f00-0123456789ab")
    # Then the answer is 405 and says which methods it takes
    assert put.status == patch.status == 405
    assert put.headers["allow"] == "GET, POST, OPTIONS"
    assert patch.headers["allow"] == "DELETE, GET, POST, OPTIONS"


def test_unknown_path_is_404(api: Api) -> None:
    # When a path that is no endpoint is called
    reply = api.get("nothing/here")
    # Then 404
    assert (reply.status, reply.error) == (404, "not found")


def test_cors_preflight_is_204_and_replies_allow_any_origin(api: Api) -> None:
    # When a browser sends a preflight and then the request
    preflight = api.request("OPTIONS", "checks/", key="", headers={"origin": "https://a.test"})
    listed = api.get("checks/", headers={"origin": "https://a.test"})
    # Then the preflight gets 204 with the allowed methods and headers
    assert preflight.status == 204
    assert "X-Api-Key" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    # And replies allow any origin, as Healthchecks.io's do
    assert listed.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("query", "problem"),
    [({"seconds": "abc"}, "seconds is not a number"), ({"start": "-1"}, "start is too small")],
)
def test_bad_flips_query_is_400(api: Api, query: dict[str, str], problem: str) -> None:
    # Given a check
    check = api.create(name="x")
    # When its flips are asked for with a bad parameter
    reply = api.get(f"checks/{check['uuid']}/flips/", query=query)  # type: ignore[arg-type]
    # Then the parameter is named
    assert (reply.status, reply.error) == (400, f"invalid query parameter: {problem}")


def test_errors_are_json_objects(api: Api) -> None:
    # When anything is refused
    reply = api.post("checks/", raw="{")
    # Then the body is a JSON object with one `error` string
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.body) == {"error": "could not parse request body"}
