"""The scanner: every minute, sweep the checks table and flip the silent ones down."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.function import CronbeatFunction, FunctionDefaults
from infra.storage import Storage

SWEEP_EVERY = Duration.minutes(1)
SWEEP_RETRIES = 2
SWEEP_MAX_AGE = Duration.minutes(5)


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
        self.function = CronbeatFunction(
            self,
            "Scanner",
            defaults=defaults,
            handler="cronbeat.handlers.scanner.handler",
            description="Sweeps every check each minute and writes a flip for each one gone down",
            # Under the sweep interval, so sweeps rarely overlap (overlap is safe, only wasteful).
            timeout=Duration.seconds(50),
        )
        # A sweep is one parallel Scan, then one transaction per new flip: the check update
        # conditioned on what the sweep read, plus the flip item.
        storage.grant_checks(self.function.role, "Scan", "UpdateItem")
        storage.grant_events(self.function.role, "PutItem")
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
