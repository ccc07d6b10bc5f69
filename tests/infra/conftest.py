"""One CDK synth per test session: every infra test reads the same cloud assembly.

The synth needs `node` on PATH and nothing else (no Docker, no AWS credentials, no CDK CLI).
Its first run on a machine installs the Lambda dependencies into `.bundle-cache/`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before jsii starts node: its end-of-life banner would otherwise flood the test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ALERT_EMAILS = ("ops@example.com", "oncall@example.org")
ALERT_PHONE = "+15555550100"
CONTEXT = {"alertEmail": ",".join(ALERT_EMAILS), "alertSms": ALERT_PHONE}


@dataclass(frozen=True)
class Synth:
    app: Any
    """The `aws_cdk.App`, for checks that walk the construct tree."""
    template: Any
    """`aws_cdk.assertions.Template` of the stack."""
    resources: dict[str, dict[str, Any]]
    """The template's resources by logical id, as plain JSON."""
    outputs: dict[str, Any]
    outdir: Path
    validation_report: dict[str, Any]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    def function(self, handler: str) -> tuple[str, dict[str, Any]]:
        """(logical id, properties) of the Lambda function entered at `handler`."""
        for name, resource in self.of_type("AWS::Lambda::Function").items():
            if resource["Properties"]["Handler"] == handler:
                return name, resource["Properties"]
        raise AssertionError(f"no function with handler {handler}")


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    if shutil.which("node") is None:
        pytest.fail("the CDK synth needs node on PATH")
    from aws_cdk import App
    from aws_cdk.assertions import Template
    from infra.app import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(outdir=str(outdir), context=CONTEXT)
    stack = build(app)
    report_path = outdir / "validation-report.json"
    try:
        assembly = app.synth()
    except RuntimeError as error:
        report = report_path.read_text() if report_path.exists() else "(no report)"
        pytest.fail(f"synth failed: {error}\n{report}")
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Synth(
        app=app,
        template=Template.from_json(template),
        resources=template["Resources"],
        outputs=template.get("Outputs", {}),
        outdir=outdir,
        validation_report=json.loads(report_path.read_text()),
    )
