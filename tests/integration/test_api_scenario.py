"""A check's life through the API and the ping URL, step by step as on Healthchecks.io."""

from __future__ import annotations

from tests.integration.api_requests import Api


def test_create_ping_pause_resume_delete(api: Api) -> None:
    # Given a new check
    check = api.create(name="backup", timeout=3600, grace=300)
    code = check["uuid"]
    assert (check["status"], check["n_pings"], check["last_ping"]) == ("new", 0, None)

    # When it is pinged, it comes up and expects the next ping a timeout later
    assert api.ping(code).text == "OK"
    up = api.get(f"checks/{code}").json()
    assert (up["status"], up["n_pings"]) == ("up", 1)
    assert up["last_ping"] is not None
    assert up["next_ping"] is not None
    assert up["next_ping"] > up["last_ping"]

    # When it is paused, it stays paused however often the pause is repeated
    assert api.post(f"checks/{code}/pause").json()["status"] == "paused"
    assert api.post(f"checks/{code}/pause").json()["status"] == "paused"
    assert api.get(f"checks/{code}").json()["next_ping"] is None

    # When it is resumed, it is new again and waits for its first ping
    resumed = api.post(f"checks/{code}/resume").json()
    assert (resumed["status"], resumed["last_ping"], resumed["n_pings"]) == ("new", None, 1)
    assert api.post(f"checks/{code}/resume").status == 409

    # When the job pings again, it is up
    api.ping(code)
    assert api.get(f"checks/{code}").json()["status"] == "up"

    # And the flips tell the story, newest first
    flips = api.get(f"checks/{code}/flips/").json()["flips"]
    assert [(f["status"], f["up"]) for f in flips] == [
        ("up", 1),
        ("new", 0),
        ("paused", 0),
        ("up", 1),
    ]

    # When it is deleted, the API and the ping URL no longer know it
    assert api.delete(f"checks/{code}").json()["uuid"] == code
    assert api.get(f"checks/{code}").status == 404
    assert (api.ping(code).status, api.ping(code).text) == (404, "not found")


def test_a_ping_resumes_a_paused_check_unless_manual_resume(api: Api) -> None:
    # Given two paused checks, one that resumes only through the API
    auto = api.create(name="auto")["uuid"]
    manual = api.create(name="manual", manual_resume=True)["uuid"]
    for code in (auto, manual):
        api.ping(code)
        api.post(f"checks/{code}/pause")
    # When both are pinged
    api.ping(auto)
    api.ping(manual)
    # Then the first is up again, the second stays paused and records the ping as ignored
    assert api.get(f"checks/{auto}").json()["status"] == "up"
    assert api.get(f"checks/{manual}").json()["status"] == "paused"
    assert api.get(f"checks/{manual}/pings/").json()["pings"][0]["type"] == "ign"


def test_a_failure_ping_takes_the_check_down_and_a_success_brings_it_back(api: Api) -> None:
    # Given an up check
    code = api.create(name="job")["uuid"]
    api.ping(code)
    # When the job reports a failure, then a success
    api.ping(code, "/fail")
    down = api.get(f"checks/{code}").json()
    api.ping(code, "/0")
    up = api.get(f"checks/{code}").json()
    # Then it went down and came back up
    assert (down["status"], up["status"]) == ("down", "up")
    assert [p["type"] for p in api.get(f"checks/{code}/pings/").json()["pings"]] == [
        "success",
        "fail",
        "success",
    ]
