"""moto's in-memory AWS for local mode: the tables, the alerts topic, the environment to reach them.

moto runs as a server on 127.0.0.1 (not the in-process `mock_aws`, which is not thread-safe), and
every boto3 client in the process reaches it through `AWS_ENDPOINT_URL`, with fake credentials,
so nothing here can touch a real AWS account.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from cronbeat import runtime
from cronbeat.local.functions import REGION
from cronbeat.local.topic import subscribe_queue
from cronbeat.store.tables import CHECKS, EVENTS, create_tables

TABLE_NAMES = {CHECKS.logical_name: "cronbeat-checks", EVENTS.logical_name: "cronbeat-events"}
TOPIC_NAME = "cronbeat-alerts"
CONSOLE_QUEUE_NAME = "cronbeat-alerts-console"
DELIVERIES_QUEUE_NAME = "cronbeat-deliveries"
DEAD_LETTER_QUEUE_NAME = "cronbeat-dead-letters"

_FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def atomic_dynamodb_requests() -> Iterator[None]:
    """Serialise the in-process moto server's DynamoDB requests while the block runs.

    DynamoDB applies each conditional write and each transaction atomically. moto checks a
    condition and writes in two steps, and undoes a cancelled transaction by restoring a copy of
    the whole table taken when it began, which erases whatever other requests wrote meanwhile.
    One request at a time gives concurrent pings and sweeps the atomicity they rely on.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    lock = threading.Lock()

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]


def create_delivery_queues(sqs: Any, suffix: str = "") -> tuple[str, str]:
    """The delivery queue and its dead-letter queue, with the stack's redrive backstop."""
    from cronbeat.channels.delivery import MAX_ATTEMPTS

    dead_letters: str = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE_NAME + suffix)["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps(
        {"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": 3 * MAX_ATTEMPTS}
    )
    deliveries: str = sqs.create_queue(
        QueueName=DELIVERIES_QUEUE_NAME + suffix,
        Attributes={"VisibilityTimeout": "60", "RedrivePolicy": redrive},
    )["QueueUrl"]
    return deliveries, dead_letters


@dataclass
class LocalAws:
    server: Any
    endpoint_url: str
    table_names: dict[str, str]
    topic_arn: str
    alerts_queue_url: str
    deliveries_queue_url: str
    dead_letter_queue_url: str
    dynamodb: Any
    sqs: Any
    _undo: ExitStack = field(default_factory=ExitStack)

    @classmethod
    def start(cls) -> LocalAws:
        """Start moto, point the environment at it, and create the tables and the topic.

        Clients for local mode's own work come from a separate boto3 session, so the stream
        emulation (watching the default session that the handlers use) never sees them.
        """
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        undo = ExitStack()
        undo.enter_context(atomic_dynamodb_requests())
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"

        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(_FAKE_AWS_ENVIRONMENT)
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
        session = boto3.session.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        sns = session.client("sns")
        sqs = session.client("sqs")

        create_tables(dynamodb, TABLE_NAMES)
        topic_arn: str = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        queue_url = subscribe_queue(sns, sqs, topic_arn, CONSOLE_QUEUE_NAME)
        deliveries_url, dead_letters_url = create_delivery_queues(sqs)

        os.environ["CRONBEAT_CHECKS_TABLE"] = TABLE_NAMES[CHECKS.logical_name]
        os.environ["CRONBEAT_EVENTS_TABLE"] = TABLE_NAMES[EVENTS.logical_name]
        os.environ["CRONBEAT_ALERTS_TOPIC_ARN"] = topic_arn
        os.environ["CRONBEAT_DELIVERIES_QUEUE_URL"] = deliveries_url
        os.environ["CRONBEAT_DEAD_LETTER_QUEUE_URL"] = dead_letters_url
        # The README's receivers listen on 127.0.0.1; the deployed stack refuses such URLs.
        os.environ["CRONBEAT_ALLOW_PRIVATE_TARGETS"] = "true"
        runtime.reset()
        return cls(
            server,
            endpoint_url,
            dict(TABLE_NAMES),
            topic_arn,
            queue_url,
            deliveries_url,
            dead_letters_url,
            dynamodb,
            sqs,
            undo,
        )

    @property
    def events_table(self) -> str:
        return self.table_names[EVENTS.logical_name]

    def stop(self) -> None:
        self.server.stop()
        self._undo.close()
