"""The project's ping key: made once, random, and the same for everyone who asks."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3

from cronbeat.store.project import ProjectStore
from tests.conftest import REGION, Aws


def test_there_is_no_ping_key_until_one_is_ensured(aws: Aws) -> None:
    # Given a fresh deployment
    project = ProjectStore(aws.dynamodb, aws.events_table)
    # When the key is read, ensured, and ensured again
    before = project.ping_key()
    made = project.ensure_ping_key()
    again = project.ensure_ping_key()
    # Then there was none, then one random 22-character URL-safe key that stays
    assert before is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", made)
    assert again == made == project.ping_key()


def test_a_fresh_deployment_gets_a_different_key(aws: Aws) -> None:
    # Given a deployment with a key
    first = ProjectStore(aws.dynamodb, aws.events_table).ensure_ping_key()
    # When the project item is gone (another deployment) and a key is ensured
    aws.dynamodb.delete_item(
        TableName=aws.events_table, Key={"pk": {"S": "project"}, "sk": {"S": "project"}}
    )
    second = ProjectStore(aws.dynamodb, aws.events_table).ensure_ping_key()
    # Then the new key is not the old one
    assert second != first


def test_concurrent_callers_all_get_the_one_stored_key(moto_server_aws: Aws) -> None:
    # Given a fresh deployment and eight callers, each with its own client
    aws = moto_server_aws
    barrier = threading.Barrier(8, timeout=30)

    def ensure(_: int) -> str:
        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=aws.endpoint_url)
        barrier.wait()
        return ProjectStore(client, aws.events_table).ensure_ping_key()

    # When they all ensure a key at once (each request atomic, as DynamoDB makes it)
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(ensure, range(8), timeout=60))
    # Then they all got the same key, the stored one
    assert keys == {ProjectStore(aws.dynamodb, aws.events_table).ping_key()}
