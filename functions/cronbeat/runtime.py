"""Process-wide AWS clients and settings, created once per Lambda container (or local server).

Handlers call these instead of building clients at import time, so tests and local mode can point
them elsewhere (`AWS_ENDPOINT_URL`, table names in the environment) and then call `reset()`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from cronbeat.settings import Settings

if TYPE_CHECKING:
    from cronbeat.stores import Stores

METRICS_NAMESPACE = "Cronbeat"
"""The CloudWatch namespace of every custom metric (the stack's alarms and dashboard read it)."""


@cache
def settings() -> Settings:
    return Settings.from_env()


def _config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=32,
        # Every request is built by the store from validated models, and the service validates
        # it again: botocore's own walk over each parameter is a third of a flip's CPU.
        parameter_validation=False,
    )


@cache
def dynamodb() -> Any:
    """The low-level DynamoDB client, with bounded timeouts and standard retries."""
    import boto3

    return boto3.client("dynamodb", config=_config())


@cache
def sns() -> Any:
    import boto3

    return boto3.client("sns", config=_config())


@cache
def sqs() -> Any:
    import boto3

    return boto3.client("sqs", config=_config())


@cache
def lambda_client() -> Any:
    """For the scanner's asynchronous invocations of the segment worker."""
    import boto3

    return boto3.client("lambda", config=_config())


@cache
def stores() -> Stores:
    """Every store on this process's client and settings (built on first use, then shared)."""
    from cronbeat.stores import build_stores

    return build_stores(settings(), dynamodb())


def reset() -> None:
    """Forget cached settings and clients (tests and local mode, after changing the environment)."""
    settings.cache_clear()
    dynamodb.cache_clear()
    sns.cache_clear()
    sqs.cache_clear()
    lambda_client.cache_clear()
    stores.cache_clear()
