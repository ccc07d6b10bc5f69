"""Alerts: the SNS topic and its key, its subscribers, the notifier that fans each alert out onto
the delivery queue, the deliverer that works the queue, and their dead-letter queue."""

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

from cronbeat.channels.delivery import MAX_ATTEMPTS
from cronbeat.store.tables import ALERTING_ITEM_TYPES
from infra.function import CronbeatFunction, FunctionDefaults
from infra.nag import acknowledge
from infra.storage import Storage

STREAM_RETRY_ATTEMPTS = 5
STREAM_MAX_RECORD_AGE = Duration.hours(6)
STREAM_BATCH_SIZE = 10

NOTIFIER_TIMEOUT = Duration.minutes(1)
"""The notifier only enqueues: a batch is a channel lookup, a record and a message per target."""

DELIVERER_TIMEOUT = Duration.seconds(30)
"""One attempt (10 s deadline) plus the claim, the channel read and the record around it."""
DELIVERER_CONCURRENCY = 10
"""Deliveries in flight at once (Lambda's SQS maximum concurrency is at least 2). A receiver that
never answers holds one of them for 10 s per attempt, so it cannot starve the rest."""
DELIVERIES_VISIBILITY = Duration.minutes(3)
"""Lambda asks for a visibility timeout beyond the function's; a worker that dies mid-attempt
has its message back after this."""
REDRIVE_RECEIVES = 3 * MAX_ATTEMPTS
"""The backstop only: a delivery that gives up puts itself on the dead-letter queue after
`MAX_ATTEMPTS`; this catches a message whose handling crashes every time."""


def topic_key(scope: Construct, description: str) -> kms.Key:
    """A customer-managed, rotated key for one of the stack's topics (`TopicKey` in `scope`)."""
    return kms.Key(
        scope,
        "TopicKey",
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )


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
        self.key = topic_key(self, "cronbeat alerts topic")
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
            "This queue is itself the dead-letter queue: the notifier's stream mapping sends "
            "batches it gave up on here, and so do deliveries that gave up; an alarm watches "
            "its depth.",
        )
        self.deliveries = sqs.Queue(
            self,
            "Deliveries",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=DELIVERIES_VISIBILITY,
            retention_period=Duration.days(1),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=REDRIVE_RECEIVES, queue=self.dead_letters
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.notifier = CronbeatFunction(
            self,
            "Notifier",
            defaults=defaults.with_environment(
                CRONBEAT_ALERTS_TOPIC_ARN=self.topic.topic_arn,
                CRONBEAT_DELIVERIES_QUEUE_URL=self.deliveries.queue_url,
            ),
            handler="cronbeat.handlers.notifier.handler",
            description="Queues one delivery per alert and target (the topic, the channels)",
            timeout=NOTIFIER_TIMEOUT,
        )
        # Open delivery records (UpdateItem), read a check's channels (BatchGetItem), enqueue.
        storage.grant_events(self.notifier.role, "UpdateItem", "BatchGetItem")
        self.deliveries.grant(self.notifier.role, "sqs:SendMessage")
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
                                    "type": {"S": lambda_.FilterRule.or_(*ALERTING_ITEM_TYPES)}
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

        self.deliverer = CronbeatFunction(
            self,
            "Deliverer",
            defaults=defaults.with_environment(
                CRONBEAT_ALERTS_TOPIC_ARN=self.topic.topic_arn,
                CRONBEAT_DELIVERIES_QUEUE_URL=self.deliveries.queue_url,
                CRONBEAT_DEAD_LETTER_QUEUE_URL=self.dead_letters.queue_url,
            ),
            handler="cronbeat.handlers.deliverer.handler",
            description="Makes one attempt at one alert delivery; the queue retries",
            timeout=DELIVERER_TIMEOUT,
        )
        # Claim and record deliveries (UpdateItem), read the channel at send time (BatchGetItem).
        storage.grant_events(self.deliverer.role, "UpdateItem", "BatchGetItem")
        # Also grants the key's GenerateDataKey and Decrypt, which publishing to it needs.
        self.topic.grant_publish(self.deliverer.role)
        self.dead_letters.grant(self.deliverer.role, "sqs:SendMessage")
        self.deliverer.function.add_event_source(
            sources.SqsEventSource(
                self.deliveries,
                # One message per invocation: Powertools handles a batch's records one after
                # another, so a slow receiver would delay the others in its batch.
                batch_size=1,
                max_concurrency=DELIVERER_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        acknowledge(
            self.deliverer.role,
            "IAM5[Action::kms:GenerateDataKey*]",
            "GenerateDataKey* is what SNS documents for publishing to an encrypted topic; the "
            "statement names only this topic's own key.",
        )
        acknowledge(
            self.notifier.role,
            "IAM5[Resource::*]",
            "dynamodb:ListStreams, which the stream event source mapping needs, takes no "
            "resource ARN; reading records is limited to the events table's stream.",
        )
