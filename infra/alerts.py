"""Alerts: the SNS topic and its key, its subscribers, the notifier and its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.function import CronbeatFunction, FunctionDefaults
from infra.nag import acknowledge
from infra.storage import Storage

NOTIFIED_ITEM_TYPES = ("flip", "reminder")
"""Stream inserts that become alerts; every other item type never invokes the notifier."""

STREAM_RETRY_ATTEMPTS = 5
STREAM_MAX_RECORD_AGE = Duration.hours(6)
STREAM_BATCH_SIZE = 10

NOTIFIER_TIMEOUT = Duration.minutes(3)
"""Room for a batch's sends when no receiver answers. Each send (the topic, each of the check's
channels) may take its whole delivery budget (20 s, `cronbeat.channels.delivery.BUDGET_S`), 16
at a time (`cronbeat.service.notify.MAX_PARALLEL_SENDS`): 10 alerts × 4 sends is 3 rounds, 60 s,
before the claims and records around them, so 60 s would cut that batch off and Lambda would
retry it whole. Three minutes fit 9 rounds. The timeout costs nothing in itself: Lambda bills
the time that runs."""


class Alerts(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        defaults: FunctionDefaults,
    ) -> None:
        super().__init__(scope, construct_id)
        config = defaults.config
        stack = Stack.of(self)

        # A customer-managed key: alarm actions fail on a topic under the AWS-managed SNS key,
        # whose policy cannot be changed to let CloudWatch use it.
        self.key = kms.Key(
            self,
            "TopicKey",
            description="cronbeat alerts topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="cronbeat",
            master_key=self.key,
            enforce_ssl=True,
        )
        # The topic policy replaces SNS's default one, so CloudWatch needs its own statement.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:"
                        f"{stack.account}:alarm:*"
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        for address in config.alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        for number in config.alert_phones:
            self.topic.add_subscription(subscriptions.SmsSubscription(number))

        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.dead_letters,
            "SQS3",
            "This queue is itself the dead-letter queue: the notifier's stream "
            "mapping sends batches it gave up on here, and an alarm watches its depth.",
        )

        self.notifier = CronbeatFunction(
            self,
            "Notifier",
            defaults=defaults.with_environment(CRONBEAT_ALERTS_TOPIC_ARN=self.topic.topic_arn),
            handler="cronbeat.handlers.notifier.handler",
            description="Delivers flips and reminders to the alerts topic and the check's channels",
            timeout=NOTIFIER_TIMEOUT,
        )
        # Claim and record deliveries (UpdateItem) and read a check's channels (BatchGetItem).
        storage.grant_events(self.notifier.role, "UpdateItem", "BatchGetItem")
        # Also grants the key's GenerateDataKey and Decrypt, which publishing to it needs.
        self.topic.grant_publish(self.notifier.role)
        self.notifier.function.add_event_source(
            sources.DynamoEventSource(
                storage.events,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=STREAM_BATCH_SIZE,
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.is_equal("INSERT"),
                            "dynamodb": {
                                "NewImage": {
                                    "type": {"S": lambda_.FilterRule.or_(*NOTIFIED_ITEM_TYPES)}
                                }
                            },
                        }
                    )
                ],
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=STREAM_RETRY_ATTEMPTS,
                max_record_age=STREAM_MAX_RECORD_AGE,
                on_failure=sources.SqsDlq(self.dead_letters),
            )
        )
        acknowledge(
            self.notifier.role,
            "IAM5[Resource::*]",
            "dynamodb:ListStreams, which the stream event source mapping needs, takes no "
            "resource ARN; reading records is limited to the events table's stream.",
        )
        acknowledge(
            self.notifier.role,
            "IAM5[Action::kms:GenerateDataKey*]",
            "GenerateDataKey* is what SNS documents for publishing to an encrypted topic; the "
            "statement names only this topic's own key.",
        )
