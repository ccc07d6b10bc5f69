"""Mutes and maintenance windows through the HTTP API, the sweep, the notifier and a webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbeat.clock import now_ms
from cronbeat.handlers import notifier, scanner
from tests.conftest import Aws
from tests.integration.api_requests import Api
from tests.integration.http_receiver import Receiver
from tests.integration.outbox import (
    DeliveryQueueDriver,
    FakeContext,
    outbox,
    scheduled_event,
    stored,
    stream_record,
)

HOUR_S = 3600


class Alerts:
    """Hands a check's new outbox items to the notifier once each, then works the queue."""

    def __init__(self, aws: Aws, check_id: str) -> None:
        self._aws = aws
        self._check_id = check_id
        self._seen: set[str] = set()
        self.queue = DeliveryQueueDriver(aws)

    def deliver(self) -> list[dict[str, Any]]:
        """The outbox items that were new, after the notifier and the deliverer handled them."""
        new = [i for i in outbox(self._aws, self._check_id) if i["sk"]["S"] not in self._seen]
        self._seen |= {item["sk"]["S"] for item in new}
        records = [stream_record(item, str(100 + n)) for n, item in enumerate(new)]
        reply = notifier.handler({"Records": records}, FakeContext())
        assert reply["batchItemFailures"] == []
        self.queue.work()
        return new


def sweep_at(at_s: int) -> dict[str, Any]:
    summary: dict[str, Any] = scanner.handler(scheduled_event(at_s * 1000), FakeContext())
    return summary


def hooked_check(api: Api, receiver: Receiver, **fields: Any) -> dict[str, Any]:
    """An up check (timeout 1 d, grace 1 min) whose alerts go to a webhook at the receiver."""
    hook = api.post("channels/", {"kind": "webhook", "name": "ops", "url": receiver.url("/h")})
    assert hook.status == 201, hook.text
    check = api.create(name="db-backup", timeout=24 * HOUR_S, grace=60, channels=hook.json()["id"])
    if fields:
        assert api.post(f"checks/{check['uuid']}", fields).status == 200
    assert api.ping(check["uuid"]).status == 200
    return check


def test_a_down_while_muted_is_recorded_silently_and_alerted_once_when_the_mute_ends(
    aws: Aws, api: Api, receiver: Receiver
) -> None:
    # Given an up check with a webhook, muted for an hour
    check = hooked_check(api, receiver)
    alerts = Alerts(aws, check["uuid"])
    muted = api.post(f"checks/{check['uuid']}/mute", {"seconds": HOUR_S})
    assert muted.status == 200, muted.text
    assert muted.json()["muted"] is True
    mute_end_s = now_ms() // 1000 + HOUR_S
    # When its job fails inside the mute
    assert api.ping(check["uuid"], "/fail").status == 200
    # Then the flip is recorded as muted, and nobody is told
    [flip] = api.get(f"checks/{check['uuid']}/flips/").json()["flips"][:1]
    assert (flip["status"], flip["reason"], flip["muted"]) == ("down", "fail", True)
    assert [item.get("muted") for item in alerts.deliver()] == [None, {"BOOL": True}]
    assert receiver.received == []
    # When sweeps run inside the mute and after its end, twice
    sweep_at(mute_end_s - 60)
    assert alerts.deliver() == []
    first = sweep_at(mute_end_s + 60)
    second = sweep_at(mute_end_s + 120)
    alerts.deliver()
    # Then exactly one alert went out, saying it went down during maintenance
    assert (first["reminders_written"], second["reminders_written"]) == (1, 0)
    [received] = receiver.received
    body = received.json()
    assert body["kind"] == "reminder"
    assert body["summary"].startswith("went down at ")
    assert body["summary"].endswith(" UTC during maintenance and is still down")
    assert not stored(aws, check["uuid"])[0].alert_held


