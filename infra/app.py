"""CDK entry point: `npx cdk synth` (see cdk.json), or `CDK_OUTDIR=cdk.out python infra/app.py`.

Every synth runs cdk-nag's AwsSolutions checks; an unacknowledged finding fails it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts infra/ first on the path; the app needs the project root (for
# `infra`) and functions/ (for the store's table definitions).
for entry in (ROOT / "functions", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from aws_cdk import App, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import ConfigError, StackConfig  # noqa: E402
from infra.stack import CronbeatStack  # noqa: E402

STACK_NAME = "Cronbeat"


def build(app: App) -> CronbeatStack:
    """The stack, configured from the app's context, with the nag checks registered."""
    stack = CronbeatStack(app, STACK_NAME, config=StackConfig.from_context(app.node))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> int:
    app = App()
    try:
        build(app)
    except ConfigError as error:
        print(f"cronbeat: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
