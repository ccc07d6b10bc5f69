"""Publishing alerts to the SNS topic on moto: both texts, the subject and the filter attributes."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from cronbeat.channels import message, sns
from cronbeat.channels.alert import Alert
from cronbeat.domain.model import Check, Flip
from tests.conftest import REGION, Aws

T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""
MINUTE = 60_000


def alert(name: str = "nightly-backup", tags: str = "prod db") -> Alert:
    check = Check(
        id="7e57c0de-2222-4000-8000-000000000042",
        name=name,
        tags=tags,
        timeout_s=3600,
        grace_s=600,
        status="down",
        last_ping_ms=T0,
        last_exit=0,
    )
    return Alert(
        check,
        Flip(old="up", new="down", reason="timeout"),
        T0 + 72 * MINUTE,
        last_output=b"backing up /var/lib/db\nerror: disk full\n",
        dashboard_url="https://cronbeat.example/checks/7e57c0de",
    )


def sent(aws: Aws) -> list[tuple[str, str, str | None, dict[str, Any] | None, str | None]]:
    """What moto's topic recorded: (message id, message, subject, attributes, group id)."""
    notifications = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[aws.topic_arn]
    return list(notifications.sent_notifications)


def test_publish_sends_the_email_and_sms_texts_with_a_subject(aws: Aws) -> None:
    # Given a down alert
    down = alert()
    # When it is published to the alerts topic
    message_id = sns.publish(aws.sns, aws.topic_arn, down)
    # Then exactly one message went out, a JSON structure with the full and the short text
    [(recorded_id, body, subject, _, _)] = sent(aws)
    assert recorded_id == message_id
    texts = json.loads(body)
    assert set(texts) == {"default", "email", "sms"}
    assert texts["default"] == texts["email"] == message.email_text(down)
    assert texts["email"].startswith("nightly-backup is DOWN: no ping for 1 h 12 min")
    assert "error: disk full" in texts["email"]
    assert texts["sms"] == (
        "DOWN nightly-backup: no ping for 1 h 12 min, expected every 1 h, grace 10 min"
    )
    assert subject == texts["sms"]


def test_publish_sets_the_attributes_subscribers_filter_on(aws: Aws) -> None:
    # Given a tagged down alert
    # When it is published
    sns.publish(aws.sns, aws.topic_arn, alert())
    # Then check_id, check_name and status are strings, and tags a JSON string array
    [(_, _, _, attributes, _)] = sent(aws)
    assert attributes == {
        "check_id": {"Type": "String", "Value": "7e57c0de-2222-4000-8000-000000000042"},
        "check_name": {"Type": "String", "Value": "nightly-backup"},
        "status": {"Type": "String", "Value": "down"},
        "tags": {"Type": "String.Array", "Value": '["prod", "db"]'},
    }


def test_an_untagged_check_is_published_without_a_tags_attribute(aws: Aws) -> None:
    # Given an alert for a check without tags or name
    bare = alert(name="", tags="")
    # When it is published
    sns.publish(aws.sns, aws.topic_arn, bare)
    # Then there is no (empty, rejected) tags attribute, and the name falls back to the id
    [(_, _, _, attributes, _)] = sent(aws)
    assert attributes is not None
    assert "tags" not in attributes
    assert attributes["check_name"]["Value"] == bare.check.id


def test_a_subscriber_filtering_on_a_tag_gets_only_its_alerts_with_attributes(aws: Aws) -> None:
    # Given an SQS subscriber (raw delivery) that only wants alerts tagged "prod"
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="prod-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.sns.subscribe(
        TopicArn=aws.topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps({"tags": ["prod"], "status": ["down"]}),
        },
    )
    # When an alert for a "staging" check, then one for a "prod" check, is published
    sns.publish(aws.sns, aws.topic_arn, alert(name="staging-job", tags="staging"))
    sns.publish(aws.sns, aws.topic_arn, alert(name="prod-job", tags="prod"))
    # Then only the prod alert reaches the queue, as the default (full) text with its attributes
    received = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert len(received) == 1
    assert received[0]["Body"].startswith("prod-job is DOWN: no ping for 1 h 12 min")
    attributes = received[0]["MessageAttributes"]
    assert attributes["check_name"]["StringValue"] == "prod-job"
    assert attributes["status"]["StringValue"] == "down"
