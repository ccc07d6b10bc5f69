"""Channels through the management API: Healthchecks.io's list, and cronbeat's create, update,
delete, test alert and delivery history."""

from __future__ import annotations

import json

import pytest

from cronbeat import runtime
from cronbeat.domain.ids import unique_key
from cronbeat.store.channels import ChannelStore
from cronbeat.store.deliveries import Target
from tests.conftest import Aws
from tests.integration.api_requests import Api
from tests.integration.outbox import DeliveryQueueDriver

SLACK_URL = "https://hooks.slack.test/services/T000/B000/secretpart"


def test_webhook_secret_is_generated_and_shown_only_once(aws: Aws, api: Api) -> None:
    # When a webhook channel is created without a secret
    reply = api.post("channels/", {"kind": "webhook", "name": "ops", "url": "https://ops.test/h"})
    # Then it is created with a generated secret, shown in this reply
    assert reply.status == 201
    created = reply.json()
    assert (created["kind"], created["name"]) == ("webhook", "ops")
    secret = created["secret"]
    assert len(secret) >= 32
    # And stored for the notifier, while the list never shows it or the URL
    stored = ChannelStore(aws.dynamodb, aws.events_table).get_many([created["id"]])[0]
    assert stored.config == {"url": "https://ops.test/h", "secret": secret}
    listed = api.get("channels/")
    assert listed.json() == {
        "channels": [
            {
                "id": created["id"],
                "name": "ops",
                "kind": "webhook",
                "settings": {},
                "last_delivery": None,
            }
        ]
    }
    assert secret not in listed.text
    assert "ops.test" not in listed.text


def test_given_secret_is_kept_and_not_echoed(aws: Aws, api: Api) -> None:
    # When a webhook is created with its own secret
    reply = api.post(
        "channels/",
        {"kind": "webhook", "url": "https://ops.test/h", "secret": "s" * 24},
    )
    # Then the reply does not repeat it, and the store has it
    assert "secret" not in reply.json()
    stored = ChannelStore(aws.dynamodb, aws.events_table).get_many([reply.json()["id"]])[0]
    assert stored.config["secret"] == "s" * 24


@pytest.mark.parametrize(
    ("body", "config"),
    [
        ({"kind": "slack", "url": SLACK_URL}, {"url": SLACK_URL}),
        ({"kind": "discord", "url": "https://discord.test/api/webhooks/1/x"}, None),
        ({"kind": "telegram", "bot_token": "123:abc", "chat_id": "-100200"}, None),
        ({"kind": "mattermost", "url": "https://chat.example.test/hooks/abc"}, None),
        ({"kind": "googlechat", "url": "https://chat.googleapis.test/v1/spaces/S"}, None),
        ({"kind": "msteams", "url": "https://prod.logic.azure.test/workflows/1"}, None),
        (
            {"kind": "ntfy", "url": "https://ntfy.test/jobs", "token": "tk_1", "priority_up": 2},
            {"url": "https://ntfy.test/jobs", "token": "tk_1", "priority_up": "2"},
        ),
    ],
)
def test_other_kinds_store_their_settings_and_echo_none(
    aws: Aws, api: Api, body: dict[str, str], config: dict[str, str] | None
) -> None:
    # When a slack, discord or telegram channel is created
    reply = api.post("channels/", body)
    # Then the reply names it and shows only the settings that are not secrets
    assert reply.status == 201
    assert set(reply.json()) == {"id", "name", "kind", "settings", "last_delivery"}
    stored = ChannelStore(aws.dynamodb, aws.events_table).get_many([reply.json()["id"]])[0]
    expected = config or {k: v for k, v in body.items() if k != "kind"}
    assert stored.config == expected
    shown = {k: v for k, v in expected.items() if k not in ("url", "token", "bot_token")}
    assert reply.json()["settings"] == shown
    assert api.get(f"channels/{reply.json()['id']}").json()["settings"] == shown


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "fax", "url": "https://x.test"}, "kind has unexpected value"),
        ({"url": "https://x.test"}, "kind is missing"),
        ({"kind": "slack"}, "url is missing"),
        ({"kind": "msteams"}, "url is missing"),
        (
            {"kind": "ntfy", "url": "https://ntfy.test/t", "priority_down": 6},
            "priority_down is too large",
        ),
        (
            {"kind": "ntfy", "url": "https://ntfy.test/t", "token": "has space"},
            "token does not match pattern",
        ),
        ({"kind": "webhook", "url": "ftp://x.test"}, "url does not match pattern"),
        ({"kind": "webhook", "url": "https://x.test", "secret": "short"}, "secret is too short"),
        ({"kind": "telegram", "bot_token": "1:a"}, "chat_id is missing"),
        ({"kind": "slack", "url": None}, "url is not a string"),
    ],
)
def test_bad_channel_is_refused(api: Api, body: dict[str, object], message: str) -> None:
    # When a channel is created with a missing or bad field
    reply = api.post("channels/", body)
    # Then 400 names it, and no channel exists
    assert (reply.status, reply.error) == (400, f"json validation error: {message}")
    assert api.get("channels/").json() == {"channels": []}