def test_a_down_that_recovers_inside_a_mute_sends_nothing_at_all(
    aws: Aws, api: Api, receiver: Receiver
) -> None:
    # Given a muted check that fails and recovers inside the mute
    check = hooked_check(api, receiver)
    alerts = Alerts(aws, check["uuid"])
    assert api.post(f"checks/{check['uuid']}/mute", {"seconds": HOUR_S}).status == 200
    mute_end_s = now_ms() // 1000 + HOUR_S
    api.ping(check["uuid"], "/fail")
    api.ping(check["uuid"])
    # When the sweep after the mute's end runs
    summary = sweep_at(mute_end_s + 60)
    alerts.deliver()
    # Then both flips are recorded as muted and nothing was sent
    flips = api.get(f"checks/{check['uuid']}/flips/").json()["flips"]
    assert [(f["status"], f["muted"]) for f in flips[:2]] == [("up", True), ("down", True)]
    assert summary["reminders_written"] == 0
    assert receiver.received == []


def test_unmute_ends_the_mute_and_the_next_failure_alerts_at_once(
    aws: Aws, api: Api, receiver: Receiver
) -> None:
    # Given a muted check
    check = hooked_check(api, receiver)
    alerts = Alerts(aws, check["uuid"])
    api.post(f"checks/{check['uuid']}/mute", {"seconds": HOUR_S})
    # When it is unmuted, and then fails
    shown = api.post(f"checks/{check['uuid']}/unmute")
    api.ping(check["uuid"], "/fail")
    alerts.deliver()
    # Then it is shown unmuted, and the down is alerted as usual
    assert shown.status == 200, shown.text
    assert (shown.json()["muted"], shown.json()["muted_until"]) == (False, None)
    [received] = receiver.received
    assert (received.json()["kind"], received.json()["reason"]) == ("flip", "fail")


