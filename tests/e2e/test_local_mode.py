"""`cronbeat dev` end to end: a check goes down, a signed webhook says so, and it recovers.

Everything runs as a user runs it: the server is a subprocess on a free port, the check and the
webhook channel are made through the management API, pings are real HTTP requests, and the
webhook lands on a receiver on 127.0.0.1. Every wait polls a condition with a deadline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.devserver import DevServer, Receiver, poll, spawn, start

SECRET = "e2e-webhook-secret-0123456789"
RW_KEY = "e2eReadWriteKey0123456789abcdefg"
RO_KEY = "e2eReadOnlyKey0123456789abcdefgh"
ALERT_TIMEOUT_S = 15.0


@pytest.fixture
def dev() -> Iterator[DevServer]:
    server = start(
        "--sweep-seconds",
        "0.5",
        "--min-period",
        "1",
        "--api-key",
        RW_KEY,
        "--read-only-key",
        RO_KEY,
    )
    yield server
    assert server.stop() == 0, server.stderr.text()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    server = hooks.serve()
    yield hooks
    server.shutdown()
    server.server_close()


def verified(delivery_body: bytes, headers: dict[str, str]) -> dict[str, object]:
    """The webhook's JSON, after checking its signature and its signed timestamp."""
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery_body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Cronbeat-Signature"], expected)
    document: dict[str, object] = json.loads(delivery_body)
    assert str(document["timestamp"]) == headers["X-Cronbeat-Timestamp"]
    return document


def test_banner_tells_a_new_user_everything_to_start(dev: DevServer) -> None:
    # Given a freshly started server
    banner = dev.stdout.text()
    # Then it shows where it runs, the keys it was given, and that data is in memory only
    assert dev.base_url.startswith("http://127.0.0.1:")
    assert (dev.api_key, dev.read_only_key) == (RW_KEY, RO_KEY)
    assert "Data lives in memory only" in banner
    # And its three examples work when pasted: create a check, ping it, list checks
    create = dev.api("POST", "checks/", {"name": "backup", "slug": "backup", "timeout": 60})
    assert create.status == 201, create.text
    assert f"{dev.base_url}/api/v3/checks/" in banner
    ping = dev.ping(f"{dev.ping_key}/backup")
    assert (ping.status, ping.text) == (200, "OK")
    listed = dev.api("GET", "checks/", key=dev.read_only_key)
    assert [c["name"] for c in listed.json()["checks"]] == ["backup"]
    assert listed.json()["checks"][0]["n_pings"] == 1


@pytest.mark.timeout(30)
def test_check_goes_down_alerts_a_signed_webhook_and_recovers(
    dev: DevServer, receiver: Receiver
) -> None:
    # Given a webhook channel and a check that expects a ping every 4 s, with 2 s of grace
    channel = dev.api(
        "POST",
        "channels/",
        {"kind": "webhook", "name": "e2e", "url": receiver.url, "secret": SECRET},
    )
    assert channel.status == 201, channel.text
    created = dev.api(
        "POST", "checks/", {"name": "nightly backup", "timeout": 4, "grace": 2, "channels": "*"}
    )
    assert created.status == 201, created.text
    check = created.json()
    check_id = check["uuid"]
    assert check["ping_url"] == f"{dev.base_url}/ping/{check_id}"
    assert channel.json()["id"] in check["channels"].split(",")

    # When a run starts and then succeeds with the same rid, posting its output
    rid = str(uuid.uuid4())
    sent_at = time.monotonic()
    started = dev.ping(f"{check_id}/start?rid={rid}")
    finished = dev.ping(f"{check_id}?rid={rid}", body=b"backup done: 42 files\n")
    round_trip_s = time.monotonic() - sent_at

    # Then both are recorded, the finish with the run's duration and its output
    assert (started.status, started.text) == (200, "OK")
    assert (finished.status, finished.text) == (200, "OK")
    assert finished.headers["Ping-Body-Limit"] == "10000"
    pings = dev.api("GET", f"checks/{check_id}/pings/").json()["pings"]
    assert [(p["type"], p["rid"]) for p in pings] == [("success", rid), ("start", rid)]
    assert 0 < pings[0]["duration"] <= round_trip_s
    assert pings[1]["method"] == "GET"
    assert pings[0]["method"] == "POST"
    body = dev.api("GET", f"checks/{check_id}/pings/{pings[0]['n']}/body")
    assert body.text == "backup done: 42 files\n"
    assert dev.api("GET", f"checks/{check_id}").json()["status"] == "up"

    # When no ping comes for timeout + grace, the scanner flips it down and the webhook says so
    down = receiver.wait_for(1, ALERT_TIMEOUT_S, dev.stdout.text)[0]
    went_down_after_s = time.monotonic() - sent_at
    alert = verified(down.body, down.headers)
    assert down.path == "/hooks/cronbeat"
    assert down.headers["X-Cronbeat-Event"] == "flip"
    assert (alert["check_id"], alert["status"], alert["reason"]) == (check_id, "down", "timeout")
    assert alert["previous_status"] == "up"
    assert alert["body_tail"] == ""  # no ping came: the last run's output would mislead
    assert "no ping" in alert["summary"]
    assert went_down_after_s >= 6  # not before timeout + grace
    assert dev.api("GET", f"checks/{check_id}").json()["status"] == "down"
    # And the alerts topic got it too (printed by the console subscriber)
    dev.stdout.wait_for(r"SNS alert: .*nightly backup", ALERT_TIMEOUT_S)

    # When it pings again
    assert dev.ping(check_id).text == "OK"

    # Then it recovers, and the recovery webhook says since when it was down
    both = receiver.wait_for(2, ALERT_TIMEOUT_S, dev.stdout.text)
    recovery = verified(both[1].body, both[1].headers)
    assert (recovery["status"], recovery["previous_status"], recovery["reason"]) == (
        "up",
        "down",
        "recovered",
    )
    assert recovery["down_since"] == alert["flip_time"]
    assert len(receiver.deliveries) == 2  # the first ping (new → up) alerts no one

    # And the history holds the whole story, newest first: up, down on a timeout, up again
    flips = dev.api("GET", f"checks/{check_id}/flips/").json()["flips"]
    story = [(f["up"], f["reason"]) for f in flips]
    assert story == [(1, "recovered"), (0, "timeout"), (1, "first_ping")]


