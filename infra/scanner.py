"""The scanner: every minute, sweep the checks table (every `sweepSeconds` inside the minute)
and flip the silent ones down; above `sweepFanOutChecks`, segment workers share each sweep."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.function import CronbeatFunction, FunctionDefaults
from infra.storage import Storage

SWEEP_EVERY = Duration.minutes(1)
SWEEP_RETRIES = 2
SWEEP_MAX_AGE = Duration.minutes(5)
SINGLE_SWEEP_TIMEOUT = Duration.seconds(50)
"""One sweep a minute: under the interval, so sweeps rarely overlap (overlap is safe, only
wasteful)."""
MINUTE_OF_SWEEPS_TIMEOUT = Duration.seconds(75)
"""Sweeps every `sweepSeconds`: the invocation waits out its minute; its last sweep starts at
most 50 s in and has 25 s, past which the next minute's first sweep has begun anyway."""
SEGMENT_MEMORY_MB = 1769
"""Where Lambda gives a whole vCPU: a segment is parsing-bound, so its GB-seconds cost about the
same at any size, and a larger one finishes sooner (docs/performance.md)."""


class Scanner(Construct):
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
        sweep_seconds = config.sweep_seconds
        self.function = CronbeatFunction(
            self,
            "Scanner",
            defaults=defaults,
            handler="cronbeat.handlers.scanner.handler",
            description="Sweeps every check each minute and writes a flip for each one gone down",
            timeout=SINGLE_SWEEP_TIMEOUT if sweep_seconds == 60 else MINUTE_OF_SWEEPS_TIMEOUT,
        )
        self.segment_worker = CronbeatFunction(
            self,
            "SweepSegment",
            defaults=defaults,
            handler="cronbeat.handlers.sweep_segment.handler",
            description="Sweeps one Scan segment of the checks at the sweep time it is given",
            timeout=SINGLE_SWEEP_TIMEOUT,
            memory_mb=SEGMENT_MEMORY_MB,
        )
        # A sweep is one parallel Scan, then one transaction per new flip: the check update
        # conditioned on what the sweep read, plus the flip item. The scanner also reads the
        # table's item count (DescribeTable) to decide whether to fan out.
        for sweeper in (self.function, self.segment_worker):
            storage.grant_checks(sweeper.role, "Scan", "UpdateItem")
            storage.grant_events(sweeper.role, "PutItem")
        storage.grant_checks(self.function.role, "DescribeTable")
        # Only the scanner may start a segment worker: the function itself, no version or alias.
        self.function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[self.segment_worker.function.function_arn],
            )
        )
        self.function.add_environment("CRONBEAT_SWEEP_SECONDS", str(sweep_seconds))
        self.function.add_environment("CRONBEAT_FAN_OUT_CHECKS", str(config.sweep_fan_out_checks))
        self.function.add_environment(
            "CRONBEAT_CHECKS_PER_SEGMENT", str(config.sweep_checks_per_segment)
        )
        self.function.add_environment(
            "CRONBEAT_SEGMENT_FUNCTION", self.segment_worker.function.function_name
        )
        # A segment whose writes failed fails its invocation; Lambda retries it with the same
        # event, so the same sweep time.
        self.segment_worker.function.configure_async_invoke(
            retry_attempts=SWEEP_RETRIES, max_event_age=SWEEP_MAX_AGE
        )
        # A sweep whose writes failed fails its invocation, and Lambda runs it again at the same
        # scheduled instant; after a few minutes the sweeps since then have covered it.
        self.function.function.configure_async_invoke(
            retry_attempts=SWEEP_RETRIES, max_event_age=SWEEP_MAX_AGE
        )

        self.schedule = events.Rule(
            self,
            "EveryMinute",
            description="cronbeat sweep",
            schedule=events.Schedule.rate(SWEEP_EVERY),
            targets=[
                targets.LambdaFunction(
                    self.function.function,
                    retry_attempts=SWEEP_RETRIES,
                    max_event_age=SWEEP_MAX_AGE,
                )
            ],
        )
