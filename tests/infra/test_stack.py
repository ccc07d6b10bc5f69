"""The synthesized stack: every resource the deployment promises, checked in the template."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from cronbeat.store.tables import CHECKS, EVENTS, create_table_request
from tests.infra.conftest import ALERT_EMAILS, ALERT_PHONE, Synth

pytestmark = pytest.mark.infra

PING = "cronbeat.handlers.ping.handler"
API = "cronbeat.handlers.api.handler"
SCANNER = "cronbeat.handlers.scanner.handler"
NOTIFIER = "cronbeat.handlers.notifier.handler"
DELIVERER = "cronbeat.handlers.deliverer.handler"
SEGMENT = "cronbeat.handlers.sweep_segment.handler"
HANDLERS = (PING, API, SCANNER, NOTIFIER, DELIVERER, SEGMENT)
EM_AARCH64 = 183
"""ELF e_machine of arm64 (0xB7)."""


def _ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _only(resources: dict[str, dict[str, Any]]) -> str:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources))


def _table_id(synth: Synth, logical_name: str) -> str:
    return _only(
        {
            name: table
            for name, table in synth.of_type("AWS::DynamoDB::Table").items()
            if name.startswith(f"Storage{logical_name}")
        }
    )


# --- HTTP API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route_key", "handler"),
    [("ANY /ping/{proxy+}", PING), ("ANY /api/{proxy+}", API), ("GET /", API)],
)
def test_route_reaches_its_function(synth: Synth, route_key: str, handler: str) -> None:
    # Given the synthesized HTTP API
    synth.template.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": route_key})
    # When the route is followed to its integration
    route = next(
        r["Properties"]
        for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["RouteKey"] == route_key
    )
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    integration = synth.resources[integration_id]["Properties"]
    # Then it invokes the function entered at the expected handler, with payload format 2.0
    function_id, _ = synth.function(handler)
    assert integration["IntegrationUri"] == _arn(function_id)
    assert integration["PayloadFormatVersion"] == "2.0"


def test_stage_is_throttled_and_logs_access_without_paths(synth: Synth) -> None:
    # Given the default stage with the default settings
    # Then it throttles and writes access logs
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 500},
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
        },
    )
    # And the access log never records the path (a ping URL is its check's secret)
    stage = next(iter(synth.of_type("AWS::ApiGatewayV2::Stage").values()))
    log_format = stage["Properties"]["AccessLogSettings"]["Format"]
    assert "$context.requestId" in log_format
    assert "$context.path" not in log_format


# --- Tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [CHECKS, EVENTS], ids=lambda spec: spec.logical_name)
def test_table_matches_the_store_definition(synth: Synth, spec: Any) -> None:
    # Given the store's single table definition
    expected = create_table_request(spec, "unused")
    # When the stack builds the table
    table = synth.resources[_table_id(synth, spec.logical_name)]
    properties = table["Properties"]
    # Then keys, attributes, indexes and stream are those of the definition
    assert properties["KeySchema"] == expected["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )
    assert properties.get("GlobalSecondaryIndexes") == expected.get("GlobalSecondaryIndexes")
    assert properties.get("StreamSpecification", {}).get("StreamViewType") == expected.get(
        "StreamSpecification", {}
    ).get("StreamViewType")
    # And it is on-demand, with point-in-time recovery, and kept when the stack is deleted
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionPolicy"] == "Retain"
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": expected["KeySchema"],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_events_table_expires_items_and_streams_new_images(synth: Synth) -> None:
    # Given the events table definition with its TTL attribute
    # Then the table has TTL on that attribute and a NEW_IMAGE stream
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": create_table_request(EVENTS, "unused")["KeySchema"],
            "TimeToLiveSpecification": {"AttributeName": EVENTS.ttl_attribute, "Enabled": True},
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        },
    )


# --- Functions --------------------------------------------------------------------------------


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_defaults(synth: Synth, handler: str) -> None:
    # Given a function of the stack
    function_id, function = synth.function(handler)
    # Then it runs Python 3.13 on arm64 with JSON logs and tracing off by default
    synth.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": handler,
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "LoggingConfig": {
                "LogFormat": "JSON",
                "ApplicationLogLevel": "INFO",
                "LogGroup": Match.any_value(),
            },
            "TracingConfig": Match.absent(),
        },
    )
    # And it logs into a group of its own with explicit retention
    log_group_id = function["LoggingConfig"]["LogGroup"]["Ref"]
    assert synth.resources[log_group_id]["Properties"]["RetentionInDays"] == 30
    # And it gets the settings the code reads
    variables = function["Environment"]["Variables"]
    for name in (
        "CRONBEAT_CHECKS_TABLE",
        "CRONBEAT_EVENTS_TABLE",
        "CRONBEAT_ALERTS_TOPIC_ARN",
        "CRONBEAT_BASE_URL",
        "CRONBEAT_SCAN_SEGMENTS",
        "CRONBEAT_MIN_PERIOD",
    ):
        assert name in variables, f"{function_id} lacks {name}"
    # And the base URL its links (alerts, ping URLs) start with is the deployed API's
    assert variables["CRONBEAT_BASE_URL"] == synth.outputs["ApiUrl"]["Value"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "cronbeat"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Cronbeat"
    assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_function_roles_carry_no_managed_policies(synth: Synth) -> None:
    # Given the function roles
    roles = synth.of_type("AWS::IAM::Role")
    assert len(roles) == len(HANDLERS)
    # Then none has a managed policy (AWSLambdaBasicExecutionRole writes to every log group)
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], name


def test_scanner_runs_every_minute(synth: Synth) -> None:
    # Given the scanner function
    scanner_id, _ = synth.function(SCANNER)
    # Then an EventBridge schedule invokes it every minute
    synth.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": _arn(scanner_id),
                        "RetryPolicy": {
                            "MaximumRetryAttempts": 2,
                            "MaximumEventAgeInSeconds": 300,
                        },
                    }
                )
            ],
        },
    )
    # And a failed sweep is retried a bounded number of times, for at most five minutes
    synth.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": _ref(scanner_id),
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 300,
        },
    )


def test_only_the_scanner_may_start_a_segment_worker_with_the_fan_out_settings(
    synth: Synth,
) -> None:
    # Given the scanner and the segment worker
    scanner_id, scanner = synth.function(SCANNER)
    segment_id, segment = synth.function(SEGMENT)
    # Then the scanner knows the worker, sweeps once a minute by default, and fans out from 25,000
    variables = scanner["Environment"]["Variables"]
    assert variables["CRONBEAT_SEGMENT_FUNCTION"] == _ref(segment_id)
    assert variables["CRONBEAT_SWEEP_SECONDS"] == "60"
    assert variables["CRONBEAT_FAN_OUT_CHECKS"] == "25000"
    assert scanner["Timeout"] == 50
    # And the worker runs at a whole vCPU's memory
    assert segment["MemorySize"] == 1769
    # And exactly one role may invoke the worker: the scanner's, on the function alone
    invokers = [
        (policy["Properties"]["Roles"], statement["Resource"])
        for policy in synth.of_type("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in statement["Action"]
    ]
    assert invokers == [([_ref(scanner["Role"]["Fn::GetAtt"][0])], _arn(segment_id))]
    assert not synth.of_type("AWS::Lambda::Permission") or all(
        p["Properties"]["FunctionName"] != _arn(segment_id)
        and p["Properties"]["FunctionName"] != _ref(segment_id)
        for p in synth.of_type("AWS::Lambda::Permission").values()
    )
    assert scanner_id != segment_id


def test_notifier_reads_only_flip_and_reminder_inserts(synth: Synth) -> None:
    # Given the notifier and the dead-letter queue
    notifier_id, _ = synth.function(NOTIFIER)
    queue_id = _queue(synth, "AlertsDeadLetters")
    pattern = {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"type": {"S": ["flip", "reminder"]}}},
    }
    # Then its stream mapping filters, reports item failures, bisects, retries a bounded
    # number of times and sends what it gives up on to the queue
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": _ref(notifier_id),
            "EventSourceArn": {"Fn::GetAtt": [_table_id(synth, "Events"), "StreamArn"]},
            "FilterCriteria": {"Filters": [{"Pattern": Match.serialized_json(pattern)}]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": Match.any_value(),
            "DestinationConfig": {"OnFailure": {"Destination": _arn(queue_id)}},
        },
    )
    [mapping] = [
        m
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == _ref(notifier_id)
    ]
    assert 0 < mapping["Properties"]["MaximumRetryAttempts"] <= 10


def _queue(synth: Synth, prefix: str) -> str:
    [found] = [name for name in synth.of_type("AWS::SQS::Queue") if name.startswith(prefix)]
    return found


def test_the_deliverer_takes_one_encrypted_message_at_a_time_with_bounded_concurrency(
    synth: Synth,
) -> None:
    from infra.alerts import DELIVERER_CONCURRENCY

    from cronbeat.channels.delivery import MAX_ATTEMPTS
    from cronbeat.settings import Settings

    # Given the deliverer, the delivery queue and the dead-letter queue
    deliverer_id, deliverer = synth.function(DELIVERER)
    queue_id = _queue(synth, "AlertsDeliveries")
    dead_letters_id = _queue(synth, "AlertsDeadLetters")
    queue = synth.resources[queue_id]["Properties"]
    # Then its mapping hands over one message at a time, reports failures, and caps concurrency
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": _ref(deliverer_id),
            "EventSourceArn": _arn(queue_id),
            "BatchSize": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": DELIVERER_CONCURRENCY},
        },
    )
    # And an attempt fits the function's timeout, which fits the queue's visibility
    assert Settings().delivery_deadline_s + 5 <= deliverer["Timeout"] < queue["VisibilityTimeout"]
    # And both queues are encrypted, and the redrive backstop allows every attempt
    for queue_name in (queue_id, dead_letters_id):
        assert synth.resources[queue_name]["Properties"]["SqsManagedSseEnabled"] is True
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == _arn(dead_letters_id)
    assert redrive["maxReceiveCount"] > MAX_ATTEMPTS
    # And the notifier, which only enqueues, no longer needs minutes
    _, notifier = synth.function(NOTIFIER)
    assert notifier["Timeout"] <= 60


def test_both_queues_refuse_plain_http(synth: Synth) -> None:
    # Given the queue policies
    policies = synth.of_type("AWS::SQS::QueuePolicy").values()
    denied = [
        statement
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    # Then each queue denies requests that are not over TLS
    queues = {str(ref["Ref"]) for policy in policies for ref in policy["Properties"]["Queues"]}
    assert {_queue(synth, "AlertsDeliveries"), _queue(synth, "AlertsDeadLetters")} <= queues
    assert len(denied) >= 2


# --- Alerts -----------------------------------------------------------------------------------


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(synth: Synth) -> None:
    # Given the alerts topic and its customer-managed key
    key_id = _only(synth.of_type("AWS::KMS::Key"))
    # Then the topic is encrypted with it
    synth.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": _arn(key_id)})
    # And the key rotates, and its policy lets CloudWatch alarms publish through it
    synth.template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": Match.array_with(["kms:Decrypt", "kms:GenerateDataKey*"]),
                            }
                        )
                    ]
                )
            },
        },
    )


def test_topic_accepts_only_tls_and_alarms_from_this_account(synth: Synth) -> None:
    # Given the topic policy
    # Then it denies publishing without TLS and allows this account's alarms to publish
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Condition": Match.object_like(
                                    {"StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")}}
                                ),
                            }
                        ),
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [*(("email", address) for address in ALERT_EMAILS), ("sms", ALERT_PHONE)],
)
def test_subscriptions_come_from_context(synth: Synth, protocol: str, endpoint: str) -> None:
    # Given alertEmail and alertSms in the app's context
    topic_id = _only(synth.of_type("AWS::SNS::Topic"))
    # Then each address is subscribed to the alerts topic
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": protocol, "Endpoint": endpoint, "TopicArn": _ref(topic_id)},
    )
    assert len(synth.of_type("AWS::SNS::Subscription")) == len(ALERT_EMAILS) + 1


def test_dead_letter_queue_requires_tls_and_encryption(synth: Synth) -> None:
    # Given the dead-letter queue
    # Then it is encrypted and its policy refuses plain HTTP
    synth.template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    synth.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


# --- Monitoring -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alarm", "expected"),
    [
        (
            "ScannerNotRunning",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "Invocations",
                "ComparisonOperator": "LessThanThreshold",
                "Threshold": 1,
                "Period": 300,
                "TreatMissingData": "breaching",
            },
        ),
        (
            "ScannerErrors",
            {"Namespace": "AWS/Lambda", "MetricName": "Errors", "TreatMissingData": "notBreaching"},
        ),
        (
            "DeadLettersNotEmpty",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Threshold": 1,
            },
        ),
        (
            "PingErrors",
            {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Threshold": 1},
        ),
        (
            "Api5xx",
            {"Namespace": "AWS/ApiGateway", "MetricName": "5xx", "Threshold": 1},
        ),
    ],
)
def test_alarm_notifies_the_alerts_topic(
    synth: Synth, alarm: str, expected: dict[str, Any]
) -> None:
    # Given the alarms on the monitor itself
    topic = _ref(_only(synth.of_type("AWS::SNS::Topic")))
    alarm_id = _only(
        {n: r for n, r in synth.of_type("AWS::CloudWatch::Alarm").items() if alarm in n}
    )
    properties = synth.resources[alarm_id]["Properties"]
    # Then each watches its metric as intended
    for name, value in expected.items():
        assert properties[name] == value, name
    # And alarms and recoveries go to the alerts topic
    assert properties["AlarmActions"] == [topic]
    assert properties["OKActions"] == [topic]


def test_alarms_watch_the_right_resources(synth: Synth) -> None:
    # Given the alarms keyed by name
    alarms = {
        name: resource["Properties"]
        for name, resource in synth.of_type("AWS::CloudWatch::Alarm").items()
    }
    scanner_id, _ = synth.function(SCANNER)
    segment_id, _ = synth.function(SEGMENT)
    ping_id, _ = synth.function(PING)

    def dimension(fragment: str) -> Any:
        return next(p for n, p in alarms.items() if fragment in n)["Dimensions"][0]["Value"]

    # Then scanner alarms watch the scanner and the ping alarm the ping function
    assert dimension("ScannerNotRunning") == _ref(scanner_id)
    assert dimension("ScannerErrors") == _ref(scanner_id)
    assert dimension("SweepSegmentErrors") == _ref(segment_id)
    assert dimension("PingErrors") == _ref(ping_id)
    assert dimension("Api5xx") == _ref(_only(synth.of_type("AWS::ApiGatewayV2::Api")))
    # And there are exactly six ($0.10 a month each)
    assert len(alarms) == 6


def _dashboard_body(synth: Synth) -> str:
    dashboard = next(iter(synth.of_type("AWS::CloudWatch::Dashboard").values()))
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def test_dashboard_charts_at_most_six_custom_metric_streams(synth: Synth) -> None:
    # Given the dashboard body
    body = _dashboard_body(synth)
    # When the custom metrics it charts are collected
    custom = set(re.findall(r'\\"Cronbeat\\",\\"(\w+)\\",\\"service\\",\\"cronbeat\\"', body))
    # Then they are the five event metrics, each with the single service dimension
    assert custom == {"FailurePings", "Flips", "DetectionLag", "AlertsSent", "AlertsFailed"}
    assert len(custom) <= 6


def _emitted_metrics() -> tuple[set[str], list[str]]:
    """Names of the EMF metrics the Lambda code emits, and every call that adds a dimension."""
    names: set[str] = set()
    dimensions: list[str] = []
    for path in sorted((Path(__file__).parents[2] / "functions" / "cronbeat").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            called = node.func.id if isinstance(node.func, ast.Name) else called
            if called in ("add_metric", "single_metric"):
                name = next(k.value for k in node.keywords if k.arg == "name")
                assert isinstance(name, ast.Constant), f"{path}:{node.lineno}: a computed name"
                names.add(str(name.value))
            if called in ("add_dimension", "set_default_dimensions") or any(
                k.arg == "default_dimensions" for k in node.keywords
            ):
                dimensions.append(f"{path.name}:{node.lineno}")
    return names, dimensions


def test_the_code_emits_only_the_budgeted_custom_metrics() -> None:
    from infra.monitoring import EVENT_METRICS

    # Given every metric the Lambda code emits (Powertools adds the one service dimension)
    names, dimensions = _emitted_metrics()
    # Then they are the five event metrics the dashboard charts: at most six streams in all
    assert names == set(EVENT_METRICS)
    assert len(names) <= 6
    # And none gets another dimension, such as a check id, that would multiply the streams
    assert dimensions == []


def test_dashboard_charts_the_free_built_in_metrics(synth: Synth) -> None:
    # Given the dashboard body
    body = _dashboard_body(synth)
    # Then it charts pings, scanner duration, Lambda errors and throttles, and API responses
    for metric in ("Invocations", "Duration", "Errors", "Throttles", "5xx", "Count"):
        assert f'\\"{metric}\\"' in body, metric
    assert "Detection lag" in body


def test_saved_logs_insights_queries(synth: Synth) -> None:
    # Given the saved queries
    queries = {
        q["Properties"]["Name"]: q["Properties"]
        for q in synth.of_type("AWS::Logs::QueryDefinition").values()
    }
    # Then one finds a check's pings, one the failures, one the failed deliveries
    assert set(queries) == {
        "cronbeat/pings of one check",
        "cronbeat/failures (set the range to 24 hours)",
        "cronbeat/alert deliveries that failed",
    }
    assert "check_id" in queries["cronbeat/pings of one check"]["QueryString"]
    failures = queries["cronbeat/failures (set the range to 24 hours)"]
    assert len(failures["LogGroupNames"]) == len(HANDLERS)
    # And the failures include invocations that Lambda's JSON report says failed or timed out
    for clause in ('kind = "fail"', 'level = "ERROR"', 'record.status in ["error", "failure"'):
        assert clause in failures["QueryString"], clause


# --- Outputs ----------------------------------------------------------------------------------


def test_outputs(synth: Synth) -> None:
    # Given the stack outputs
    # Then they name the URLs, the topic, the dashboard and both tables
    assert set(synth.outputs) >= {
        "ApiUrl",
        "PingUrl",
        "AlertsTopicArn",
        "DashboardUrl",
        "ChecksTableName",
        "EventsTableName",
    }
    assert synth.outputs["EventsTableName"]["Value"] == _ref(_table_id(synth, "Events"))
    assert synth.outputs["ChecksTableName"]["Value"] == _ref(_table_id(synth, "Checks"))
    assert "ping/" in json.dumps(synth.outputs["PingUrl"]["Value"])
    assert "dashboards" in json.dumps(synth.outputs["DashboardUrl"]["Value"])


# --- Checks on every synth --------------------------------------------------------------------


def test_no_unacknowledged_nag_findings(synth: Synth) -> None:
    from cdk_nag import AwsSolutionsChecks

    # Given the synthesized app (a finding at error level would have failed the synth)
    # When the AwsSolutions pack runs over it again, warnings included
    report = AwsSolutionsChecks().validate_scope(synth.app)
    findings = [
        f"{v.rule_name} ({v.severity}) at {[r.construct_path for r in v.violating_resources]}"
        for v in report.violations
    ]
    # Then nothing is reported, here or in the synth's validation report
    assert findings == []
    assert report.success
    assert all(not plugin.get("violations") for plugin in synth.validation_report["pluginReports"])


def test_every_acknowledgement_gives_a_reason(synth: Synth) -> None:
    from aws_cdk import Validations

    # Given every acknowledgement recorded in the construct tree
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    reasons = {
        f"{construct.node.path}: {rule}": reason
        for construct in synth.app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
        for rule, reason in entry.data.items()
    }
    # Then there are some, and each says why in a real sentence
    assert reasons
    for where, reason in reasons.items():
        assert len(reason.split()) >= 8, where


# --- Bundling ---------------------------------------------------------------------------------


def _code_asset(synth: Synth) -> Path:
    manifest = json.loads((synth.outdir / "Cronbeat.assets.json").read_text())
    zipped = [f for f in manifest["files"].values() if f["source"].get("packaging") == "zip"]
    assert len(zipped) == 1, "every function shares one code asset"
    return synth.outdir / str(zipped[0]["source"]["path"])


def test_bundle_holds_aarch64_cp313_pydantic_core(synth: Synth) -> None:
    # Given the Lambda code asset, built without Docker
    asset = _code_asset(synth)
    # Then pydantic_core is the CPython 3.13 aarch64 build
    native = asset / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so"
    assert native.is_file()
    header = native.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == EM_AARCH64
    # And no build for another platform slipped in
    assert not [p.name for p in (asset / "pydantic_core").glob("*.so") if "x86_64" in p.name]


def test_bundle_holds_the_package_without_tests_or_bytecode(synth: Synth) -> None:
    # Given the Lambda code asset
    asset = _code_asset(synth)
    # Then the cronbeat package and its locked dependencies are at the top level
    assert (asset / "cronbeat" / "settings.py").is_file()
    assert (asset / "cronbeat" / "store" / "tables.py").is_file()
    for dependency in ("aws_lambda_powertools", "pydantic", "cronsim", "boto3"):
        assert (asset / dependency).is_dir(), dependency
    # And nothing of the build machine or the test suite comes along
    assert not list(asset.rglob("__pycache__"))
    assert not (asset / "bin").exists()
    assert not list((asset / "cronbeat").rglob("tests"))


def test_bundle_leaves_out_what_runs_only_on_a_workstation(synth: Synth) -> None:
    from infra.bundling import NOT_FOR_LAMBDA

    # Given the Lambda code asset
    package = _code_asset(synth) / "cronbeat"
    # Then local mode, the CLI, the key tool and the size rules are not in it
    for left_out in NOT_FOR_LAMBDA:
        assert not (package / left_out).exists(), left_out
    assert (package / "handlers" / "deliverer.py").is_file()
    # And no module that is shipped imports one of them, so no function can miss it
    missing = {".".join(("cronbeat", *part.with_suffix("").parts)) for part in NOT_FOR_LAMBDA}
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                assert not any(name == m or name.startswith(m + ".") for m in missing), (
                    module.relative_to(package),
                    name,
                )


def test_dependencies_are_installed_once_per_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra import bundling

    # Given an empty cache, a lock, and an installer that only counts its runs
    monkeypatch.setattr(bundling, "CACHE", tmp_path / "cache")
    lock = tmp_path / "uv.lock"
    lock.write_text("version = 1\n")
    monkeypatch.setattr(bundling, "LOCK", lock)
    installs: list[Path] = []

    def install(target: Path) -> None:
        installs.append(target)
        target.mkdir(parents=True)
        (target / "installed.txt").write_text(lock.read_text())

    monkeypatch.setattr(bundling, "_install_dependencies", install)
    # When two synths bundle with the same lock
    first = bundling.cached_dependencies()
    again = bundling.cached_dependencies()
    # Then the dependencies are installed once and reused
    assert again == first
    assert len(installs) == 1
    # When the lock changes
    lock.write_text("version = 2\n")
    changed = bundling.cached_dependencies()
    # Then they are installed again, and the build for the old lock is dropped
    assert changed != first
    assert len(installs) == 2
    assert (changed / "installed.txt").read_text() == "version = 2\n"
    assert not first.exists()


def test_asset_hash_follows_the_lock_and_every_shipped_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra import bundling

    # Given a package and a lock
    package = tmp_path / "functions" / "cronbeat"
    package.mkdir(parents=True)
    (package / "handler.py").write_text("A = 1\n")
    lock = tmp_path / "uv.lock"
    lock.write_text("version = 1\n")
    for name, value in (("FUNCTIONS", package.parent), ("PACKAGE", package), ("LOCK", lock)):
        monkeypatch.setattr(bundling, name, value)
    before = bundling.asset_hash()
    # When only bytecode changes, the hash stays (bytecode is never shipped)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "handler.cpython-313.pyc").write_bytes(b"\0")
    assert bundling.asset_hash() == before
    # When a source changes, or the lock does, the asset is a new one
    (package / "handler.py").write_text("A = 2\n")
    after_source = bundling.asset_hash()
    assert after_source != before
    lock.write_text("version = 2\n")
    assert bundling.asset_hash() != after_source


def test_the_cost_model_prices_every_alarm_the_stack_makes(synth: Synth) -> None:
    from benchmarks import cost

    # Given the stack's alarms / Then the fixed monthly cost counts each of them
    assert len(synth.of_type("AWS::CloudWatch::Alarm")) == cost.ALARMS
