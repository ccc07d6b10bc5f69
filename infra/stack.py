"""The cronbeat stack, read like the flows in docs/architecture.md."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.alerts import Alerts
from infra.api import PingApi
from infra.bundling import function_code
from infra.config import StackConfig
from infra.email import InboundMail
from infra.function import FunctionDefaults
from infra.monitoring import Monitoring, Watched
from infra.nag import acknowledge
from infra.scanner import Scanner
from infra.storage import Storage


class CronbeatStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="cronbeat: heartbeat monitoring for cron jobs (Healthchecks.io API)",
            **kwargs,
        )
        storage = Storage(self, "Storage")
        defaults = FunctionDefaults(
            code=function_code(),
            config=config,
            # What `cronbeat.settings.Settings.from_env` reads in every function.
            environment={
                "CRONBEAT_CHECKS_TABLE": storage.checks.table_name,
                "CRONBEAT_EVENTS_TABLE": storage.events.table_name,
                "CRONBEAT_SCAN_SEGMENTS": str(config.scan_segments),
                "CRONBEAT_MIN_PERIOD": str(config.min_period_s),
            },
        )
        alerts = Alerts(self, "Alerts", storage=storage, defaults=defaults)
        defaults = defaults.with_environment(CRONBEAT_ALERTS_TOPIC_ARN=alerts.topic.topic_arn)
        api = PingApi(
            self,
            "Api",
            storage=storage,
            defaults=defaults.with_environment(
                CRONBEAT_DELIVERIES_QUEUE_URL=alerts.deliveries.queue_url
            ),
        )
        # Test alerts go through the delivery queue like every other alert.
        alerts.deliveries.grant(api.management.role, "sqs:SendMessage")
        # Email and SMS channels are subscriptions of the alerts topic: the API makes them, lists
        # them (to show which wait for confirmation) and ends them.
        api.management.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sns:Subscribe", "sns:ListSubscriptionsByTopic"],
                resources=[alerts.topic.topic_arn],
            )
        )
        api.management.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Unsubscribe"], resources=["*"])
        )
        acknowledge(
            api.management.role,
            "IAM5[Resource::*]",
            "sns:Unsubscribe names a subscription, not a topic, and IAM scopes it to no resource "
            "type; the function only ends the subscriptions its email and SMS channels made.",
        )
        if config.email_domain:
            InboundMail(self, "InboundMail", domain=config.email_domain, ping=api.ping.function)
        scanner = Scanner(self, "Scanner", storage=storage, defaults=defaults)
        # Alert messages link to the check; the URL exists only once the API does.
        alerts.notifier.add_environment("CRONBEAT_BASE_URL", api.url)
        alerts.deliverer.add_environment("CRONBEAT_BASE_URL", api.url)
        scanner.function.add_environment("CRONBEAT_BASE_URL", api.url)
        scanner.segment_worker.add_environment("CRONBEAT_BASE_URL", api.url)

        monitoring = Monitoring(
            self,
            "Monitoring",
            watched=Watched(
                ping=api.ping,
                management=api.management,
                scanner=scanner.function,
                segment_worker=scanner.segment_worker,
                notifier=alerts.notifier,
                deliverer=alerts.deliverer,
                http_api=api.http_api,
                dead_letters=alerts.dead_letters,
                topic=alerts.topic,
            ),
        )

        CfnOutput(self, "ApiUrl", value=api.url, description="Management API and dashboard")
        CfnOutput(
            self,
            "PingUrl",
            value=f"{api.url}ping/",
            description="Ping URL base: append a check's UUID",
        )
        CfnOutput(
            self,
            "AlertsTopicArn",
            value=alerts.topic.topic_arn,
            description="SNS topic for alerts and alarms: subscribe more endpoints here",
        )
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#dashboards/dashboard/{monitoring.dashboard.dashboard_name}",
            description="CloudWatch dashboard of the monitor itself",
        )
        CfnOutput(self, "ChecksTableName", value=storage.checks.table_name)
        CfnOutput(
            self,
            "EventsTableName",
            value=storage.events.table_name,
            description="Read by `cronbeat keys create --stack`",
        )
