"""Deployment settings from CDK context: good values shape the stack, bad ones fail clearly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra


def _config(context: dict[str, Any]) -> Any:
    from aws_cdk import App
    from infra.config import StackConfig

    return StackConfig.from_context(App(context=context).node)


def test_defaults_without_context() -> None:
    # Given no context at all
    config = _config({})
    # Then nobody is subscribed, tracing is off and the stage is throttled
    assert config.alert_emails == ()
    assert config.alert_phones == ()
    assert config.tracing is False
    assert (config.throttle_rate_per_s, config.throttle_burst) == (50, 500)


def test_comma_lists_are_split_and_trimmed() -> None:
    # Given comma lists with stray spaces, as typed on a command line
    config = _config(
        {"alertEmail": " a@example.com, b@example.org ,", "alertSms": "+4915112345678"}
    )
    # Then each address stands alone
    assert config.alert_emails == ("a@example.com", "b@example.org")
    assert config.alert_phones == ("+4915112345678",)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"alertSms": "5555550100"}, "context alertSms: '5555550100' is not an E.164"),
        (
            {"alertEmail": "ops.example.com"},
            "context alertEmail: 'ops.example.com' is not an email",
        ),
        ({"tracing": "maybe"}, "context tracing: 'maybe' is not true or false"),
        ({"logRetentionDays": "45"}, "context logRetentionDays: 45 is not one of"),
        ({"logLevel": "chatty"}, "context logLevel: 'CHATTY' is not one of"),
        ({"throttleRate": "fast"}, "context throttleRate: 'fast' is not a whole number"),
        ({"scanSegments": "0"}, "context scanSegments: 0 is below the minimum 1"),
        ({"sweepSeconds": "7"}, "context sweepSeconds: 7 is not one of (10, 12, 15, 20, 30, 60)"),
        ({"sweepSeconds": "5"}, "context sweepSeconds: 5 is not one of"),
        ({"sweepSeconds": "90"}, "context sweepSeconds: 90 is not one of"),
        ({"sweepSeconds": "10s"}, "context sweepSeconds: '10s' is not a whole number"),
        ({"sweepFanOutChecks": "-1"}, "context sweepFanOutChecks: -1 is below the minimum 0"),
        ({"sweepChecksPerSegment": "0"}, "context sweepChecksPerSegment: 0 is below"),
    ],
)
def test_bad_context_is_a_clear_error(context: dict[str, str], message: str) -> None:
    from infra.config import ConfigError

    # Given a malformed context value
    # When the settings are read
    with pytest.raises(ConfigError) as raised:
        _config(context)
    # Then the error names the key and what was expected
    assert str(raised.value).startswith(message)


def test_tracing_setting_turns_on_active_tracing() -> None:
    from aws_cdk import App, Stack
    from aws_cdk.aws_lambda import CfnFunction
    from infra.app import build

    # Given the stack built with tracing on (constructed, not synthesized, nor bundled)
    app = App(context={"tracing": "true", "aws:cdk:bundling-stacks": []})
    stack: Stack = build(app)
    # When its functions are inspected
    functions = [child for child in stack.node.find_all() if isinstance(child, CfnFunction)]
    # Then every one of them traces actively
    assert len(functions) == 6
    for function in functions:
        assert stack.resolve(function.tracing_config) == {"mode": "Active"}


def test_throttle_and_retention_settings_reach_the_stage_and_every_log_group() -> None:
    from aws_cdk import App, Stack
    from aws_cdk.aws_apigatewayv2 import CfnStage
    from aws_cdk.aws_logs import CfnLogGroup
    from infra.app import build

    # Given the stack built with its own throttling and log retention (constructed, not bundled)
    context = {
        "throttleRate": "7",
        "throttleBurst": "70",
        "logRetentionDays": "90",
        "aws:cdk:bundling-stacks": [],
    }
    stack: Stack = build(App(context=context))
    children = stack.node.find_all()
    # Then the stage throttles at those rates
    (stage,) = [child for child in children if isinstance(child, CfnStage)]
    settings = stack.resolve(stage.default_route_settings)
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (7, 70)
    # And every log group (six functions and the access log) keeps 90 days
    groups = [child for child in children if isinstance(child, CfnLogGroup)]
    assert len(groups) == 7
    assert {group.retention_in_days for group in groups} == {90}


def test_cdk_runs_the_app_with_the_pinned_cli() -> None:
    root = Path(__file__).resolve().parents[2]
    # Given cdk.json and package.json
    app = json.loads((root / "cdk.json").read_text())["app"]
    cli = json.loads((root / "package.json").read_text())["devDependencies"]["aws-cdk"]
    locked = json.loads((root / "package-lock.json").read_text())
    # Then the CDK CLI runs infra/app.py
    assert app.split()[-1] == "infra/app.py"
    # And the CLI is pinned to a 2.x release of at least 2.1148 (3.x rejects these assemblies)
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", cli)
    assert match is not None, cli
    assert int(match.group(1)) == 2
    assert int(match.group(2)) >= 1148
    assert locked["packages"]["node_modules/aws-cdk"]["version"] == cli


def test_an_email_domain_adds_an_encrypted_inbound_mail_path_to_the_ping_function(
    tmp_path: Path,
) -> None:
    from aws_cdk import App
    from infra.app import build

    # Given the stack with an email domain, synthesized with its nag checks (not bundled)
    app = App(
        outdir=str(tmp_path),
        context={"emailDomain": "Mon.Example.com", "aws:cdk:bundling-stacks": []},
    )
    stack = build(app)
    # When it is synthesized (a nag error would fail the synth)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    resources = template["Resources"]
    # (a finding would have raised; the report lists plugins only when they found something)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(not plugin.get("violations") for plugin in report["pluginReports"])

    def of(kind: str) -> list[dict[str, Any]]:
        return [r.get("Properties", {}) for r in resources.values() if r["Type"] == kind]

    # Then one rule takes the domain's mail, scans it, and publishes it whole to a topic
    [rule] = of("AWS::SES::ReceiptRule")
    assert rule["Rule"]["Recipients"] == ["mon.example.com"]
    assert rule["Rule"]["ScanEnabled"] is True
    [action] = rule["Rule"]["Actions"]
    assert action["SNSAction"]["Encoding"] == "Base64"
    assert len(of("AWS::SES::ReceiptRuleSet")) == 1
    # And that topic is encrypted and feeds the ping function
    topic_id = action["SNSAction"]["TopicArn"]["Ref"]
    assert "KmsMasterKeyId" in resources[topic_id]["Properties"]
    [subscription] = [s for s in of("AWS::SNS::Subscription") if s["TopicArn"] == {"Ref": topic_id}]
    assert subscription["Protocol"] == "lambda"
    ping_id = subscription["Endpoint"]["Fn::GetAtt"][0]
    assert resources[ping_id]["Properties"]["Handler"] == "cronbeat.handlers.ping.handler"
    # And the outputs say how to activate the rule set
    assert {"EmailPingRuleSet", "EmailPingAddress"} <= set(template["Outputs"])


def test_without_an_email_domain_there_is_no_mail_path() -> None:
    from aws_cdk import App, Stack
    from infra.app import build

    stack: Stack = build(App(context={"aws:cdk:bundling-stacks": []}))
    kinds = {type(child).__name__ for child in stack.node.find_all()}
    assert not {k for k in kinds if k.startswith("CfnReceiptRule")}


def test_a_bad_email_domain_is_a_clear_error() -> None:
    from infra.config import ConfigError

    with pytest.raises(ConfigError, match="context emailDomain: 'not a domain'"):
        _config({"emailDomain": "not a domain"})


def test_ten_second_sweeps_synthesize_nag_clean_with_a_timeout_that_covers_the_minute(
    tmp_path: Path,
) -> None:
    from aws_cdk import App
    from infra.app import build

    # Given the stack with sweeps every 10 s, synthesized with its nag checks (not bundled)
    app = App(outdir=str(tmp_path), context={"sweepSeconds": "10", "aws:cdk:bundling-stacks": []})
    stack = build(app)
    # When it is synthesized (a nag error would fail the synth)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    report = json.loads((tmp_path / "validation-report.json").read_text())
    # Then nag found nothing
    assert all(not plugin.get("violations") for plugin in report["pluginReports"])
    functions = {
        r["Properties"]["Handler"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    scanner = functions["cronbeat.handlers.scanner.handler"]
    # And the scanner sweeps every 10 s, within a timeout past its minute but short of the next
    assert scanner["Environment"]["Variables"]["CRONBEAT_SWEEP_SECONDS"] == "10"
    assert 60 < scanner["Timeout"] <= 90
    # And the segment worker still sweeps one segment within a single sweep's time
    assert functions["cronbeat.handlers.sweep_segment.handler"]["Timeout"] == 50