def test_a_run_past_its_max_duration_alerts_as_too_slow_with_both_numbers(
    dev: DevServer, receiver: Receiver
) -> None:
    # Given a webhook channel and an up check whose runs may take 1 s at most, set over HTTP
    channel = dev.api(
        "POST", "channels/", {"kind": "webhook", "url": receiver.url, "secret": SECRET}
    )
    assert channel.status == 201, channel.text
    spec = {"name": "etl", "timeout": 3600, "max_duration": 1, "channels": "*"}
    created = dev.api("POST", "checks/", spec)
    assert (created.status, created.json()["max_duration"]) == (201, 1), created.text
    check_id = created.json()["uuid"]
    assert dev.ping(check_id).text == "OK"
    # When a run starts and does not finish
    assert dev.ping(f"{check_id}/start").text == "OK"
    # Then the sweep flips it down as too slow, long before its schedule's deadline
    [down] = receiver.wait_for(1, ALERT_TIMEOUT_S, dev.stdout.text)
    alert = verified(down.body, down.headers)
    assert (alert["status"], alert["reason"]) == ("down", "too_slow")
    assert "longer than its max duration of 1 s" in str(alert["summary"])
    assert dev.api("GET", f"checks/{check_id}").json()["status"] == "down"


def history(server: DevServer, check_id: str) -> dict[str, object]:
    """What the API says about a check and its past, minus URLs (the port changes)."""
    check = server.api("GET", f"checks/{check_id}").json()
    pings = server.api("GET", f"checks/{check_id}/pings/").json()["pings"]
    bodies = [server.api("GET", f"checks/{check_id}/pings/{p['n']}/body").body for p in pings]
    return {
        "check": {k: v for k, v in check.items() if not k.endswith("_url")},
        "pings": [{k: v for k, v in p.items() if k != "body_url"} for p in pings],
        "bodies": bodies,
        "flips": server.api("GET", f"checks/{check_id}/flips/").json()["flips"],
    }