def test_a_failure_inside_a_maintenance_window_is_muted(
    aws: Aws, api: Api, receiver: Receiver
) -> None:
    # Given a check whose daily 10-minute maintenance window opened a minute ago (UTC)
    opened = datetime.fromtimestamp(now_ms() // 60_000 * 60 - 60, tz=UTC)
    window = {"schedule": f"{opened.minute} {opened.hour} * * *", "duration": 600}
    check = hooked_check(api, receiver, maintenance=[window])
    alerts = Alerts(aws, check["uuid"])
    shown = api.get(f"checks/{check['uuid']}").json()
    # When it fails
    api.ping(check["uuid"], "/fail")
    alerts.deliver()
    # Then the check shows the window and its end, and the flip is muted and not sent
    assert (shown["muted"], shown["in_maintenance"]) == (True, True)
    assert shown["muted_until"] == (opened + timedelta(seconds=600)).isoformat()
    assert shown["maintenance"] == [window]
    [flip] = api.get(f"checks/{check['uuid']}/flips/").json()["flips"][:1]
    assert flip["muted"] is True
    assert receiver.received == []


def test_maintenance_is_kept_compact_and_shown_and_an_empty_list_removes_it(
    aws: Aws, api: Api
) -> None:
    # Given a check created with two windows
    windows = [
        {"schedule": "0 2 * * 0", "duration": 3600},
        {"schedule": "30 1 * * 1-5", "duration": 900},
    ]
    created = api.create(name="etl", schedule="0 3 * * *", tz="Europe/Riga", maintenance=windows)
    # Then the item holds them in one short attribute, and the API shows them as given
    _, _, item = stored(aws, created["uuid"])
    assert item["maintenance"] == {"S": "0 2 * * 0=3600;30 1 * * 1-5=900"}
    assert created["maintenance"] == windows
    # When they are set to an empty list
    cleared = api.post(f"checks/{created['uuid']}", {"maintenance": []})
    # Then the attribute is gone
    assert cleared.json()["maintenance"] == []
    assert "maintenance" not in stored(aws, created["uuid"])[2]


@pytest.mark.parametrize(
    ("windows", "error"),
    [
        (
            [{"schedule": "0 25 * * *", "duration": 600}],
            "json validation error: maintenance[0] schedule '0 25 * * *' is not a valid cron",
        ),
        (
            [{"schedule": "0 2 * * *", "duration": 600}, {"schedule": "0 2 * * *", "duration": 30}],
            "json validation error: maintenance[1] duration 30 is out of range",
        ),
        (
            [{"schedule": "0 2 * * 0", "duration": 8 * 86400}],
            "json validation error: maintenance[0] duration 691200 is out of range",
        ),
        (
            [{"schedule": "0 * * * *", "duration": 3600}],
            "json validation error: maintenance[0] duration 1 h is not shorter than the 1 h",
        ),
        (
            [{"schedule": "Mon 02:00", "duration": 600}],
            "json validation error: maintenance[0] schedule 'Mon 02:00' is not a 5-field cron",
        ),
        ([{"schedule": "0 2 * * *", "duration": "6"}], "an item in 'maintenance' is not a number"),
        ([{"schedule": "0 2 * * *"}], "an item in 'maintenance' is missing"),
        ("0 2 * * *=600", "json validation error: maintenance is not an array"),
        (None, "json validation error: maintenance is not an array"),
        ([{"schedule": "0 2 * * *", "duration": 600}] * 11, "maintenance is too long"),
    ],
)
def test_bad_maintenance_windows_are_refused_with_a_clear_400(
    api: Api, windows: Any, error: str
) -> None:
    # When a check is created with a window that cannot work
    reply = api.post("checks/", {"name": "etl", "maintenance": windows})
    # Then it is a 400 that says which window and why, and nothing was created
    assert reply.status == 400
    assert error in reply.error, reply.error
    assert api.get("checks/").json()["checks"] == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "json validation error: seconds is missing"),
        ({"seconds": "60"}, "json validation error: seconds is not a number"),
        ({"seconds": 1.5}, "json validation error: seconds is not a number"),
        ({"seconds": 0}, "json validation error: seconds is too small"),
        ({"seconds": 31 * 86400 + 1}, "json validation error: seconds is too large"),
        ({"seconds": None}, "json validation error: seconds is not a number"),
    ],
)
def test_a_bad_mute_is_refused_with_a_clear_400(
    aws: Aws, api: Api, body: dict[str, Any], error: str
) -> None:
    # Given a check
    check = api.create(name="etl")
    # When it is muted with a bad duration
    reply = api.post(f"checks/{check['uuid']}/mute", body)
    # Then it is a 400 saying why, and the check is not muted
    assert (reply.status, reply.error) == (400, error)
    assert "muted_until" not in stored(aws, check["uuid"])[2]


def test_mute_and_unmute_need_the_read_write_key_and_an_existing_check(
    aws: Aws, api: Api, readonly: Api
) -> None:
    # Given a check
    check = api.create(name="etl")
    # When the read-only key mutes or unmutes it, or the right key mutes an unknown check
    refused = readonly.post(f"checks/{check['uuid']}/mute", {"seconds": 60})
    refused_unmute = readonly.post(f"checks/{check['uuid']}/unmute")
    unknown = api.post("checks/6f0a6a1e-9b8c-4d3e-8f7a-1b2c3d4e5f60/mute", {"seconds": 60})
    # Then the key is wrong, the check unknown, and nothing changed
    assert (refused.status, refused.error) == (401, "wrong api key")
    assert (refused_unmute.status, refused_unmute.error) == (401, "wrong api key")
    assert unknown.status == 404
    assert "muted_until" not in stored(aws, check["uuid"])[2]
    # And the right key mutes it until a moment it shows
    muted = api.post(f"checks/{check['uuid']}/mute", {"seconds": 600}).json()
    assert muted["muted"] is True
    until_s = int(stored(aws, check["uuid"])[2]["muted_until"]["N"]) // 1000
    assert until_s == int(datetime.fromisoformat(muted["muted_until"]).timestamp())
