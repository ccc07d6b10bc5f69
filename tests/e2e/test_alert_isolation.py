"""No broken channel holds back anyone else's alert, on `cronbeat dev` over real HTTP.

One check has three bad channels: a receiver that never answers, one that trickles its reply a
byte at a time, and one that always answers 500. Another check has one healthy webhook. The
healthy check's alert must still arrive at once, on its webhook and on the SNS topic, while the
bad channels' deliveries are cut off at the deadline and retried on the queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.devserver import BadReceiver, DevServer, Receiver, start

RW_KEY = "isoReadWriteKey0123456789abcdefg"
ISOLATED_S = 2.0
"""The promise: an unrelated alert arrives within this of its flip."""
DEADLINE_S = 10.0
"""One attempt's wall-clock deadline (`CRONBEAT_DELIVERY_DEADLINE`'s default)."""


@pytest.fixture
def dev() -> Iterator[DevServer]:
    server = start("--sweep-seconds", "1", "--min-period", "1", "--api-key", RW_KEY)
    yield server
    assert server.stop() == 0, server.stderr.text()


@pytest.fixture
def bad() -> Iterator[dict[str, BadReceiver]]:
    receivers = {kind: BadReceiver(kind) for kind in ("never", "trickle", "500")}
    servers = [receiver.serve() for receiver in receivers.values()]
    yield receivers
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def healthy() -> Iterator[Receiver]:
    hooks = Receiver()
    server = hooks.serve()
    yield hooks
    server.shutdown()
    server.server_close()


def channel(dev: DevServer, name: str, url: str) -> str:
    reply = dev.api(
        "POST", "channels/", {"kind": "webhook", "name": name, "url": url, "attach_all": False}
    )
    assert reply.status == 201, reply.text
    channel_id: str = reply.json()["id"]
    return channel_id


def check(dev: DevServer, name: str, channels: list[str]) -> str:
    reply = dev.api(
        "POST",
        "checks/",
        {"name": name, "timeout": 3600, "grace": 60, "channels": ",".join(channels)},
    )
    assert reply.status == 201, reply.text
    check_id: str = reply.json()["uuid"]
    return check_id


@pytest.mark.timeout(90)
def test_bad_channels_hold_back_no_other_alert(
    dev: DevServer, bad: dict[str, BadReceiver], healthy: Receiver
) -> None:
    # Given check C with three bad channels, and check A with one healthy webhook
    bad_ids = {kind: channel(dev, kind, receiver.url) for kind, receiver in bad.items()}
    ok_id = channel(dev, "healthy", healthy.url)
    c = check(dev, "C with bad channels", list(bad_ids.values()))
    a = check(dev, "A unrelated", [ok_id])
    for check_id in (c, a):
        assert dev.ping(check_id).text == "OK"  # new → up: alerts no one

    # When C fails, and 2 s later A fails
    assert dev.ping(f"{c}/fail").text == "OK"
    for receiver in bad.values():
        receiver.wait_until(lambda r=receiver: r.requests > 0, 5, "alert from C")
    # The measured scenario: A fails while C's attempts hang, 2 s in. A wait by design, not
    # a synchronisation: nothing is waited *for*.
    time.sleep(2)
    failed_at = time.time()
    assert dev.ping(f"{a}/fail").text == "OK"

    # Then A's webhook and its SNS publish both arrive within 2 s of its flip
    [delivery] = healthy.wait_for(1, 10, dev.stdout.text)
    assert delivery.received_s - failed_at <= ISOLATED_S, delivery.received_s - failed_at
    published_at = dev.stdout.wait_for_at(r"SNS alert: DOWN A unrelated", 10)
    assert published_at - failed_at <= ISOLATED_S, published_at - failed_at

    # And the bad channels' first attempts were cut off at the deadline (+1 s at most)
    for kind in ("never", "trickle"):
        bad[kind].wait_until(lambda k=kind: bool(bad[k].held_s), DEADLINE_S + 5, "cut-off")
    assert bad["never"].held_s[0] <= DEADLINE_S + 1
    assert bad["trickle"].held_s[0] <= DEADLINE_S + 1

    # And the API shows each bad delivery pending with why, and the healthy one sent
    [flip] = [f for f in dev.api("GET", f"checks/{c}/flips/").json()["flips"] if f["up"] == 0]
    states = {
        d["target"]: (d["state"], d["attempts"], d["status_code"]) for d in flip["deliveries"]
    }
    # (the 500 receiver's retry, 10 s after its first attempt, may already have been made)
    assert states[bad_ids["500"]][0] == "pending"
    assert states[bad_ids["500"]][2] == 500
    assert states[bad_ids["never"]][:2] == ("pending", 1)
    assert states["sns"] == ("sent", 1, None)
    [never] = dev.api("GET", f"channels/{bad_ids['never']}/deliveries/").json()["deliveries"]
    assert never["error"] == "timed out after 10 s"
    assert never["next_attempt"] is not None
    listed = {ch["id"]: ch for ch in dev.api("GET", "channels/").json()["channels"]}
    assert listed[ok_id]["last_delivery"]["state"] == "sent"
    assert listed[bad_ids["500"]]["last_delivery"]["state"] == "pending"
