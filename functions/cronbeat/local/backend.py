"""moto's in-memory AWS for local mode: the tables, the alerts topic, the environment to reach them.

moto runs as a server on 127.0.0.1 (not the in-process `mock_aws`, which is not thread-safe), and
every boto3 client in the process reaches it through `AWS_ENDPOINT_URL`, with fake credentials,
so nothing here can touch a real AWS account.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
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


WriteObserver = Callable[[str, Any, dict[str, Any]], None]
"""Called after each successful DynamoDB write request, inside the request lock:
(operation name, moto's DynamoDB backend, the request's parameters)."""

WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


@contextmanager
def atomic_dynamodb_requests(after_write: WriteObserver | None = None) -> Iterator[None]:
    """Serialise the in-process moto server's DynamoDB requests while the block runs.

    DynamoDB applies each conditional write and each transaction atomically. moto checks a
    condition and writes in two steps, so one request at a time gives concurrent pings and sweeps
    the atomicity they rely on. moto also undoes a cancelled transaction by restoring a deep copy
    of every table it names, taken before it begins: a cost that grows with the table, paid by
    every transaction (a check that flips on every ping fell to about one ping a second). Under
    the lock, the items the transaction names are all it can change, so only they are saved
    and put back.

    `after_write` sees each write that succeeded before its reply leaves, in the order applied.
    """
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    original_call = DynamoHandler.call_action
    original_transaction = DynamoDBBackend.transact_write_items
    original_copy = dynamodb_models.copy  # type: ignore[attr-defined]
    lock = threading.Lock()

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            reply = original_call(self)
            if after_write is not None and reply[0] == 200:
                operation = self._get_action()
                if operation in WRITE_OPERATIONS:
                    raw = self.body  # parsed by moto's handler, or its raw JSON
                    request = raw if isinstance(raw, dict) else json.loads(raw)
                    after_write(operation, self.dynamodb_backend, request)
            return reply

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = [_saved_item(self, request) for request in transact_items]
        try:
            original_transaction(self, transact_items)
        except Exception:
            for table_name, key, item in reversed([s for s in saved if s is not None]):
                _put_back(self, table_name, key, item)
            raise

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    dynamodb_models.copy = _TablesNotCopied()  # type: ignore[attr-defined,assignment]
    try:
        yield
    finally:
        DynamoHandler.call_action = original_call  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = original_transaction  # type: ignore[method-assign]
        dynamodb_models.copy = original_copy  # type: ignore[attr-defined]


class _TablesNotCopied:
    """moto's `copy` module, except that a deep copy of a whole table is the table itself."""

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def item_key(backend: Any, table_name: str, request: dict[str, Any]) -> dict[str, Any]:
    """The primary key a Put (from its item) or an Update, Delete or check (its Key) names."""
    if "Key" in request:
        return dict(request["Key"])
    table = backend.get_table(table_name)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: request["Item"][name] for name in names}


def item_image(backend: Any, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item as it is in moto now, in DynamoDB JSON; None when there is none."""
    current = backend.get_item(table_name, key)
    return None if current is None else dict(current.to_json()["Attributes"])


def _saved_item(
    backend: Any, request: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
    """(table, key, a copy of the item as it is) for one part of a transaction."""
    if len(request) != 1:
        return None  # moto refuses it before writing anything
    ((_, part),) = request.items()
    table_name = part.get("TableName")
    if table_name not in backend.tables:
        return None
    try:
        key = item_key(backend, table_name, part)
        return table_name, key, item_image(backend, table_name, key)
    except Exception:  # a malformed part: moto refuses the whole transaction
        return None


def _put_back(
    backend: Any, table_name: str, key: dict[str, Any], item: dict[str, Any] | None
) -> None:
    if item is None:
        if item_image(backend, table_name, key) is not None:
            backend.delete_item(table_name, key)
    else:
        backend.put_item(table_name, item)


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
    def start(
        cls,
        progress: Callable[[str], None] = lambda _line: None,
        after_write: WriteObserver | None = None,
    ) -> LocalAws:
        """Start moto, point the environment at it, and create the tables and the topic.

        Clients for local mode's own work come from a separate boto3 session, so the stream
        emulation (watching the default session that the handlers use) never sees them.
        """
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        undo = ExitStack()
        undo.enter_context(atomic_dynamodb_requests(after_write))
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

        progress("creating the tables, the alerts topic and the delivery queues")
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
