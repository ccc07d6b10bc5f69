"""Shared fixtures: AWS on moto, in-process (`aws`) or as a server (`moto_server_aws`).

In-process `mock_aws` is not thread-safe (concurrent conditional updates lose writes), so every
concurrency and race test uses the server fixture, where moto serves real HTTP on 127.0.0.1.
The server fixture also serialises DynamoDB requests on the server, because moto alone is not
atomic under concurrent requests (see `atomic_dynamodb_requests`): each request is then as atomic
as in DynamoDB, while clients' read-then-write races still interleave between requests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cronbeat import runtime

REGION = "us-east-1"


@dataclass
class Aws:
    """Handles on one fresh set of tables (and the alerts topic) for a test."""

    dynamodb: Any
    sns: Any
    checks_table: str
    events_table: str
    topic_arn: str
    sqs: Any
    deliveries_queue_url: str
    dead_letter_queue_url: str
    endpoint_url: str | None = None


@pytest.fixture(autouse=True)
def _offline_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test can reach real AWS: fake credentials, a fixed region, clients rebuilt per test."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Cronbeat")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "cronbeat")
    runtime.reset()
    yield
    runtime.reset()


def _provision(monkeypatch: pytest.MonkeyPatch, endpoint_url: str | None) -> Aws:
    import boto3

    from cronbeat.local.backend import create_delivery_queues
    from cronbeat.store.tables import CHECKS, EVENTS, create_tables

    suffix = uuid.uuid4().hex[:8]
    checks, events = f"checks-{suffix}", f"events-{suffix}"
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint_url)
    sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint_url)
    create_tables(dynamodb, {CHECKS.logical_name: checks, EVENTS.logical_name: events})
    topic_arn = sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint_url)
    deliveries, dead_letters = create_delivery_queues(sqs, f"-{suffix}")
    monkeypatch.setenv("CRONBEAT_CHECKS_TABLE", checks)
    monkeypatch.setenv("CRONBEAT_EVENTS_TABLE", events)
    monkeypatch.setenv("CRONBEAT_ALERTS_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("CRONBEAT_DELIVERIES_QUEUE_URL", deliveries)
    monkeypatch.setenv("CRONBEAT_DEAD_LETTER_QUEUE_URL", dead_letters)
    # Test receivers listen on 127.0.0.1; the refusal of private targets has tests of its own.
    monkeypatch.setenv("CRONBEAT_ALLOW_PRIVATE_TARGETS", "true")
    runtime.reset()
    return Aws(
        dynamodb, sns, checks, events, topic_arn, sqs, deliveries, dead_letters, endpoint_url
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """Fresh tables and topic on in-process moto; handlers see them through the environment.

    DynamoDB requests are applied one at a time (`atomic_dynamodb_requests`): a sweep writes its
    flips from several threads, and moto alone is not safe under concurrent transactions.
    """
    from moto import mock_aws  # imported here: unit tests never load moto

    from cronbeat.local.backend import atomic_dynamodb_requests

    # moto replaces boto3's default session on every start unless told not to, and each test
    # would then reload every service model (about 50 ms a client); the credentials are fake.
    with mock_aws(config={"core": {"reset_boto3_session": False}}), atomic_dynamodb_requests():
        yield _provision(monkeypatch, None)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server on 127.0.0.1 for the session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_server_aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """Fresh tables on the moto server, with `AWS_ENDPOINT_URL` pointing every client at it.

    The server applies their DynamoDB requests one at a time (`atomic_dynamodb_requests`).
    """
    from cronbeat.local.backend import atomic_dynamodb_requests

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    with atomic_dynamodb_requests():
        yield _provision(monkeypatch, moto_server)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("POWERTOOLS_DEV", "false")
