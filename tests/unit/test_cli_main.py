"""The `cronbeat` entry point: one-line usage errors, lazy server commands, stdlib-only imports."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from cronbeat.cli import main as cli_main
from cronbeat.cli.main import main

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
THIRD_PARTY_SERVER_MODULES = ("boto3", "botocore", "pydantic", "aws_lambda_powertools", "cronsim")


@pytest.fixture(autouse=True)
def _no_cronbeat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CRONBEAT_URL",
        "CRONBEAT_CHECK_UUID",
        "CRONBEAT_CHECK_SLUG",
        "CRONBEAT_PING_KEY",
        "CRONBEAT_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["run", "--uuid", "u", "--", "TOUCH"], "no monitor URL"),
        (["run", "--url", "ftp://h", "--uuid", "u", "--", "TOUCH"], "http:// or https://"),
        (["run", "--url", "http://:80", "--uuid", "u", "--", "TOUCH"], "http:// or https://"),
        (["run", "--url", "http://h:abc", "--uuid", "u", "--", "TOUCH"], "bad port"),
        (["run", "--url", "http://h:99999", "--uuid", "u", "--", "TOUCH"], "bad port"),
        (["run", "--url", "http://h", "--", "TOUCH"], "which check?"),
        (["run", "--url", "http://h", "--uuid", "u"], "no COMMAND"),
        (["run", "--url", "http://h", "--uuid", "u", "--slug", "s", "--", "TOUCH"], "not both"),
        (["run", "--url", "http://h", "--uuid", "u", "--create", "--", "TOUCH"], "--slug only"),
        (["run", "--url", "http://h", "--slug", "s", "--", "TOUCH"], "needs --ping-key"),
        (["run", "--url", "http://h", "--uuid", "u", "--timeout", "soon", "--", "TOUCH"], "soon"),
        (["run", "--url", "http://h", "--uuid", "u", "--timeout", "0", "--", "TOUCH"], "zero"),
        (["run", "--url", "http://h", "--uuid", "u", "--retries", "-1", "--", "TOUCH"], "-1"),
        (["run", "--url", "http://h", "--uuid", "u", "--retries-job", "x", "--", "TOUCH"], "'x'"),
        (["run", "--url", "http://h", "--uuid", "u", "--retry-delay", "0", "--", "TOUCH"], "zero"),
        (
            ["run", "--url", "http://h", "--uuid", "u", "--stuck-after", "90s", "--", "TOUCH"],
            "--stuck-after must be at least 2 min",
        ),
        (
            [
                "run",
                "--url",
                "http://h",
                "--uuid",
                "u",
                "--stuck-after",
                "30m",
                "--no-start-ping",
                "--",
                "TOUCH",
            ],
            "--stuck-after needs the start ping",
        ),
        (
            ["run", "--url", "http://h", "--uuid", "file:/nonexistent/x", "--", "TOUCH"],
            "cannot read",
        ),
        (["history"], "CHECK"),
        (["history", "x", "--url", "http://h"], "no API key"),
        (["ls", "--url", "https://h:port", "--api-key", "k"], "bad port"),
        (["history", "x", "--url", "http://h", "--api-key", "k", "-n", "many"], "many"),
        (["stats", "x", "--url", "http://h", "--api-key", "k", "--since", "then"], "then"),
        (["frobnicate"], "frobnicate"),
        ([], "COMMAND"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2_and_the_job_does_not_run(
    arguments: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given flags that cannot work, and a job that would leave a marker
    marker = tmp_path / "ran"
    job = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    arguments = [
        part for argument in arguments for part in (job if argument == "TOUCH" else [argument])
    ]
    # When cronbeat is called
    status = main(arguments)
    # Then it says why in one line, exits 2, and did not run the job
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1, err
    assert err.startswith("cronbeat: ")
    assert says in err
    assert not marker.exists()


def test_help_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Given --help / When cronbeat is called / Then it prints usage and exits 0
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "cronbeat run [options] -- COMMAND" in out
    # And it says how many attempts --retries-job makes, and how a job reports its count
    words = " ".join(out.split())
    assert "up to N more times (N + 1 attempts in all)" in words
    assert "A line CRONBEAT_COUNT=N on its own" in words


def test_server_commands_are_imported_only_when_asked_for_and_get_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a server module that records what it is called with
    calls: list[list[str]] = []
    module = types.ModuleType("fake_dev_server")

    def dev_main(argv: list[str]) -> int:
        calls.append(argv)
        return 5

    module.main = dev_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_dev_server", module)
    monkeypatch.setitem(cli_main.SERVER_COMMANDS, "dev", "fake_dev_server")
    # When `cronbeat dev` is called with its own flags
    status = main(["dev", "--port", "8000", "--help"])
    # Then the module got them untouched, and its status came back
    assert calls == [["--port", "8000", "--help"]]
    assert status == 5


@pytest.mark.parametrize("command", ["dev", "keys"])
def test_a_server_command_without_the_extras_says_how_to_get_them(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an installation without boto3
    monkeypatch.setitem(sys.modules, "boto3", None)
    # When a server command is called
    status = main([command, "--help"])
    # Then one line says which extras to install, and the status is 2
    assert status == 2
    extra = {"dev": "local", "keys": "server"}[command]
    assert capsys.readouterr().err == (
        f"cronbeat {command} needs the {extra} extras: pip install 'cronbeat[{extra}]'\n"
    )


@pytest.mark.parametrize(
    ("lacking", "says"),
    [
        ("pydantic", "needs the local extras: pip install 'cronbeat[local]'"),
        ("moto.server", "needs the local extras: pip install 'cronbeat[local]'"),
        ("yaml", "needs the Python package 'yaml'"),
        ("cronbeat.local.gone", "is not part of this installation"),
    ],
)
def test_a_module_a_server_command_imports_late_is_named_in_one_line(
    lacking: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a server command that imports a missing module only once it runs
    server = "fake_late_server_" + lacking.replace(".", "_")  # one module name per case
    (tmp_path / f"{server}.py").write_text(f"def main(argv):\n    import {lacking}\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    if not lacking.startswith("cronbeat."):
        monkeypatch.setitem(sys.modules, lacking, None)  # installed here: made unimportable
    monkeypatch.setitem(cli_main.SERVER_COMMANDS, "dev", server)
    # When it is called
    status = main(["dev"])
    # Then one line says what is missing, with no traceback, and the status is 2
    assert status == 2
    assert capsys.readouterr().err == f"cronbeat dev {says}\n"


def test_importing_the_cli_loads_only_the_standard_library() -> None:
    # Given a fresh interpreter / When it imports the CLI, timing every import
    probe = (
        "import sys, json, cronbeat.cli, cronbeat.cli.main; print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(FUNCTIONS), "PATH": ""},
        timeout=60,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    timed = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    # Then everything it loaded is the standard library or cronbeat's own light modules
    # (importtime also lists failed probes such as copy's `org.python.core`; they load nothing)
    foreign = {
        name
        for name in timed & loaded
        if name.partition(".")[0] not in sys.stdlib_module_names
        and name.partition(".")[0] != "cronbeat"
    }
    assert "cronbeat.cli.main" in timed
    assert foreign == set()
    assert "cronbeat.domain.schedule" not in loaded
    assert not {name for name in loaded if name.partition(".")[0] in THIRD_PARTY_SERVER_MODULES}


def test_the_plain_install_depends_on_nothing_and_puts_cronbeat_on_path() -> None:
    # Given the package's metadata
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    # Then `pip install cronbeat` pulls in no other package, and installs the `cronbeat` script
    assert project["dependencies"] == []
    assert project["scripts"] == {"cronbeat": "cronbeat.cli.main:main"}
    # And the server libraries come only with the extras
    extras = {name: " ".join(wants) for name, wants in project["optional-dependencies"].items()}
    assert all(module in extras["server"] for module in ("boto3", "pydantic", "powertools"))
