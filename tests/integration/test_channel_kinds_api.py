"""Every channel kind through the management API on moto: created with its settings, its test
alert delivered through the queue, its secrets never read back or logged, and email and SMS
channels as topic subscriptions that hear only about their own checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.sns.models import sns_backends
from moto.sns.utils import FilterPolicyMatcher

from cronbeat.channels.sns import subscription_state
from cronbeat.handlers import deliverer, notifier
from tests.conftest import REGION, Aws
from tests.integration.api_requests import Api
from tests.integration.http_receiver import Receiver
from tests.integration.outbox import DeliveryQueueDriver, FakeContext, captured_logs, stream_record
from tests.integration.ping_requests import flips

SECRETS = {
    "webhook": {"url": "{base}/hook", "secret": "webhook-secret-0123456789"},
    "slack": {"url": "{base}/services/T/B/slack-secret"},
    "discord": {"url": "{base}/api/webhooks/1/discord-secret"},
    "mattermost": {"url": "{base}/hooks/mattermost-secret"},
    "googlechat": {"url": "{base}/v1/spaces/googlechat-secret"},
    "msteams": {"url": "{base}/workflows/msteams-secret"},
    "ntfy": {"url": "{base}/ntfy-secret-topic", "token": "ntfy-secret-token"},
    "telegram": {"bot_token": "1:telegram-secret", "chat_id": "-1001", "api_base": "{base}"},
    "pagerduty": {"routing_key": "pagerduty-secret-key", "api_base": "{base}"},
    "opsgenie": {"genie_key": "opsgenie-secret-key", "region": "eu", "api_base": "{base}"},
    "pushover": {
        "user_key": "pushover-secret-user",
        "app_token": "pushover-secret-app",
        "priority_down": 2,
        "api_base": "{base}",
    },
}
"""Each HTTP kind's settings, pointed at the receiver; every value with "secret" in it is one."""


def settings_for(kind: str, receiver: Receiver) -> dict[str, Any]:
    return {
        key: value.format(base=receiver.base_url) if isinstance(value, str) else value
        for key, value in SECRETS[kind].items()
    }


def secret_values(kind: str, receiver: Receiver) -> list[str]:
    shown = settings_for(kind, receiver).values()
    return [v for v in shown if isinstance(v, str) and "secret" in v]


def published(aws: Aws) -> list[tuple[str, dict[str, Any]]]:
    """Each message moto's topic took: (its JSON texts, its attributes in moto's form)."""
    account = aws.topic_arn.split(":")[4]
    topic = sns_backends[account][REGION].topics[aws.topic_arn]
    return [
        (message, attributes or {}) for _, message, _, attributes, _ in topic.sent_notifications
    ]


def filter_policies(aws: Aws) -> dict[str, tuple[dict[str, Any], str]]:
    """Each subscription's endpoint → (its filter policy, its scope)."""
    found = {}
    listed = aws.sns.list_subscriptions_by_topic(TopicArn=aws.topic_arn)["Subscriptions"]
    for entry in listed:
        attributes = aws.sns.get_subscription_attributes(SubscriptionArn=entry["SubscriptionArn"])
        policy = json.loads(attributes["Attributes"].get("FilterPolicy", "{}"))
        scope = attributes["Attributes"].get("FilterPolicyScope", "MessageAttributes")
        found[entry["Endpoint"]] = (policy, scope)
    return found


@pytest.mark.parametrize("kind", list(SECRETS))
def test_each_kind_is_created_through_the_api_and_its_test_alert_arrives(
    aws: Aws, api: Api, receiver: Receiver, kind: str
) -> None:
    # Given a channel of the kind, created through the API against the local receiver
    created = api.post("channels/", {"kind": kind, "name": kind, **settings_for(kind, receiver)})
    assert created.status == 201, created.text
    queue = DeliveryQueueDriver(aws)
    # When a test alert is asked for and the deliverer works the queue
    assert api.post(f"channels/{created.json()['id']}/test").status == 202
    assert queue.work() == 1
    # Then the receiver got exactly one request, and the channel shows the test as sent
    assert len(receiver.received) == 1
    shown = api.get(f"channels/{created.json()['id']}").json()
    assert shown["last_delivery"]["state"] == "sent"


