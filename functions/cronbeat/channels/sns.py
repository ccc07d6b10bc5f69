"""Publish an alert to the SNS alerts topic: email and SMS texts, and attributes to filter on."""

from __future__ import annotations

import json
from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert


def message_attributes(alert: Alert) -> dict[str, dict[str, str]]:
    """`check_id`, `check_name`, `status` and `tags`, so subscribers can use filter policies.

    `tags` is a String.Array and is left out when the check has none: SNS rejects empty values.
    """
    attributes = {
        "check_id": {"DataType": "String", "StringValue": alert.check.id},
        "check_name": {"DataType": "String", "StringValue": message.display_name(alert.check)},
        "status": {"DataType": "String", "StringValue": alert.status},
    }
    if alert.check.tag_list:
        tags = json.dumps(alert.check.tag_list, ensure_ascii=False)
        attributes["tags"] = {"DataType": "String.Array", "StringValue": tags}
    return attributes


def structured_message(alert: Alert) -> str:
    """The `MessageStructure=json` body: the full text by default and for email, a short SMS."""
    full = message.email_text(alert)
    return json.dumps({"default": full, "email": full, "sms": message.sms_text(alert)})


def publish(sns_client: Any, topic_arn: str, alert: Alert) -> str:
    """Publish the alert to `topic_arn`; returns SNS's MessageId."""
    response = sns_client.publish(
        TopicArn=topic_arn,
        Message=structured_message(alert),
        MessageStructure="json",
        Subject=message.subject(alert),
        MessageAttributes=message_attributes(alert),
    )
    return str(response["MessageId"])
