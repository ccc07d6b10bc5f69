"""`make dev` on a fresh copy installs only local mode's parts and reaches its ready banner."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.e2e.devserver import ROOT, Output

LIGHT_VENV_BUDGET_MB = 150
PROJECT_FILES = ("Makefile", "pyproject.toml", "uv.lock", "README.md", "LICENSE")
SETUP_TIMEOUT_S = 180.0
"""uv installs from its cache here, as on a warm machine; the first download can take longer."""


def tree_megabytes(path: Path) -> float:
    """What `du --apparent-size` would say: every regular file's size, links not followed."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            file = Path(directory, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total / 1_000_000


def test_make_dev_on_a_fresh_copy_is_light_and_says_each_step(tmp_path: Path) -> None:
    # Given a copy of the project with no .venv
    for name in PROJECT_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(
        ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__")
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    environment.pop("PYTHONPATH", None)
    environment["PYTHONUNBUFFERED"] = "1"

    # When `make dev` runs there
    process = subprocess.Popen(
        ["make", "--no-print-directory", "dev", "ARGS=--port 0"],
        cwd=tmp_path,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    output = Output(process.stdout)
    try:
        # Then it says what it is doing at each step, up to the banner
        output.wait_for(r"Press Ctrl-C to stop", SETUP_TIMEOUT_S)
        steps = [
            "installing what local mode needs",
            "starting AWS emulation",
            "creating the tables",
            "cronbeat dev is running",
        ]
        text = output.text()
        positions = [text.find(step) for step in steps]
        assert -1 not in positions, text
        assert positions == sorted(positions), text
        # And its environment holds local mode's parts only, within the budget
        size_mb = tree_megabytes(tmp_path / ".venv")
        assert size_mb <= LIGHT_VENV_BUDGET_MB, f"{size_mb:.0f} MB"
        site = next((tmp_path / ".venv" / "lib").glob("python*/site-packages"))
        for heavy in ("aws_cdk", "playwright", "mypy", "cfnlint", "pytest"):
            assert not (site / heavy).exists(), heavy
        assert (site / "moto").is_dir()
        # And no traceback or raw metric line reached the console
        assert "Traceback" not in text
        assert '"_aws"' not in text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        output.wait_closed(10)
