"""The SNS alerts topic: publish an alert with attributes to filter on, and the email and SMS
channels' own subscriptions, each limited by a filter policy to the checks it is on.

A subscription without a filter policy (the stack's `ALERT_EMAIL`, one added by hand) gets every
alert. An email or SMS channel's subscription has the policy `{"channel_ids": ["<its id>"]}`,
and each publish lists in `channel_ids` the email and SMS channels of the alerting check, so
each address hears only about its checks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import InvalidChannelConfig

CHANNEL_IDS_ATTRIBUTE = "channel_ids"
PROTOCOLS = {"email": "email", "sms": "sms"}
"""The SNS protocol of each topic kind."""
PENDING_ARN = "PendingConfirmation"
"""What SNS lists as the ARN of a subscription nobody has confirmed yet."""

SubscriptionState = Literal["pending_confirmation", "confirmed", "missing"]


def message_attributes(alert: Alert, channel_ids: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """`check_id`, `check_name`, `status`, `tags` and `channel_ids`, for filter policies.

    `tags` and `channel_ids` are String.Arrays, left out when empty: SNS rejects empty values.
    """
    attributes = {
        "check_id": {"DataType": "String", "StringValue": alert.check.id},
        "check_name": {"DataType": "String", "StringValue": message.display_name(alert.check)},
        "status": {"DataType": "String", "StringValue": alert.status},
    }
    if alert.check.tag_list:
        tags = json.dumps(alert.check.tag_list, ensure_ascii=False)
        attributes["tags"] = {"DataType": "String.Array", "StringValue": tags}
    if channel_ids:
        listed = json.dumps(list(channel_ids))
        attributes[CHANNEL_IDS_ATTRIBUTE] = {"DataType": "String.Array", "StringValue": listed}
    return attributes


def structured_message(alert: Alert) -> str:
    """The `MessageStructure=json` body: the full text by default and for email, a short SMS."""
    full = message.email_text(alert)
    return json.dumps({"default": full, "email": full, "sms": message.sms_text(alert)})


def publish(sns_client: Any, topic_arn: str, alert: Alert, channel_ids: Sequence[str] = ()) -> str:
    """Publish the alert to `topic_arn` for the email and SMS `channel_ids`; returns SNS's
    MessageId."""
    response = sns_client.publish(
        TopicArn=topic_arn,
        Message=structured_message(alert),
        MessageStructure="json",
        Subject=message.subject(alert),
        MessageAttributes=message_attributes(alert, channel_ids),
    )
    return str(response["MessageId"])


def filter_policy(channel_id: str) -> dict[str, list[str]]:
    """The policy that lets an email or SMS channel's subscription take only its checks' alerts."""
    return {CHANNEL_IDS_ATTRIBUTE: [channel_id]}


@dataclass(frozen=True, slots=True)
class TopicSubscriptions:
    """The email and SMS channels' subscriptions on one topic."""

    client: Any
    topic_arn: str

    def subscribe(self, kind: str, endpoint: str, channel_id: str) -> str:
        """Subscribe `endpoint` under the channel's filter policy; the subscription's ARN.

        SNS sends an email address a confirmation message first: until it is confirmed, that
        address receives nothing.
        """
        try:
            reply = self.client.subscribe(
                TopicArn=self.topic_arn,
                Protocol=PROTOCOLS[kind],
                Endpoint=endpoint,
                Attributes={
                    "FilterPolicy": json.dumps(filter_policy(channel_id)),
                    "FilterPolicyScope": "MessageAttributes",
                },
                ReturnSubscriptionArn=True,
            )
        except self.client.exceptions.InvalidParameterException as refused:
            # SNS's own check of the address or number: the caller's mistake, not an outage.
            detail = refused.response.get("Error", {}).get("Message", "invalid endpoint")
            raise InvalidChannelConfig(f"SNS refused the {kind} endpoint: {detail}") from None
        return str(reply["SubscriptionArn"])

    def unsubscribe(self, subscription_arn: str) -> None:
        if subscription_arn and subscription_arn != PENDING_ARN:
            self.client.unsubscribe(SubscriptionArn=subscription_arn)

    def listed(self) -> list[dict[str, str]]:
        """Every subscription of the topic, as SNS lists them (Protocol, Endpoint, ARN)."""
        found: list[dict[str, str]] = []
        paginator = self.client.get_paginator("list_subscriptions_by_topic")
        for page in paginator.paginate(TopicArn=self.topic_arn):
            found.extend(page.get("Subscriptions", []))
        return found


def subscription_state(
    listed: Sequence[dict[str, str]], kind: str, endpoint: str, subscription_arn: str
) -> SubscriptionState:
    """Whether the channel's subscription is confirmed, still waits for confirmation, or is gone
    (unsubscribed by its recipient or by hand), from the topic's listing."""
    protocol = PROTOCOLS.get(kind)
    pending = False
    for entry in listed:
        if entry.get("Protocol") != protocol or entry.get("Endpoint") != endpoint:
            continue
        if entry.get("SubscriptionArn") == subscription_arn:
            return "confirmed"
        if entry.get("SubscriptionArn") == PENDING_ARN:
            pending = True
    return "pending_confirmation" if pending else "missing"
