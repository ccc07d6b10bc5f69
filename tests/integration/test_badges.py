"""Status badges, as Healthchecks.io serves them: the badge list, the tag badges and a check's.

Each test is named after the Healthchecks.io behaviour it follows (its badge tests are the
specification); the rest pin what a public URL must not give away.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from cronbeat import clock
from cronbeat.domain.model import Check
from tests.conftest import Aws
from tests.integration.api_requests import BASE, RO_KEY, Api, Reply, api_event, send
from tests.integration.ping_requests import store

T0_MS = 1_767_225_600_000
HOUR_MS = 3_600_000


def _public(url: str, method: str = "GET") -> Reply:
    """Fetch a badge URL as a browser would: no key."""
    parts = urlsplit(url)
    assert url.startswith(BASE), url
    return send(api_event(method, parts.path))


def _urls(api: Api) -> dict[str, dict[str, str]]:
    reply = api.get("badges/")
    assert reply.status == 200, reply.text
    badges: dict[str, dict[str, str]] = reply.json()["badges"]
    return badges


def _at(monkeypatch: pytest.MonkeyPatch, at_ms: int) -> None:
    monkeypatch.setattr(clock, "now_ms", lambda: at_ms)


def _json(reply: Reply) -> Any:
    assert reply.status == 200, reply.text
    return json.loads(reply.body)


def test_badges_lists_every_tag_and_star_in_six_forms(api: Api) -> None:
    # Given checks with tags
    api.create(name="a", tags="foo bar")
    api.create(name="b", tags="bar")
    # When the badge list is read, with the read-write and with the read-only key
    listed = _urls(api)
    read_only = _urls(Api(key=RO_KEY))
    # Then every tag and "*" have the six URLs, the same for either key
    assert sorted(listed) == ["*", "bar", "foo"]
    assert all(
        sorted(forms) == ["json", "json3", "shields", "shields3", "svg", "svg3"]
        for forms in listed.values()
    )
    assert read_only == listed
    # And a two-state URL's signature ends in -2, the three-state one's does not
    assert listed["foo"]["svg"].split("/")[-2].endswith("-2")
    assert not listed["foo"]["svg3"].split("/")[-2].endswith("-2")


def test_badges_needs_a_key_and_takes_only_get(api: Api) -> None:
    assert Api(key="").get("badges/").status == 401
    refused = api.post("badges/", {})
    assert refused.status == 405


def test_a_tag_badge_is_up_for_new_checks_and_green(api: Api) -> None:
    # Given a new check tagged foo
    api.create(name="a", tags="foo")
    urls = _urls(api)["foo"]
    # When its SVG and JSON badges are fetched without a key
    drawn = _public(urls["svg"])
    # Then the SVG is the green "up" badge, never cached, readable from any origin
    assert drawn.status == 200
    assert drawn.headers["content-type"] == "image/svg+xml"
    for part in ("#4c1", ">foo<", ">up<"):
        assert part in drawn.text
    assert "no-cache" in drawn.headers["cache-control"]
    assert drawn.headers["access-control-allow-origin"] == "*"
    assert _json(_public(urls["json"])) == {"status": "up", "total": 1, "grace": 0, "down": 0}


def test_a_late_check_is_up_on_two_state_badges_and_late_on_three_state(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check pinged at T0 with a 1 h period and 1 h grace, now 90 min later (in grace)
    _at(monkeypatch, T0_MS)
    check = api.create(name="nightly", tags="db", timeout=3600, grace=3600)
    assert api.ping(check["uuid"]).status == 200
    _at(monkeypatch, T0_MS + 90 * 60_000)
    urls = _urls(api)["db"]
    # When the two- and three-state badges are read
    # Then the two-state badge says up, counting the late check, and the three-state says late
    assert _json(_public(urls["json"])) == {"status": "up", "total": 1, "grace": 1, "down": 0}
    assert _json(_public(urls["json3"])) == {"status": "late", "total": 1, "grace": 1, "down": 0}
    assert "#fe7d37" in _public(urls["svg3"]).text
    assert _json(_public(urls["shields3"])) == {
        "schemaVersion": 1,
        "label": "db",
        "message": "late",
        "color": "important",
    }


def test_one_down_check_makes_the_tag_badge_down_even_while_it_runs(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two checks tagged web, one up and one that failed and then started again
    _at(monkeypatch, T0_MS)
    up = api.create(name="up", tags="web", timeout=3600)
    failed = api.create(name="failed", tags="web", timeout=3600)
    other = api.create(name="other", tags="batch", timeout=3600)
    for check in (up, other):
        assert api.ping(check["uuid"]).status == 200
    assert api.ping(failed["uuid"], "/fail").status == 200
    assert api.ping(failed["uuid"], "/start").status == 200
    urls = _urls(api)
    # When the badges are read
    # Then web is down, with both checks counted; batch is up; "*" counts all three
    assert _json(_public(urls["web"]["json"])) == {
        "status": "down",
        "total": 2,
        "grace": 0,
        "down": 1,
    }
    assert "#e05d44" in _public(urls["web"]["svg"]).text
    assert _json(_public(urls["batch"]["json"]))["status"] == "up"
    assert _json(_public(urls["*"]["json"])) == {
        "status": "down",
        "total": 3,
        "grace": 0,
        "down": 1,
    }
    assert _json(_public(urls["*"]["shields"]))["color"] == "critical"


def test_a_tag_with_special_characters_has_a_working_badge(api: Api) -> None:
    api.create(name="a", tags="db@dc1")
    url = _urls(api)["db@dc1"]["json"]
    assert "db%40dc1.json" in url
    assert _json(_public(url))["total"] == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace(url.split("/")[-2], "12345678"),
        lambda url: url.replace("/foo.", "/bar."),
        lambda url: url.replace(".svg", ".png"),
        lambda url: url.replace(".svg", ".svgfoo"),
        lambda url: url.replace(url.split("/")[-3], "00000000-0000-4000-8000-000000000000"),
    ],
    ids=["bad-signature", "other-tag", "unknown-format", "format-suffix", "other-project-key"],
)
def test_a_tag_badge_url_that_we_did_not_sign_is_404(api: Api, tamper: Any) -> None:
    # Given a check tagged foo and bar, and foo's signed URL
    api.create(name="a", tags="foo bar")
    url = _urls(api)["foo"]["svg"]
    assert _public(url).status == 200
    # When any part of it is changed: Then it is 404, so no tag's status can be guessed
    assert _public(tamper(url)).status == 404


def test_a_badge_preflight_is_204(api: Api) -> None:
    api.create(name="a", tags="foo")
    reply = _public(_urls(api)["foo"]["svg"], method="OPTIONS")
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "*"


def test_a_check_has_a_badge_url_that_hides_its_uuid(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check that is down
    _at(monkeypatch, T0_MS)
    check = api.create(name="Nightly backup", timeout=3600)
    assert api.ping(check["uuid"], "/fail").status == 200
    # When its badge_url is read, with either key
    url = check["badge_url"]
    read_only = Api(key=RO_KEY).get("checks/").json()["checks"][0]
    # Then both keys see the same two-state SVG URL, which does not contain the check's uuid
    assert read_only["badge_url"] == url
    assert url.startswith(f"{BASE}/b/2/")
    assert url.endswith(".svg")
    assert check["uuid"] not in url
    # And the badge is public and says down, under the check's name
    drawn = _public(url)
    assert drawn.status == 200
    for part in (">Nightly backup<", ">down<", "#e05d44"):
        assert part in drawn.text
    as_json = _json(_public(url.replace(".svg", ".json")))
    assert as_json == {"status": "down", "total": 1, "grace": 0, "down": 1}


def test_a_check_badge_shows_late_only_with_three_states(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _at(monkeypatch, T0_MS)
    check = api.create(name="late one", timeout=3600, grace=3600)
    assert api.ping(check["uuid"]).status == 200
    _at(monkeypatch, T0_MS + 90 * 60_000)
    two = check["badge_url"].replace(".svg", ".json")
    three = two.replace("/b/2/", "/b/3/")
    assert _json(_public(two)) == {"status": "up", "total": 1, "grace": 1, "down": 0}
    assert _json(_public(three))["status"] == "late"
    shields = _json(_public(three.replace(".json", ".shields")))
    assert (shields["label"], shields["message"]) == ("late one", "late")


@pytest.mark.parametrize(
    "path",
    [
        "/b/2/00000000-0000-4000-8000-000000000000.svg",
        "/b/2/not-a-key.svg",
        "/b/two/{key}.svg",
        "/b/2/{key}.png",
    ],
)
def test_a_check_badge_for_no_check_or_format_is_404(api: Api, path: str) -> None:
    check = api.create(name="x")
    key = check["badge_url"].rsplit("/", 1)[1].removesuffix(".svg")
    assert send(api_event("GET", path.format(key=key))).status == 404


def test_a_deleted_check_has_no_badge(api: Api) -> None:
    check = api.create(name="gone")
    assert _public(check["badge_url"]).status == 200
    assert api.delete(f"checks/{check['uuid']}").status == 200
    assert _public(check["badge_url"]).status == 404


def test_a_check_made_before_badges_gets_a_badge_key_when_next_changed(aws: Aws, api: Api) -> None:
    # Given a check stored without a badge key, as earlier versions stored them
    check = Check(id=str(uuid.uuid4()), name="old", created_ms=T0_MS)
    store(aws).create(check, None)
    assert "badge_url" not in api.get(f"checks/{check.id}").json()
    # When the API next changes it
    changed = api.post(f"checks/{check.id}", {"desc": "now with a badge"}).json()
    # Then it has a badge that works, and keeps it
    assert _public(changed["badge_url"]).status == 200
    assert api.get(f"checks/{check.id}").json()["badge_url"] == changed["badge_url"]