def test_new_channel_is_attached_to_existing_checks_unless_asked_not_to(api: Api) -> None:
    # Given a check with no channels
    code = api.create(name="job", channels="")["uuid"]
    # When one channel is created normally and one with attach_all false
    attached = api.post("channels/", {"kind": "slack", "url": SLACK_URL}).json()["id"]
    api.post("channels/", {"kind": "slack", "url": SLACK_URL, "attach_all": False})
    # Then the check has only the first
    assert api.get(f"checks/{code}").json()["channels"] == attached


def test_deleting_a_channel_detaches_it(api: Api) -> None:
    # Given a channel attached to a check
    channel = api.post("channels/", {"kind": "slack", "name": "s", "url": SLACK_URL}).json()
    code = api.create(name="job", channels="*")["uuid"]
    assert api.get(f"checks/{code}").json()["channels"] == channel["id"]
    # When it is deleted, twice
    first = api.delete(f"channels/{channel['id']}")
    second = api.delete(f"channels/{channel['id']}")
    # Then it is gone, the check no longer lists it, and the second delete is 404
    assert first.status == 200
    assert first.json() == {
        "id": channel["id"],
        "name": "s",
        "kind": "slack",
        "settings": {},
        "last_delivery": None,
    }
    assert second.status == 404
    assert api.get("channels/").json() == {"channels": []}
    assert api.get(f"checks/{code}").json()["channels"] == ""


def test_read_only_key_lists_channels_but_cannot_change_them(api: Api, readonly: Api) -> None:
    # Given a channel
    channel = api.post("channels/", {"kind": "slack", "url": SLACK_URL}).json()
    # When a read-only key lists, creates and deletes
    listed = readonly.get("channels/")
    created = readonly.post("channels/", {"kind": "slack", "url": SLACK_URL})
    deleted = readonly.delete(f"channels/{channel['id']}")
    # Then it may only list
    assert [c["id"] for c in listed.json()["channels"]] == [channel["id"]]
    assert (created.status, deleted.status) == (401, 401)


def test_a_channel_name_is_unique(api: Api) -> None:
    # Given a channel named "ops"
    api.post("channels/", {"kind": "slack", "name": "ops", "url": SLACK_URL})
    other = api.post("channels/", {"kind": "slack", "name": "dev", "url": SLACK_URL}).json()
    # When another is created with that name, or renamed to it
    created = api.post("channels/", {"kind": "webhook", "name": "ops", "url": "https://o.test/"})
    renamed = api.post(f"channels/{other['id']}", {"name": "ops"})
    # Then both are refused with a clear 400, and nothing changed
    assert (created.status, created.error) == (400, "a channel named 'ops' already exists")
    assert (renamed.status, renamed.error) == (400, "a channel named 'ops' already exists")
    assert sorted(c["name"] for c in api.get("channels/").json()["channels"]) == ["dev", "ops"]


def test_updating_a_webhook_changes_its_settings_and_keeps_it_on_its_checks(
    aws: Aws, api: Api
) -> None:
    # Given a webhook attached to a check
    channel = api.post(
        "channels/", {"kind": "webhook", "name": "ops", "url": "https://old.test/h"}
    ).json()
    code = api.create(name="job", channels="*")["uuid"]
    # When its name and URL change, and then its secret is rotated
    renamed = api.post(f"channels/{channel['id']}", {"name": "ops-2", "url": "https://new.test/h"})
    rotated = api.post(f"channels/{channel['id']}", {"rotate_secret": True})
    # Then the same channel has the new settings and a new secret, shown once
    assert renamed.status == 200
    assert renamed.json() == {
        "id": channel["id"],
        "name": "ops-2",
        "kind": "webhook",
        "settings": {},
        "last_delivery": None,
    }
    new_secret = rotated.json()["secret"]
    assert new_secret != channel["secret"]
    assert len(new_secret) >= 32
    stored = ChannelStore(aws.dynamodb, aws.events_table).get_many([channel["id"]])[0]
    assert stored.config == {"url": "https://new.test/h", "secret": new_secret}
    assert stored.name == "ops-2"
    # And the check still has it
    assert api.get(f"checks/{code}").json()["channels"] == channel["id"]


