"""cdk-nag acknowledgements: each one names a rule finding and says why it is accepted."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Accept `finding` (e.g. "IAM5[Resource::*]") on `scope` and everything under it.

    The id stays unqualified ("AwsSolutions-IAM5[...]"), the form cdk-nag itself matches, so
    the acknowledgement holds both during synth and in a direct `validate_scope` run.
    """
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}-{finding}", reason=reason))
