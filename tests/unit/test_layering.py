"""The dependency rules of the layout: the domain is pure and imports nothing of the rest."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

DOMAIN = Path(__file__).parents[2] / "functions" / "cronbeat" / "domain"
ALLOWED_THIRD_PARTY = {"cronsim", "oncalendar"}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_only_the_standard_library_the_schedule_libraries_and_itself() -> None:
    # Given every module of the domain package
    offenders: dict[str, set[str]] = {}
    for path in sorted(DOMAIN.glob("*.py")):
        # When we list what it imports
        bad = {
            name
            for name in _imported_modules(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] not in ALLOWED_THIRD_PARTY
            and not name.startswith("cronbeat.domain")
        }
        if bad:
            offenders[path.name] = bad
    # Then nothing outside the standard library, cronsim, oncalendar and the domain itself appears
    assert offenders == {}


def test_importing_the_domain_loads_no_aws_sdk_powertools_or_pydantic() -> None:
    # Given a fresh interpreter, When every domain module is imported
    modules = [f"cronbeat.domain.{p.stem}" for p in DOMAIN.glob("*.py") if p.stem != "__init__"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'aws_lambda_powertools', 'pydantic')]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(DOMAIN.parents[1])},
    )
    # Then none of them was loaded
    assert result.stdout.strip() == ""
