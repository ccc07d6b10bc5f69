"""The job-host install the README documents: a wheel with no dependencies, installed into a
fresh venv without any package index, whose `cronbeat` runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHEEL = "cronbeat-0.1.0-py3-none-any.whl"
README_STEPS = (
    "make wheel",
    "python3 -m venv /opt/cronbeat",
    f"/opt/cronbeat/bin/pip install --no-index {WHEEL}",
    "/opt/cronbeat/bin/cronbeat --version",
)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    return done


def test_the_readme_job_host_install_works_offline(tmp_path: Path) -> None:
    # Given the README's steps
    readme = (ROOT / "README.md").read_text()
    for step in README_STEPS:
        assert step in readme, step
    # When the wheel is built and copied to a "job host" directory
    run(["make", "wheel"], ROOT)
    host = tmp_path / "host"
    host.mkdir()
    (host / WHEEL).write_bytes((ROOT / "dist" / WHEEL).read_bytes())
    venv = tmp_path / "opt-cronbeat"
    run(["python3", "-m", "venv", str(venv)], host)
    # And installed with no package index to fetch anything from
    run(
        [str(venv / "bin" / "pip"), "install", "--no-index", "--disable-pip-version-check", WHEEL],
        host,
    )
    # Then cronbeat runs, its management commands are there, and nothing else was installed
    assert run([str(venv / "bin" / "cronbeat"), "--version"], host).stdout == "cronbeat 0.1.0\n"
    assert "ACTION" in run([str(venv / "bin" / "cronbeat"), "checks", "--help"], host).stdout
    listed = run(
        [str(venv / "bin" / "pip"), "list", "--format=freeze", "--disable-pip-version-check"], host
    )
    installed = {line.partition("==")[0] for line in listed.stdout.split()}
    assert installed - {"pip", "setuptools", "wheel"} == {"cronbeat"}
