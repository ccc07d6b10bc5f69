"""Every cronbeat Lambda function, with its defaults in this one place.

Python 3.13 on arm64, JSON logs into a log group of its own with explicit retention, X-Ray only
when the `tracing` setting asks for it, and a role of its own that starts with nothing but
writing to that log group: each construct then grants exactly what its function calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cronbeat.runtime import METRICS_NAMESPACE
from infra.config import StackConfig
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_LOG_LEVELS = {"WARN": "WARNING"}
"""Lambda's log-level names differ from Python's in one place."""


@dataclass(frozen=True, slots=True)
class FunctionDefaults:
    """What every function of the stack is built from, handed to each construct that makes one."""

    code: lambda_.Code
    """The one code asset all handlers share."""
    config: StackConfig
    environment: Mapping[str, str]
    """What `cronbeat.settings.Settings.from_env` reads."""

    def with_environment(self, **more: str) -> FunctionDefaults:
        return replace(self, environment={**self.environment, **more})


def log_group(scope: Construct, construct_id: str, config: StackConfig) -> logs.LogGroup:
    """A log group kept for the configured retention and removed with the stack."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=config.log_retention,
        removal_policy=RemovalPolicy.DESTROY,
    )


class CronbeatFunction(Construct):
    """One Lambda function of the shared code asset, entered at `handler`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: FunctionDefaults,
        handler: str,
        description: str,
        timeout: Duration,
        memory_mb: int = 256,
    ) -> None:
        super().__init__(scope, construct_id)
        config = defaults.config
        self.log_group = log_group(self, "Logs", config)
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
            code=defaults.code,
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
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVELS.get(
                    config.log_level, config.log_level
                ),
                "POWERTOOLS_TRACE_DISABLED": "false" if config.tracing else "true",
                **defaults.environment,
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
