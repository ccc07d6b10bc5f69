"""Watching the watchman: alarms to the alerts topic, a dashboard, saved Logs Insights queries.

Built on AWS's free metrics (Lambda invocations, errors, throttles, duration; API Gateway
counts; SQS depth). The custom EMF metrics are the five event streams the handlers publish with
the single dimension service=cronbeat, at $0.30 a month each only in months they occur.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cronbeat.runtime import METRICS_NAMESPACE
from infra.function import CronbeatFunction

NAMESPACE = METRICS_NAMESPACE
DIMENSIONS = {"service": "cronbeat"}
EVENT_METRICS = ("FailurePings", "Flips", "DetectionLag", "AlertsSent", "AlertsFailed")
"""Every custom metric stream the stack charts (≤ 6 in total, by the cost budget)."""
WINDOW = Duration.minutes(5)


@dataclass(frozen=True, slots=True)
class Watched:
    """What the monitoring reads from the other constructs."""

    ping: CronbeatFunction
    management: CronbeatFunction
    scanner: CronbeatFunction
    segment_worker: CronbeatFunction
    notifier: CronbeatFunction
    deliverer: CronbeatFunction
    http_api: apigwv2.HttpApi
    dead_letters: sqs.IQueue
    topic: sns.ITopic

    @property
    def functions(self) -> dict[str, CronbeatFunction]:
        return {
            "ping": self.ping,
            "management": self.management,
            "scanner": self.scanner,
            "sweep segment": self.segment_worker,
            "notifier": self.notifier,
            "deliverer": self.deliverer,
        }


def event_metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
    assert name in EVENT_METRICS, f"{name} is not one of the budgeted custom metrics"
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=DIMENSIONS,
        statistic=statistic,
        period=WINDOW,
        label=f"{name} ({statistic.lower()})",
    )


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, watched: Watched) -> None:
        super().__init__(scope, construct_id)
        self._watched = watched
        self.alarms = self._alarms(watched)
        notify = actions.SnsAction(watched.topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)
        self.dashboard = self._dashboard(watched)
        self.queries = self._queries(watched)

    def _alarms(self, watched: Watched) -> list[cloudwatch.Alarm]:
        scanner = watched.scanner.function
        return [
            cloudwatch.Alarm(
                self,
                "ScannerNotRunning",
                alarm_description="No sweep for 5 minutes: silent checks are not being detected.",
                metric=scanner.metric_invocations(period=WINDOW, statistic="Sum"),
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                threshold=1,
                evaluation_periods=1,
                # No data means no invocation at all: exactly the failure this alarm is for.
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            self._at_least(
                "ScannerErrors",
                "Two or more sweeps failed in 5 minutes.",
                scanner.metric_errors(period=WINDOW, statistic="Sum"),
                threshold=2,
            ),
            self._at_least(
                "SweepSegmentErrors",
                "A segment worker failed twice or more in 5 minutes: its checks were not swept "
                "(it is retried with the same sweep time).",
                watched.segment_worker.function.metric_errors(period=WINDOW, statistic="Sum"),
                threshold=2,
            ),
            self._at_least(
                "DeadLettersNotEmpty",
                "Alerts were given up on: see the dead-letter queue and the deliveries in the API.",
                watched.dead_letters.metric_approximate_number_of_messages_visible(
                    period=WINDOW, statistic="Maximum"
                ),
            ),
            self._at_least(
                "PingErrors",
                "The ping function failed: jobs' pings may be lost.",
                watched.ping.function.metric_errors(period=WINDOW, statistic="Sum"),
            ),
            self._at_least(
                "Api5xx",
                "The HTTP API answered with a server error.",
                watched.http_api.metric_server_error(period=WINDOW, statistic="Sum"),
            ),
        ]

    def _at_least(
        self, construct_id: str, description: str, metric: cloudwatch.IMetric, threshold: int = 1
    ) -> cloudwatch.Alarm:
        """An alarm on `metric` reaching `threshold` in one window; no data is nothing wrong."""
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            threshold=threshold,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _dashboard(self, watched: Watched) -> cloudwatch.Dashboard:
        functions = watched.functions
        stack = Stack.of(self)
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            # Dashboards are global to the account: the region tells stacks apart.
            dashboard_name=f"{stack.stack_name}-{stack.region}",
            default_interval=Duration.days(1),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Pings",
                left=[
                    watched.ping.function.metric_invocations(
                        period=WINDOW, statistic="Sum", label="pings"
                    )
                ],
                right=[event_metric("FailurePings")],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Flips", left=[event_metric("Flips")], width=8),
            cloudwatch.GraphWidget(
                title="Alerts sent and failed",
                left=[event_metric("AlertsSent"), event_metric("AlertsFailed")],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Scanner duration (ms)",
                left=[
                    watched.scanner.function.metric_duration(
                        period=WINDOW, statistic=statistic, label=statistic
                    )
                    for statistic in ("Average", "Maximum")
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Detection lag (s): sweep time minus deadline",
                left=[
                    event_metric("DetectionLag", "Average"),
                    event_metric("DetectionLag", "Maximum"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="HTTP API requests",
                left=[
                    watched.http_api.metric_count(period=WINDOW, statistic="Sum", label="requests"),
                    watched.http_api.metric_client_error(
                        period=WINDOW, statistic="Sum", label="4xx"
                    ),
                    watched.http_api.metric_server_error(
                        period=WINDOW, statistic="Sum", label="5xx"
                    ),
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"Lambda {what}",
                    left=[
                        metric(fn.function, period=WINDOW, statistic="Sum", label=name)
                        for name, fn in functions.items()
                    ],
                    width=8,
                )
                for what, metric in (
                    ("errors", lambda_.Function.metric_errors),
                    ("throttles", lambda_.Function.metric_throttles),
                )
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queue",
                left=[
                    watched.dead_letters.metric_approximate_number_of_messages_visible(
                        period=WINDOW, statistic="Maximum", label="messages"
                    )
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4)
        )
        return dashboard

    def _queries(self, watched: Watched) -> list[logs.QueryDefinition]:
        every_function = [fn.log_group for fn in watched.functions.values()]
        return [
            logs.QueryDefinition(
                self,
                "CheckPings",
                query_definition_name="cronbeat/pings of one check",
                log_groups=[watched.ping.log_group],
                query_string=logs.QueryString(
                    fields=["@timestamp", "kind", "status", "message"],
                    filter_statements=['check_id = "PUT-THE-CHECK-UUID-HERE"'],
                    sort="@timestamp desc",
                    limit=500,
                ),
            ),
            logs.QueryDefinition(
                self,
                "Failures",
                query_definition_name="cronbeat/failures (set the range to 24 hours)",
                log_groups=every_function,
                query_string=logs.QueryString(
                    fields=["@timestamp", "@log", "level", "check_id", "kind", "message"],
                    # Failure pings, errors the code logs, and invocations that failed or timed
                    # out: in JSON log format Lambda reports those in the `platform.report`
                    # record's status, not in a "Task timed out" text line.
                    filter_statements=[
                        'kind = "fail" or level = "ERROR" or level = "CRITICAL" '
                        'or record.status in ["error", "failure", "timeout"] '
                        "or @message like /Task timed out/"
                    ],
                    sort="@timestamp desc",
                    limit=1000,
                ),
            ),
            logs.QueryDefinition(
                self,
                "FailedDeliveries",
                query_definition_name="cronbeat/alert deliveries that failed",
                log_groups=[watched.deliverer.log_group],
                query_string=logs.QueryString(
                    fields=[
                        "@timestamp",
                        "check_id",
                        "channel_kind",
                        "channel_id",
                        "state",
                        "attempt",
                        "status_code",
                        "error",
                        "message",
                    ],
                    filter_statements=['level = "WARNING" or level = "ERROR"'],
                    sort="@timestamp desc",
                    limit=500,
                ),
            ),
        ]
