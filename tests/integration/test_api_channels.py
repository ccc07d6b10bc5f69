"""Channels through the management API: Healthchecks.io's list, and cronbeat's create, delete."""

from __future__ import annotations

import pytest

from cronbeat.store.channels import ChannelStore
from tests.conftest import Aws
from tests.integration.api_requests import Api

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
    assert listed.json() == {"channels": [{"id": created["id"], "name": "ops", "kind": "webhook"}]}
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
    ],
)
def test_other_kinds_store_their_settings_and_echo_none(
    aws: Aws, api: Api, body: dict[str, str], config: dict[str, str] | None
) -> None:
    # When a slack, discord or telegram channel is created
    reply = api.post("channels/", body)
    # Then the reply names it without any of its settings
    assert reply.status == 201
    assert set(reply.json()) == {"id", "name", "kind"}
    stored = ChannelStore(aws.dynamodb, aws.events_table).get_many([reply.json()["id"]])[0]
    expected = config or {k: v for k, v in body.items() if k != "kind"}
    assert stored.config == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "email", "url": "https://x.test"}, "kind has unexpected value"),
        ({"url": "https://x.test"}, "kind is missing"),
        ({"kind": "slack"}, "url is missing"),
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
    code = api.create(name="job")["uuid"]
    assert api.get(f"checks/{code}").json()["channels"] == channel["id"]
    # When it is deleted, twice
    first = api.delete(f"channels/{channel['id']}")
    second = api.delete(f"channels/{channel['id']}")
    # Then it is gone, the check no longer lists it, and the second delete is 404
    assert first.status == 200
    assert first.json() == {"id": channel["id"], "name": "s", "kind": "slack"}
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