def test_updating_an_unknown_channel_is_404_and_a_bad_field_400(api: Api) -> None:
    # Given a slack channel
    channel = api.post("channels/", {"kind": "slack", "url": SLACK_URL}).json()
    # When an unknown id is updated, or the URL is not a URL
    unknown = api.post("channels/nope", {"name": "x"})
    bad = api.post(f"channels/{channel['id']}", {"url": "ftp://x.test"})
    # Then 404 and 400
    assert unknown.status == 404
    assert (bad.status, bad.error) == (400, "json validation error: url does not match pattern")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
    ],
)
def test_urls_to_private_addresses_are_refused_on_the_stack(
    api: Api, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    # Given the deployed stack's setting: private targets not allowed
    monkeypatch.setenv("CRONBEAT_ALLOW_PRIVATE_TARGETS", "false")
    runtime.reset()
    # When a webhook is created with a URL to the metadata service, loopback or a private net
    reply = api.post("channels/", {"kind": "webhook", "url": url})
    # Then it is a 400 that says why, without echoing the URL's path
    assert reply.status == 400
    assert reply.error.startswith("webhook url refused: url resolves to a")
    assert "/hook" not in reply.error
    assert "meta-data" not in reply.error
    assert api.get("channels/").json() == {"channels": []}


def test_a_test_alert_goes_through_the_queue_and_its_delivery_is_reported(
    aws: Aws, api: Api, receiver_url: tuple[str, list[bytes]]
) -> None:
    # Given a webhook to a receiver on 127.0.0.1
    url, received = receiver_url
    channel = api.post("channels/", {"kind": "webhook", "name": "ops", "url": url}).json()
    queue = DeliveryQueueDriver(aws)
    # When a test alert is asked for
    reply = api.post(f"channels/{channel['id']}/test")
    # Then it is queued, not sent: 202 with a pending delivery
    assert reply.status == 202
    queued = reply.json()["delivery"]
    assert (queued["state"], queued["target"], queued["check"]) == ("pending", channel["id"], None)
    assert received == []
    # When the deliverer works the queue
    assert queue.work() == 1
    # Then the receiver got one test alert, and the channel shows it as sent
    [body] = [json.loads(b) for b in received]
    assert body["reason"] == "test"
    listing = api.get(f"channels/{channel['id']}/deliveries/")
    assert listing.status == 200, listing.text
    [listed] = listing.json()["deliveries"]
    assert (listed["state"], listed["attempts"], listed["status_code"]) == ("sent", 1, 204)
    assert api.get(f"channels/{channel['id']}").json()["last_delivery"]["state"] == "sent"


def test_deliveries_of_an_unknown_channel_are_404(api: Api) -> None:
    # When an unknown channel's deliveries or test are asked for
    listed = api.get("channels/nope/deliveries/")
    tested = api.post("channels/nope/test")
    # Then both are 404
    assert (listed.status, tested.status) == (404, 404)


def test_a_read_only_key_sees_which_check_a_delivery_alerted_only_by_its_unique_key(
    aws: Aws, api: Api, readonly: Api
) -> None:
    # Given a check whose down alert is queued for a channel
    channel = api.post("channels/", {"kind": "webhook", "url": "https://ops.test/h"}).json()
    check_id = api.post("checks/", {"name": "backup", "channels": channel["id"]}).json()["uuid"]
    target = Target(check_id, "F#1796584551846#3", channel["id"], "webhook")
    runtime.stores().deliveries.open(target, now_ms=1796584551900)
    # When the channel's deliveries are listed with each key
    full = api.get(f"channels/{channel['id']}/deliveries/").json()["deliveries"]
    masked = readonly.get(f"channels/{channel['id']}/deliveries/")
    # Then the read-write key sees the uuid, and the read-only key the check's unique_key
    assert [d["check"] for d in full] == [check_id]
    assert [d["check"] for d in masked.json()["deliveries"]] == [unique_key(check_id)]
    # And the uuid, which is the check's ping address, appears nowhere in the read-only reply
    assert check_id not in masked.text
