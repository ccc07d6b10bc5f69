"""The alerts topic's console subscriber: an SQS queue on the topic, drained to the screen.

This is what an email or SMS subscriber would get on AWS. The queue receives the `default`
variant of each `MessageStructure=json` message, inside SNS's envelope with its attributes.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from cronbeat.local.console import Console


def subscribe_queue(sns: Any, sqs: Any, topic_arn: str, queue_name: str) -> str:
    """Create a queue, subscribe it to the topic, and return its URL."""
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def format_alert(envelope: dict[str, Any]) -> str:
    """The SNS notification as a console block: subject, attributes, then the message."""
    attributes = envelope.get("MessageAttributes") or {}
    described = ", ".join(f"{k}={v.get('Value', '')}" for k, v in sorted(attributes.items()))
    lines = [f"SNS alert: {envelope.get('Subject') or '(no subject)'}"]
    if described:
        lines.append(f"  attributes: {described}")
    lines.extend(f"  | {line}" for line in str(envelope.get("Message", "")).splitlines())
    return "\n".join(lines)


def drain(sqs: Any, queue_url: str, console: Console, stop: threading.Event) -> None:
    """Print every message the topic delivers until `stop` is set."""
    while not stop.is_set():
        try:
            reply = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
        except Exception as error:  # the backend is going away at shutdown
            if not stop.is_set():
                console.error(f"alerts topic: {error}")
                stop.wait(1)
            continue
        for message in reply.get("Messages", []):
            try:
                envelope = json.loads(message["Body"])
            except ValueError:
                envelope = {"Message": message["Body"]}
            console.say(format_alert(envelope))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
