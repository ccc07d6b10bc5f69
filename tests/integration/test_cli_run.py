"""`cronbeat run` against a real monitor on 127.0.0.1: pings, exit statuses, output, kills.

Most tests run cronbeat as its own process, as cron would, so that exit statuses, signals and
stdio are the real thing. The retry tests call it in-process, to shorten the backoff.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from cronbeat.cli import ping as ping_module
from cronbeat.cli.main import main
from cronbeat.cli.ping import Pinger, PingFailed
from tests.integration.fake_monitor import (
    FakeMonitor,
    running_monitor,
    silent_monitor,
    unused_url,
)

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
CHECK = "0c7e4a36-0d43-4d7a-9b0e-5a1f1f6c2a01"
PY = sys.executable
DEADLINE_S = 20.0


@pytest.fixture
def monitor() -> Iterator[FakeMonitor]:
    with running_monitor() as serving:
        yield serving


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRONBEAT_", "PYTHON"))}
    return {**env, "PYTHONPATH": str(FUNCTIONS), **extra}


def run_command(url: str, *arguments: str) -> list[str]:
    """`cronbeat run --url URL --uuid CHECK ARGUMENTS`."""
    return [PY, "-m", "cronbeat.cli", "run", "--url", url, "--uuid", CHECK, *arguments]


def cronbeat(url: str, *arguments: str, **extra_env: str) -> subprocess.CompletedProcess[bytes]:
    """`cronbeat run --url URL --uuid CHECK ARGUMENTS`, as its own process, to the end."""
    return subprocess.run(
        run_command(url, *arguments),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=environment(**extra_env),
        timeout=DEADLINE_S * 2,
    )


def python_job(code: str, *arguments: str) -> list[str]:
    return ["--", PY, "-c", code, *arguments]


class Lines:
    """The lines of a pipe, read by a thread, so a test waits on them with a deadline."""

    def __init__(self, pipe: IO[bytes] | None) -> None:
        assert pipe is not None
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            self._lines.put(line)

    def next(self) -> bytes:
        return self._lines.get(timeout=DEADLINE_S)


def start_and_finish(monitor: FakeMonitor) -> tuple[Any, Any]:
    start, finish = monitor.wait_for_pings(2)
    return start, finish


# --- pings and exit statuses ---------------------------------------------------------------


def test_start_and_finish_pings_carry_the_same_rid(monitor: FakeMonitor) -> None:
    # Given a job that prints a line
    # When cronbeat runs it
    done = cronbeat(monitor.url, *python_job("print('hello')"))
    # Then it exits 0 and the monitor got a start and a finish of one run, with the output
    assert done.returncode == 0
    start, finish = start_and_finish(monitor)
    assert (start.method, start.path) == ("GET", f"/ping/{CHECK}/start")
    assert (finish.method, finish.path) == ("POST", f"/ping/{CHECK}/0")
    assert uuid.UUID(start.query["rid"]).version == 4
    assert finish.query == {"rid": start.query["rid"]}
    assert finish.body == b"hello\n"
    assert done.stdout == b"hello\n"
    assert done.stderr == b""


@pytest.mark.parametrize("status", [0, 1, 3])
def test_the_jobs_exit_status_comes_through_and_is_pinged(
    monitor: FakeMonitor, status: int
) -> None:
    # Given a job that exits with `status`
    # When cronbeat runs it
    done = cronbeat(monitor.url, *python_job(f"raise SystemExit({status})"))
    # Then cronbeat exits with it, and the finish ping says it
    assert done.returncode == status
    _, finish = start_and_finish(monitor)
    assert finish.kind == str(status)


def test_a_job_that_kills_itself_exits_128_plus_the_signal(monitor: FakeMonitor) -> None:
    # Given a job that sends itself SIGKILL
    job = python_job("import os, signal; print('bye', flush=True); os.kill(os.getpid(), 9)")
    # When cronbeat runs it
    done = cronbeat(monitor.url, *job)
    # Then cronbeat exits 137, as a shell would, and the body says which signal
    assert done.returncode == 137
    _, finish = start_and_finish(monitor)
    assert finish.kind == "137"
    assert finish.body == b"bye\n[cronbeat: the job was killed by SIGKILL]\n"


def test_a_missing_command_is_127_and_a_fail_ping_with_the_error(monitor: FakeMonitor) -> None:
    # Given a command that does not exist
    # When cronbeat is asked to run it
    done = cronbeat(monitor.url, "--", "no-such-command-cronbeat-test", "--flag")
    # Then it exits 127, says so, and the finish ping carries the error
    assert done.returncode == 127
    assert done.stderr == b"cronbeat: no-such-command-cronbeat-test: command not found\n"
    _, finish = start_and_finish(monitor)
    assert finish.kind == "127"
    assert finish.body == b"[cronbeat: no-such-command-cronbeat-test: command not found]\n"


def test_a_shell_command_line_given_as_one_word_is_pointed_at_sh_c(monitor: FakeMonitor) -> None:
    # Given a command line quoted into one argument, as if cronbeat ran a shell
    done = cronbeat(monitor.url, "--", "echo hi && false")
    # Then it is 127 as any missing command, and the message says how to run it with a shell
    assert done.returncode == 127
    assert done.stderr == (
        b"cronbeat: echo hi && false: command not found"
        b" (for a shell command line: cronbeat run -- sh -c 'echo hi && false')\n"
    )


def test_a_file_that_is_not_executable_is_126(monitor: FakeMonitor, tmp_path: Path) -> None:
    # Given a script without the execute bit
    script = tmp_path / "backup.sh"
    script.write_text("#!/bin/sh\necho never\n")
    script.chmod(0o644)
    # When cronbeat is asked to run it
    done = cronbeat(monitor.url, "--", str(script))
    # Then it exits 126 and the finish ping says why
    assert done.returncode == 126
    _, finish = start_and_finish(monitor)
    assert finish.kind == "126"
    assert finish.body == f"[cronbeat: {script}: permission denied]\n".encode()


def test_the_command_runs_as_given_with_no_shell(monitor: FakeMonitor) -> None:
    # Given arguments a shell would expand, split and run
    tricky = ["$HOME", "*", "a b", "; echo injected"]
    # When cronbeat runs a job that prints the arguments it got
    done = cronbeat(monitor.url, *python_job("import sys; print(sys.argv[1:])", *tricky))
    # Then the job got them verbatim, and nothing else ran
    assert done.returncode == 0
    assert done.stdout == f"{tricky}\n".encode()


# --- output ----------------------------------------------------------------------------------


def test_output_is_teed_as_it_arrives_interleaved_and_stdin_passes_through(
    monitor: FakeMonitor,
) -> None:
    # Given a job that answers its stdin in turn on stdout, stderr, then stdout
    code = (
        "import sys\n"
        "print('one', flush=True)\n"
        "sys.stderr.write('two:' + sys.stdin.readline()); sys.stderr.flush()\n"
        "print('three:' + sys.stdin.readline(), end='', flush=True)\n"
    )
    job = subprocess.Popen(
        run_command(monitor.url, *python_job(code)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
    )
    assert job.stdin is not None
    out, err = Lines(job.stdout), Lines(job.stderr)
    # When the test feeds it a line each time the previous output has come through cronbeat
    assert out.next() == b"one\n"
    job.stdin.write(b"a\n")
    job.stdin.flush()
    assert err.next() == b"two:a\n"
    job.stdin.write(b"b\n")
    job.stdin.close()
    assert out.next() == b"three:b\n"
    # Then the job finished, and the body has all three lines in the order they came
    assert job.wait(DEADLINE_S) == 0
    _, finish = start_and_finish(monitor)
    assert finish.body == b"one\ntwo:a\nthree:b\n"


def test_long_output_is_tee_d_whole_and_sent_as_a_truncated_tail(monitor: FakeMonitor) -> None:
    # Given a job that prints 20,000 bytes of numbered lines
    job = python_job("for n in range(2000): print(f'line {n:04d}')")
    # When cronbeat runs it with a 1,000-byte limit
    done = cronbeat(monitor.url, "--output-limit", "1000", *job)
    # Then the job's own output is untouched, and the body is its tail behind a notice
    assert len(done.stdout) == 20_000
    _, finish = start_and_finish(monitor)
    assert len(finish.body) <= 1000
    notice, _, tail = finish.body.partition(b"\n")
    assert notice == f"[cronbeat: output truncated: the last {len(tail)} of 20,000 bytes]".encode()
    assert done.stdout.endswith(tail)
    assert tail.endswith(b"line 1999\n")


def test_the_servers_body_limit_lowers_the_output_limit() -> None:
    # Given a monitor that stores at most 200 bytes of a body
    with running_monitor(body_limit_bytes=200) as monitor:
        # When a job prints more than that
        cronbeat(monitor.url, *python_job("print('x' * 5000)"))
        # Then the body sent fits the server's limit
        _, finish = start_and_finish(monitor)
    assert 150 < len(finish.body) <= 200
    assert finish.body.startswith(b"[cronbeat: output truncated: ")


def test_no_output_sends_no_body_but_the_job_still_prints(monitor: FakeMonitor) -> None:
    # Given a job that prints a secret
    # When cronbeat runs it with --no-output
    done = cronbeat(monitor.url, "--no-output", *python_job("print('token=hunter2')"))
    # Then the job's stdout is as always, and the finish ping has no body
    assert done.stdout == b"token=hunter2\n"
    _, finish = start_and_finish(monitor)
    assert finish.kind == "0"
    assert finish.body == b""


def test_a_wrapper_started_with_stdout_and_stderr_closed_still_reports(
    monitor: FakeMonitor,
) -> None:
    # Given cron starting cronbeat with its stdout and stderr closed
    wrapper = f"exec {PY} -m cronbeat.cli run --url {monitor.url} --uuid {CHECK} -- sh -c "
    job = "'echo out; echo err >&2; exit 4'"
    # When the job prints to both and fails
    done = subprocess.run(
        ["sh", "-c", f"{wrapper}{job} >&- 2>&-"],
        stdin=subprocess.DEVNULL, env=environment(), timeout=DEADLINE_S,
    )  # fmt: skip
    # Then its status still comes through, and the body has what it printed
    assert done.returncode == 4
    _, finish = start_and_finish(monitor)
    assert finish.kind == "4"
    # (stdout and stderr are separate pipes: which line arrives first is the scheduler's choice)
    assert sorted(finish.body.splitlines()) == [b"err", b"out"]


def test_a_background_process_holding_the_output_does_not_hold_the_report(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given a job that leaves a process behind with its stdout, and exits at once
    job = ["--", "sh", "-c", "sleep 30 & echo $!"]
    out_file = tmp_path / "stdout"
    # When cronbeat runs it (its own stdout a file, so nothing here waits on that pipe)
    with out_file.open("wb") as out:
        status = subprocess.run(
            run_command(monitor.url, *job),
            stdin=subprocess.DEVNULL, stdout=out, env=environment(), timeout=DEADLINE_S,
        ).returncode  # fmt: skip
    os.kill(int(out_file.read_text()), signal.SIGKILL)  # the leftover `sleep` we started
    # Then the report went out after a bounded wait, saying the rest was not captured
    assert status == 0
    _, finish = start_and_finish(monitor)
    assert finish.body.endswith(
        b"[cronbeat: output after exit not captured: a background process kept it open]\n"
    )


# --- timeouts --------------------------------------------------------------------------------


def test_a_hung_job_is_terminated_at_the_timeout_and_reported_as_124(monitor: FakeMonitor) -> None:
    # Given a job that starts a child and hangs
    job = ["--", "sh", "-c", "echo started; sleep 60 & wait"]
    # When cronbeat runs it with a half-second timeout
    began = time.monotonic()
    done = cronbeat(monitor.url, "--timeout", "0.5s", *job)
    # Then it was killed soon, with its child (else the body would say the output stayed open),
    # and exits 124 like coreutils timeout
    assert time.monotonic() - began < DEADLINE_S
    assert done.returncode == 124
    assert done.stderr == b"cronbeat: killed: timed out after 500 ms (SIGTERM)\n"
    _, finish = start_and_finish(monitor)
    assert finish.kind == "124"
    assert finish.body == b"started\n[cronbeat: killed: timed out after 500 ms (SIGTERM)]\n"


def test_a_job_that_ignores_sigterm_gets_sigkill_after_kill_after(monitor: FakeMonitor) -> None:
    # Given a job that ignores SIGTERM
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('stubborn', flush=True)\n"
        "time.sleep(60)\n"
    )
    # When cronbeat runs it with a timeout and a short kill-after
    done = cronbeat(monitor.url, "--timeout", "0.5s", "--kill-after", "0.5s", *python_job(code))
    # Then SIGKILL ended it, the run is 124, and the body says both signals
    assert done.returncode == 124
    _, finish = start_and_finish(monitor)
    assert finish.body == (
        b"stubborn\n"
        b"[cronbeat: killed: timed out after 500 ms (SIGTERM, then SIGKILL 500 ms later)]\n"
    )


# --- signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_to_cronbeat_are_forwarded_to_the_job(
    monitor: FakeMonitor, tmp_path: Path, signum: signal.Signals
) -> None:
    # Given a job that traps the signal, writes a marker and exits 7
    marker = tmp_path / "marker"
    code = (
        "import pathlib, signal, sys\n"
        "def caught(signum, frame):\n"
        "    pathlib.Path(sys.argv[1]).write_text(signal.Signals(signum).name)\n"
        "    raise SystemExit(7)\n"
        f"signal.signal({int(signum)}, caught)\n"
        "print('ready', flush=True)\n"
        "while True: signal.pause()\n"
    )
    wrapper = subprocess.Popen(
        run_command(monitor.url, *python_job(code, str(marker))),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
    )
    assert Lines(wrapper.stdout).next() == b"ready\n"
    # When cronbeat itself gets the signal
    wrapper.send_signal(signum)
    # Then the job's exit status came through cronbeat, which waits for the job: so once
    # cronbeat is gone, the job has caught the signal and written its marker
    assert wrapper.wait(DEADLINE_S) == 7
    assert marker.read_text() == signum.name
    _, finish = start_and_finish(monitor)
    assert finish.kind == "7"


# --- identity --------------------------------------------------------------------------------


def test_slug_pings_with_create_and_a_ping_key_from_a_file(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given the ping key in a file and the check named by its slug
    key_file = tmp_path / "ping-key"
    key_file.write_text("pk-secret\n")
    # When cronbeat runs a job by slug, with --create
    done = subprocess.run(
        [PY, "-m", "cronbeat.cli", "run", "--url", monitor.url, "--slug", "nightly-backup",
         "--ping-key", f"file:{key_file}", "--create", "--", "true"],
        stdin=subprocess.DEVNULL, capture_output=True, env=environment(), timeout=DEADLINE_S,
    )  # fmt: skip
    # Then both pings go to the slug URL, asking to create the check
    assert done.returncode == 0
    start, finish = start_and_finish(monitor)
    assert start.path == "/ping/pk-secret/nightly-backup/start"
    assert finish.path == "/ping/pk-secret/nightly-backup/0"
    assert start.query["create"] == finish.query["create"] == "1"


def test_the_environment_names_the_monitor_and_the_check(monitor: FakeMonitor) -> None:
    # Given only environment variables
    env = environment(CRONBEAT_URL=monitor.url, CRONBEAT_CHECK_UUID=CHECK)
    # When cronbeat runs a job without flags
    done = subprocess.run(
        [PY, "-m", "cronbeat.cli", "run", "--", "false"],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=DEADLINE_S,
    )  # fmt: skip
    # Then the pings went to that check
    assert done.returncode == 1
    _, finish = start_and_finish(monitor)
    assert finish.path == f"/ping/{CHECK}/1"


def test_the_environment_names_a_check_by_slug_with_a_ping_key_from_a_file(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given the URL, the slug and (in a file) the ping key, all in the environment
    key_file = tmp_path / "ping-key"
    key_file.write_text("pk-from-env\n")
    env = environment(
        CRONBEAT_URL=monitor.url,
        CRONBEAT_CHECK_SLUG="db-vacuum",
        CRONBEAT_PING_KEY=f"file:{key_file}",
    )
    # When cronbeat runs a job without identity flags
    done = subprocess.run(
        [PY, "-m", "cronbeat.cli", "run", "--", "true"],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=DEADLINE_S,
    )  # fmt: skip
    # Then both pings went to the slug URL, keyed by the file's ping key
    assert done.returncode == 0, done.stderr
    start, finish = start_and_finish(monitor)
    assert start.path == "/ping/pk-from-env/db-vacuum/start"
    assert finish.path == "/ping/pk-from-env/db-vacuum/0"


def test_no_start_ping_sends_one_finish_without_a_rid(monitor: FakeMonitor) -> None:
    # Given --no-start-ping
    # When cronbeat runs a job
    done = cronbeat(monitor.url, "--no-start-ping", "--", "true")
    # Then only a finish went out, with no rid for the server to look for
    assert done.returncode == 0
    (finish,) = monitor.wait_for_pings(1)
    assert finish.path == f"/ping/{CHECK}/0"
    assert finish.query == {}
    assert len(monitor.pings) == 1


# --- a monitor in trouble --------------------------------------------------------------------


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ping_module, "BACKOFF_BASE_S", 0.001)


@pytest.mark.usefixtures("quick_backoff")
def test_a_finish_ping_is_retried_after_a_503(
    monitor: FakeMonitor, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a monitor that accepts the start, then answers the finish once with 503
    monitor.script(200, 503, 200)
    # When cronbeat runs a job
    status = main(["run", "--url", monitor.url, "--uuid", CHECK, "--", PY, "-c", "print('ok')"])
    # Then the finish went out again, the same, and nobody was warned
    assert status == 0
    start, failed, retried = monitor.wait_for_pings(3)
    assert failed.kind == retried.kind == "0"
    assert failed.query == retried.query == {"rid": start.query["rid"]}
    assert failed.body == retried.body == b"ok\n"
    assert "warning" not in capfd.readouterr().err


@pytest.mark.usefixtures("quick_backoff")
def test_a_monitor_down_for_the_whole_run_costs_one_warning_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a monitor URL where nothing listens, and a job that leaves a marker and exits 3
    marker = tmp_path / "ran"
    url = unused_url()
    code = f"open({str(marker)!r}, 'w').write('yes'); print('working'); raise SystemExit(3)"
    # When cronbeat runs the job
    status = main(["run", "--url", url, "--uuid", CHECK, "--", PY, "-c", code])
    # Then the job ran, its status came through, and stderr has one warning line
    assert marker.read_text() == "yes"
    assert status == 3
    captured = capfd.readouterr()
    assert captured.out == "working\n"
    assert captured.err == (
        f"cronbeat: warning: start and finish pings not recorded by {url}: connection refused\n"
    )


@pytest.mark.usefixtures("quick_backoff")
def test_a_monitor_that_never_answers_costs_each_try_its_ping_timeout(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Given a monitor that accepts connections and never answers
    with silent_monitor() as hung:
        # When cronbeat runs a failing job with a 0.2 s ping timeout and one retry
        began = time.monotonic()
        status = main(
            ["run", "--url", hung.url, "--uuid", CHECK, "--ping-timeout", "0.2s",
             "--retries", "1", "--", PY, "-c", "raise SystemExit(3)"]
        )  # fmt: skip
        took_s = time.monotonic() - began
        tries = hung.wait_for_connections(4)
    # Then the job's status came through, each ping was tried twice, and stderr has one warning
    assert status == 3
    assert tries == 4
    assert capfd.readouterr().err == (
        f"cronbeat: warning: start and finish pings not recorded by {hung.url}: "
        "no answer within 0.2 s\n"
    )
    # And the wait was the short timeout's, far below the default 5 s per try
    assert took_s < 10


def test_pings_retry_only_what_may_pass_next_time(monitor: FakeMonitor) -> None:
    # Given a pinger that records its backoff instead of sleeping
    delays: list[float] = []
    pinger = Pinger(retries=3, backoff_base_s=1.0, sleep=delays.append, jitter=lambda: 1.0)
    # When the monitor answers 408, 429 and 503 before a 200
    monitor.script(408, 429, 503)
    reply = pinger.send(f"{monitor.url}/ping/{CHECK}")
    # Then the fourth try got through, after doubling backoffs
    assert reply.status == 200
    assert delays == [1.0, 2.0, 4.0]
    # And a 404 is not retried: it will not pass next time
    monitor.script(404)
    with pytest.raises(PingFailed, match=r"^no such check \(HTTP 404\): check the --uuid"):
        pinger.send(f"{monitor.url}/ping/{CHECK}")
    assert len(monitor.pings) == 5
    assert delays == [1.0, 2.0, 4.0]


def test_backoff_is_exponential_with_equal_jitter() -> None:
    # Given the lowest and the highest jitter
    low = Pinger(backoff_base_s=1.0, jitter=lambda: 0.0)
    high = Pinger(backoff_base_s=1.0, jitter=lambda: 1.0)
    # Then each retry waits between half and all of base * 2^attempt
    assert [low.backoff_s(n) for n in range(3)] == [0.5, 1.0, 2.0]
    assert [high.backoff_s(n) for n in range(3)] == [1.0, 2.0, 4.0]


# --- standard library only -------------------------------------------------------------------


def test_the_wrapper_runs_with_the_server_libraries_unimportable(monitor: FakeMonitor) -> None:
    # Given an interpreter where boto3, pydantic and powertools cannot be imported
    blocked = ("boto3", "botocore", "pydantic", "aws_lambda_powertools", "cronsim")
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from cronbeat.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    # When it runs a job through the CLI
    done = subprocess.run(
        [PY, "-c", code, "run", "--url", monitor.url, "--uuid", CHECK, "--", PY, "-c", "print(42)"],
        stdin=subprocess.DEVNULL, capture_output=True, env=environment(), timeout=DEADLINE_S,
    )  # fmt: skip
    # Then the job ran and both pings arrived
    assert done.returncode == 0, done.stderr
    _, finish = start_and_finish(monitor)
    assert finish.body == b"42\n"
