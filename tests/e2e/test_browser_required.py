"""`make test` means the whole suite: without chromium the browser tests skip, but in CI fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_BROWSER_TEST = "tests/e2e/test_dashboard.py::test_overview_shows_every_check_worst_first"


def _run_without_chromium(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CRONBEAT_TEST_CHROMIUM"] = str(ROOT / "no-such-chromium")
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", ONE_BROWSER_TEST, "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "--numprocesses=0", "-rs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("ci", [None, "false"])
def test_without_chromium_outside_ci_a_browser_test_is_skipped_and_says_why(
    ci: str | None,
) -> None:
    run = _run_without_chromium(ci)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    assert "not found: these tests drive Debian's chromium" in run.stdout


def test_without_chromium_in_ci_a_browser_test_fails() -> None:
    run = _run_without_chromium("true")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 error" in run.stdout or "1 failed" in run.stdout
    assert "not found: these tests drive Debian's chromium" in run.stdout