@pytest.mark.parametrize("kind", list(SECRETS))
def test_a_secret_never_comes_back_in_a_read_nor_reaches_a_log_line(
    aws: Aws, api: Api, receiver: Receiver, kind: str
) -> None:
    # Given a channel of the kind, created and then updated
    body = {"kind": kind, "name": kind, **settings_for(kind, receiver)}
    created = api.post("channels/", body)
    channel_id = created.json()["id"]
    updated = api.post(f"channels/{channel_id}", {"name": f"{kind}-2"})
    # When its receiver fails a test alert with an error that would echo the request
    receiver.answer(500)
    with captured_logs(deliverer) as logs:
        api.post(f"channels/{channel_id}/test")
        DeliveryQueueDriver(aws).work()
    replies = [
        created.text,
        updated.text,
        api.get("channels/").text,
        api.get(f"channels/{channel_id}").text,
        api.get(f"channels/{channel_id}/deliveries/").text,
        logs.getvalue(),
    ]
    # Then none of the replies or log lines holds a secret, while the log names the failure
    assert "HTTP 500" in logs.getvalue()
    for secret in secret_values(kind, receiver):
        for text in replies:
            assert secret not in text


def test_an_email_channel_subscribes_with_a_filter_and_hears_only_of_its_check(
    aws: Aws, api: Api
) -> None:
    # Given two checks and two email channels, each channel on one check
    ops = api.post(
        "channels/", {"kind": "email", "address": "ops@example.com", "attach_all": False}
    )
    dba = api.post(
        "channels/", {"kind": "email", "address": "dba@example.com", "attach_all": False}
    )
    assert (ops.status, dba.status) == (201, 201), ops.text
    backup = api.create(name="backup", channels=ops.json()["id"])
    vacuum = api.create(name="vacuum", channels=dba.json()["id"])
    # And a subscriber to everything, as the stack's ALERT_EMAIL is
    aws.sns.subscribe(TopicArn=aws.topic_arn, Protocol="email", Endpoint="all@example.com")
    policies = filter_policies(aws)
    assert policies["ops@example.com"][0] == {"channel_ids": [ops.json()["id"]]}
    # When the backup check fails and its alert goes out
    queue = DeliveryQueueDriver(aws)
    assert api.ping(backup["uuid"], "/fail").status == 200
    [flip] = flips(aws, backup["uuid"])
    reply = notifier.handler({"Records": [stream_record(flip, "1")]}, FakeContext())
    assert reply["batchItemFailures"] == []
    queue.work()
    # Then one message was published, naming the backup check's email channel
    [(text, attributes)] = published(aws)
    assert json.loads(attributes["channel_ids"]["Value"]) == [ops.json()["id"]]
    # And by each subscription's filter policy, ops and the everything subscriber get it; dba
    # does not
    matching = {
        endpoint
        for endpoint, (policy, scope) in policies.items()
        if FilterPolicyMatcher(policy, scope).matches(attributes, text)
    }
    assert matching == {"ops@example.com", "all@example.com"}
    # And the flip's only delivery is the topic's: the email channel rides on it
    [shown] = api.get(f"checks/{backup['uuid']}/flips/").json()["flips"]
    assert [d["target"] for d in shown["deliveries"]] == ["sns"]
    assert api.get(f"checks/{vacuum['uuid']}/flips/").json()["flips"] == []


def test_deleting_an_email_channel_unsubscribes_it(aws: Aws, api: Api) -> None:
    # Given an email channel
    created = api.post("channels/", {"kind": "email", "address": "ops@example.com"}).json()
    assert "ops@example.com" in filter_policies(aws)
    # When it is deleted
    assert api.delete(f"channels/{created['id']}").status == 200
    # Then its subscription is gone
    assert "ops@example.com" not in filter_policies(aws)


def test_changing_an_address_moves_the_subscription(aws: Aws, api: Api) -> None:
    created = api.post("channels/", {"kind": "email", "address": "old@example.com"}).json()
    moved = api.post(f"channels/{created['id']}", {"address": "new@example.com"})
    assert moved.status == 200, moved.text
    policies = filter_policies(aws)
    assert "old@example.com" not in policies
    assert policies["new@example.com"][0] == {"channel_ids": [created["id"]]}