def settled(server: DevServer, check_id: str) -> bool:
    """Whether the check has a down flip and none of its deliveries is still pending."""
    flips = server.api("GET", f"checks/{check_id}/flips/").json()["flips"]
    deliveries = [d for f in flips for d in f["deliveries"]]
    down = any(f["status"] == "down" for f in flips)
    return down and bool(deliveries) and all(d["state"] != "pending" for d in deliveries)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    # Given a server keeping its state in a file, with a check that failed with output
    state = tmp_path / "cronbeat-dev.json"
    first = start("--state", str(state), "--sweep-seconds", "0.5")
    try:
        assert "(new)" in first.stdout.text()
        created = first.api("POST", "checks/", {"name": "kept", "timeout": 3600, "grace": 60})
        check_id = created.json()["uuid"]
        assert first.ping(check_id, body=b"first run\n").text == "OK"
        assert first.ping(f"{check_id}/fail", body=b"\xffnot utf-8 output").text == "OK"
        poll(
            lambda: settled(first, check_id),
            "the down alert's delivery to the topic settles",
            within_s=15,
        )
        before = history(first, check_id)
    finally:
        # When it is stopped the way a service manager stops it
        status = first.stop()
    assert status == 0, first.stderr.text()
    assert state.is_file()

    # And started again on the same file
    second = start("--state", str(state), "--sweep-seconds", "0.5")
    try:
        # Then it prints the same keys, and the check, its pings, output and flips are all there
        assert (second.api_key, second.read_only_key, second.ping_key) == (
            first.api_key,
            first.read_only_key,
            first.ping_key,
        )
        assert "loaded" in second.stdout.text()
        after = history(second, check_id)
        assert after == before
        assert after["check"]["n_pings"] == 2  # type: ignore[index]
        assert [f["reason"] for f in after["flips"]] == ["fail", "first_ping"]  # type: ignore[attr-defined]
    finally:
        # And Ctrl-C stops it as cleanly, saving again
        assert second.stop(signal.SIGINT) == 0
    second.stdout.wait_for(r"saved \d+ items to ", 1)


def test_a_stop_right_after_start_up_is_still_clean(tmp_path: Path) -> None:
    # Given a server that has just printed its banner
    state = tmp_path / "state.json"
    server = start("--state", str(state))
    # When it is told to stop at once
    status = server.stop()
    # Then it shuts down cleanly and saves its (fresh) state
    assert status == 0, server.stderr.text()
    assert json.loads(state.read_text())["format"] == "cronbeat-dev-state"


def test_port_in_use_is_a_one_line_error() -> None:
    # Given a port someone else listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When cronbeat dev is asked to use it
        server = spawn("--port", str(port))
        status = server.process.wait(30)
    # Then it says so in one line and exits non-zero
    server.stderr.wait_closed(5)
    assert status == 1
    assert server.stderr.lines == [
        f"cronbeat dev: port {port} on 127.0.0.1 is already in use"
        ' (pick another: --port N, or make dev ARGS="--port N")'
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sweep-seconds", "0"], "argument --sweep-seconds: '0' is not a number of seconds"),
        (["--min-period", "soon"], "argument --min-period: 'soon' is not a whole number"),
        (["--api-key", "short"], "--api-key must be exactly 32 letters"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (
            [
                "--api-key",
                "samefirstEIGHTcharsAAAAAAAAAAAAA",
                "--read-only-key",
                "samefirst" + "B" * 23,
            ],
            "--api-key and --read-only-key must differ in their first 8 characters",
        ),
    ],
)
def test_bad_flags_are_one_line_errors(args: list[str], message: str) -> None:
    # When cronbeat dev gets a flag it cannot use
    server = spawn(*args)
    status = server.process.wait(30)
    server.stderr.wait_closed(5)
    # Then it names the problem in one line and exits with status 2
    assert status == 2
    assert len(server.stderr.lines) == 1
    assert message in server.stderr.lines[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"format": "something else"}', "is not a cronbeat dev state file"),
        (
            '{"format": "cronbeat-dev-state", "version": 1,'
            ' "tables": {"Events": [{"b": {"B": "!"}}]}}',
            "is malformed",
        ),
    ],
)
def test_unusable_state_file_is_a_one_line_error(
    tmp_path: Path, content: str, message: str
) -> None:
    # Given a state file that is not one
    state = tmp_path / "state.json"
    state.write_text(content)
    # When cronbeat dev is started on it
    server = spawn("--port", "0", "--state", str(state))
    status = server.process.wait(30)
    server.stderr.wait_closed(5)
    # Then it refuses in one line, exits with status 2, and leaves the file alone
    assert status == 2
    assert len(server.stderr.lines) == 1
    assert message in server.stderr.lines[0]
    assert state.read_text() == content


@pytest.mark.parametrize("kind", ["directory", "not utf-8"])
def test_unreadable_state_file_is_a_one_line_error(tmp_path: Path, kind: str) -> None:
    # Given a state path that cannot be read as text: a directory, or bytes that are not UTF-8
    state = tmp_path / "state.json"
    if kind == "directory":
        state.mkdir()
    else:
        state.write_bytes(b"\xff\xfe{}")
    # When cronbeat dev is started on it
    server = spawn("--port", "0", "--state", str(state))
    status = server.process.wait(30)
    server.stderr.wait_closed(5)
    # Then it says it cannot read the file, in one line, and exits with status 2
    assert status == 2
    assert len(server.stderr.lines) == 1
    assert server.stderr.lines[0].startswith(f"cronbeat dev: cannot read state file {state}: ")
