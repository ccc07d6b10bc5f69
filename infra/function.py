"""Every cronbeat Lambda function, with its defaults in this one place.

Python 3.13 on arm64, JSON logs into a log group of its own with explicit retention, X-Ray only
when the `tracing` setting asks for it, and a role of its own that starts with nothing but
writing to that log group: each construct then grants exactly what its function calls.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StackConfig
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_LOG_LEVELS = {"WARN": "WARNING"}
"""Lambda's log-level names differ from Python's in one place."""


class CronbeatFunction(Construct):
    """One Lambda function of the shared code asset, entered at `handler`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        description: str,
        config: StackConfig,
        environment: Mapping[str, str],
        timeout: Duration,
        memory_mb: int = 256,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"cronbeat {construct_id}: least privilege for {handler}",
        )
        # Instead of AWSLambdaBasicExecutionRole, which may write to every log group.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=memory_mb,
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(config.log_level),
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            environment={
                "POWERTOOLS_SERVICE_NAME": "cronbeat",
                "POWERTOOLS_METRICS_NAMESPACE": "Cronbeat",
                "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVELS.get(
                    config.log_level, config.log_level
                ),
                "POWERTOOLS_TRACE_DISABLED": "false" if config.tracing else "true",
                **environment,
            },
        )
        acknowledge(
            self,
            "L1",
            "Pinned to python3.13: the locked dependencies are installed as cp313 "
            "aarch64 wheels and the project supports Python below 3.14.",
        )
        if config.tracing:
            acknowledge(
                self.role,
                "IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource "
                "ARN; they are added only when tracing is switched on.",
            )

    def add_environment(self, name: str, value: str) -> None:
        self.function.add_environment(name, value)
