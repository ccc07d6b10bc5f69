"""The checks and events tables, built from the store's single table definition."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from cronbeat.store.events import CHANNEL_PK
from cronbeat.store.tables import (
    BADGE_INDEX,
    CHECKS,
    DELIVERIES_INDEX,
    EVENTS,
    SLUG_INDEX,
    AttributeType,
    TableSpec,
)

ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attribute(key: tuple[str, AttributeType] | None) -> dynamodb.Attribute | None:
    if key is None:
        return None
    name, kind = key
    return dynamodb.Attribute(name=name, type=ATTRIBUTE_TYPES[kind])


def _table(scope: Construct, spec: TableSpec) -> dynamodb.Table:
    partition = _attribute(spec.key.partition)
    assert partition is not None
    table = dynamodb.Table(
        scope,
        spec.logical_name,
        partition_key=partition,
        sort_key=_attribute(spec.key.sort),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=spec.ttl_attribute,
        stream=dynamodb.StreamViewType.NEW_IMAGE if spec.stream_new_image else None,
        # The monitoring history outlives the stack: `cdk destroy` leaves both tables behind.
        removal_policy=RemovalPolicy.RETAIN,
    )
    for index in spec.indexes:
        index_partition = _attribute(index.key.partition)
        assert index_partition is not None
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=index_partition,
            sort_key=_attribute(index.key.sort),
            projection_type=dynamodb.ProjectionType[index.projection],
        )
    return table


class Storage(Construct):
    """Both tables, and grants that name exact table and index ARNs (no wildcards)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.checks = _table(self, CHECKS)
        self.events = _table(self, EVENTS)

    def grant_checks(self, role: iam.IRole, *actions: str) -> None:
        _grant(role, actions, self.checks.table_arn)

    def grant_events(self, role: iam.IRole, *actions: str) -> None:
        _grant(role, actions, self.events.table_arn)

    def grant_channel_listing(self, role: iam.IRole) -> None:
        """Query the events table's channel partition, and no other partition."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[self.events.table_arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [CHANNEL_PK]}},
            )
        )

    def grant_delivery_listing(self, role: iam.IRole) -> None:
        """Query the events table's deliveries index (a channel's recent deliveries)."""
        _grant(role, ("Query",), f"{self.events.table_arn}/index/{DELIVERIES_INDEX}")

    def grant_badge_lookup(self, role: iam.IRole) -> None:
        """Query the checks table's KEYS_ONLY badge index, and nothing else through it."""
        _grant(role, ("Query",), f"{self.checks.table_arn}/index/{BADGE_INDEX}")

    def grant_slug_lookup(self, role: iam.IRole) -> None:
        """Query the checks table's KEYS_ONLY slug index, and nothing else through it."""
        _grant(role, ("Query",), f"{self.checks.table_arn}/index/{SLUG_INDEX}")


def _grant(role: iam.IRole, actions: tuple[str, ...], resource: str) -> None:
    """Allow DynamoDB `actions` (bare names such as "GetItem") on one table or index ARN.

    Transactions need no action of their own: IAM checks each item's Put/Update/ConditionCheck.
    """
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[f"dynamodb:{action}" for action in actions], resources=[resource]
        )
    )