def test_an_sms_channel_subscribes_its_number_and_shows_its_state(aws: Aws, api: Api) -> None:
    # When an SMS channel is created
    created = api.post("channels/", {"kind": "sms", "name": "on-call", "phone": "+37120000000"})
    # Then the number is subscribed, shown, and its subscription's state is reported
    assert created.status == 201, created.text
    shown = api.get(f"channels/{created.json()['id']}").json()
    assert shown["settings"] == {"phone": "+37120000000"}
    assert shown["subscription"] == "confirmed"  # SNS confirms SMS subscriptions at once
    assert "+37120000000" in filter_policies(aws)


def test_an_email_test_alert_is_published_for_that_channel_alone(aws: Aws, api: Api) -> None:
    created = api.post("channels/", {"kind": "email", "address": "ops@example.com"}).json()
    queue = DeliveryQueueDriver(aws)
    assert api.post(f"channels/{created['id']}/test").status == 202
    assert queue.work() == 1
    [(text, attributes)] = published(aws)
    assert json.loads(attributes["channel_ids"]["Value"]) == [created["id"]]
    assert "a test alert" in json.loads(text)["email"]
    assert api.get(f"channels/{created['id']}").json()["last_delivery"]["state"] == "sent"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "email"}, "json validation error: address is missing"),
        ({"kind": "email", "address": "not-an-address"}, "address does not match pattern"),
        ({"kind": "sms", "phone": "0037120000000"}, "phone does not match pattern"),
        ({"kind": "pagerduty"}, "json validation error: routing_key is missing"),
        ({"kind": "pagerduty", "routing_key": "r", "severity": "huge"}, "severity"),
        ({"kind": "opsgenie", "genie_key": "k", "region": "mars"}, "region"),
        ({"kind": "pushover", "user_key": "u"}, "json validation error: app_token is missing"),
        (
            {"kind": "pushover", "user_key": "u", "app_token": "a", "priority_up": 3},
            "json validation error: priority_up must be -2 to 2 for pushover",
        ),
        (
            {"kind": "ntfy", "url": "https://ntfy.test/t", "priority_up": 0},
            "json validation error: priority_up must be 1 to 5 for ntfy",
        ),
        (
            {"kind": "pagerduty", "routing_key": "r", "api_base": "ftp://x"},
            "api_base does not match pattern",
        ),
    ],
)
def test_bad_settings_of_the_new_kinds_are_a_clear_400(
    api: Api, body: dict[str, Any], message: str
) -> None:
    reply = api.post("channels/", body)
    assert reply.status == 400
    assert message in reply.error
    assert api.get("channels/").json() == {"channels": []}


def test_an_api_base_on_a_private_address_is_refused_when_targets_must_be_public(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cronbeat import runtime

    monkeypatch.setenv("CRONBEAT_ALLOW_PRIVATE_TARGETS", "false")
    runtime.reset()
    body = {"kind": "pagerduty", "routing_key": "r", "api_base": "http://169.254.169.254"}
    reply = api.post("channels/", body)
    assert reply.status == 400
    assert reply.error.startswith("pagerduty api_base refused: url resolves to a link-local")


@pytest.mark.parametrize(
    ("listed", "state"),
    [
        ([{"Protocol": "email", "Endpoint": "a@x.io", "SubscriptionArn": "arn:1"}], "confirmed"),
        (
            [{"Protocol": "email", "Endpoint": "a@x.io", "SubscriptionArn": "PendingConfirmation"}],
            "pending_confirmation",
        ),
        ([{"Protocol": "email", "Endpoint": "b@x.io", "SubscriptionArn": "arn:1"}], "missing"),
        ([{"Protocol": "sms", "Endpoint": "a@x.io", "SubscriptionArn": "arn:1"}], "missing"),
    ],
)
def test_the_subscription_state_is_read_from_the_topics_listing(
    listed: list[dict[str, str]], state: str
) -> None:
    assert subscription_state(listed, "email", "a@x.io", "arn:1") == state
