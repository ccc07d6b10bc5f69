"""`cronbeat run --retries-job`: a failing job runs again inside one run, and only the last
attempt pings success or failure, against a monitor on 127.0.0.1.

The backoff is injected (recorded, never slept) in-process; one test sends a real SIGTERM to a
real cronbeat waiting out a real backoff.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbeat.cli.ping import Pinger, PingTarget
from cronbeat.cli.wrap import Wrapping, wrap
from tests.integration.fake_monitor import FakeMonitor, RecordedPing, running_monitor
from tests.integration.test_cli_run import (
    CHECK,
    DEADLINE_S,
    PY,
    Lines,
    cronbeat,
    environment,
    python_job,
    run_command,
)

# Appends a line to the file argv[1], prints which attempt this is, and exits with the status
# listed for that attempt in argv[2:] (the last one for any later attempt).
JOB = (
    "import sys\n"
    "runs = open(sys.argv[1], 'a+'); runs.write('ran\\n'); runs.seek(0)\n"
    "n = len(runs.readlines())\n"
    "statuses = [int(s) for s in sys.argv[2:]]\n"
    "print(f'attempt {n} output', flush=True)\n"
    "raise SystemExit(statuses[min(n, len(statuses)) - 1])\n"
)


@pytest.fixture
def monitor() -> Iterator[FakeMonitor]:
    with running_monitor() as serving:
        yield serving


class Retried:
    """One in-process `cronbeat run` with retries, its backoff recorded instead of slept."""

    def __init__(self, monitor: FakeMonitor, tmp_path: Path) -> None:
        self.monitor = monitor
        self.runs_file = tmp_path / "runs"
        self.delays: list[float] = []
        self.stderr = io.BytesIO()

    def run(self, *statuses: int, retries: int, **settings: object) -> int:
        wrapping = Wrapping(
            target=PingTarget.for_uuid(self.monitor.url, CHECK),
            command=[PY, "-c", JOB, str(self.runs_file), *map(str, statuses)],
            pinger=Pinger(retries=0),
            job_retries=retries,
            jitter=lambda: 1.0,
            sleep=self.delays.append,
            **settings,  # type: ignore[arg-type]
        )
        return wrap(wrapping, stdout=io.BytesIO(), stderr=self.stderr)

    @property
    def attempts_run(self) -> int:
        return len(self.runs_file.read_text().splitlines())

    def pings(self) -> tuple[RecordedPing, RecordedPing]:
        start, finish = self.monitor.wait_for_pings(2)
        assert len(self.monitor.pings) == 2, self.monitor.pings
        return start, finish


@pytest.fixture
def retried(monitor: FakeMonitor, tmp_path: Path) -> Retried:
    return Retried(monitor, tmp_path)


def test_a_job_failing_every_attempt_pings_one_failure_with_the_last_status(
    retried: Retried,
) -> None:
    # Given a job that fails with 3, then 4, then 5
    # When cronbeat runs it with two retries and a 10 s delay
    status = retried.run(3, 4, 5, retries=2, retry_delay_s=10.0)
    # Then it ran three times, waiting 10 s then 20 s, and exits with the last status
    assert retried.attempts_run == 3
    assert retried.delays == [10.0, 20.0]
    assert status == 5
    # And the monitor got one start and one failure, of the same run, with no success
    start, finish = retried.pings()
    assert start.kind == "start"
    assert finish.kind == "5"
    assert finish.query == {"rid": start.query["rid"], "attempt": "3", "attempts": "3"}
    # And the body says so first, then lists every attempt with its output
    lines = finish.body.decode().splitlines()
    assert lines[0] == "[cronbeat: failed on all 3 attempts]"
    assert lines[1].startswith("[cronbeat: attempt 1 of 3: exit status 3 after ")
    assert lines[2] == "attempt 1 output"
    assert lines[3].startswith("[cronbeat: attempt 2 of 3: exit status 4 after ")
    assert lines[5].startswith("[cronbeat: attempt 3 of 3: exit status 5 after ")
    assert lines[6:] == ["attempt 3 output"]
    # And stderr told cron's mail about each retry
    assert retried.stderr.getvalue().decode().splitlines() == [
        "cronbeat: attempt 1 of 3 failed (exit status 3); retrying in 10.0 s",
        "cronbeat: attempt 2 of 3 failed (exit status 4); retrying in 20.0 s",
    ]


def test_a_job_that_heals_on_the_second_attempt_pings_one_success(retried: Retried) -> None:
    # Given a job that fails once, then succeeds
    # When cronbeat runs it with two retries
    status = retried.run(1, 0, retries=2)
    # Then it stopped after the second attempt, which decides the exit status
    assert retried.attempts_run == 2
    assert status == 0
    # And the monitor got a success, no failure, saying it was attempt 2 of 3
    start, finish = retried.pings()
    assert finish.kind == "0"
    assert finish.query == {"rid": start.query["rid"], "attempt": "2", "attempts": "3"}
    lines = finish.body.decode().splitlines()
    assert lines[0] == "[cronbeat: succeeded on attempt 2 of 3]"
    assert "attempt 1 output" in lines
    assert lines[-2].startswith("[cronbeat: attempt 2 of 3: exit status 0 after ")
    assert lines[-1] == "attempt 2 output"


def test_a_job_that_succeeds_at_once_is_not_retried(retried: Retried) -> None:
    # Given a job that succeeds / When cronbeat runs it with three retries
    status = retried.run(0, retries=3)
    # Then it ran once, and the finish says attempt 1 of 4
    assert (status, retried.attempts_run, retried.delays) == (0, 1, [])
    _, finish = retried.pings()
    assert (finish.query["attempt"], finish.query["attempts"]) == ("1", "4")
    assert finish.body.startswith(b"[cronbeat: succeeded on attempt 1 of 4]\n")


def test_backoff_doubles_from_the_delay_with_equal_jitter(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given the lowest jitter / When a job fails four times in a row with a 2 s delay
    retried = Retried(monitor, tmp_path)
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=[PY, "-c", JOB, str(retried.runs_file), "1"],
        pinger=Pinger(retries=0),
        job_retries=3,
        retry_delay_s=2.0,
        jitter=lambda: 0.0,
        sleep=retried.delays.append,
    )
    status = wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO())
    # Then each wait is half of 2 s, 4 s, 8 s: the floor of the jitter
    assert status == 1
    assert retried.delays == [1.0, 2.0, 4.0]


def test_a_command_that_cannot_start_is_not_retried(monitor: FakeMonitor) -> None:
    # Given a command that does not exist
    delays: list[float] = []
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=["no-such-command-cronbeat-test"],
        job_retries=3,
        sleep=delays.append,
    )
    # When cronbeat runs it with retries
    status = wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO())
    # Then it is 127 at once: another try would find no command either
    assert (status, delays) == (127, [])
    _, finish = monitor.wait_for_pings(2)
    assert finish.kind == "127"
    assert (finish.query["attempt"], finish.query["attempts"]) == ("1", "4")
    assert finish.body.startswith(
        b"[cronbeat: failed on attempt 1 of 4: the command could not start, so no retry]\n"
    )


def test_a_signal_during_the_backoff_stops_the_retries_and_still_reports(
    retried: Retried,
) -> None:
    # Given a backoff during which cronbeat gets SIGTERM
    def sigterm_while_waiting(delay_s: float) -> None:
        retried.delays.append(delay_s)
        os.kill(os.getpid(), signal.SIGTERM)

    wrapping = Wrapping(
        target=PingTarget.for_uuid(retried.monitor.url, CHECK),
        command=[PY, "-c", JOB, str(retried.runs_file), "6"],
        pinger=Pinger(retries=0),
        job_retries=3,
        sleep=sigterm_while_waiting,
    )
    # When a job that fails runs with three retries
    status = wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO())
    # Then no second attempt ran, cronbeat lived to send the failure, with the first's status
    assert retried.attempts_run == 1
    assert len(retried.delays) == 1
    assert status == 6
    _, finish = retried.pings()
    assert finish.kind == "6"
    assert (finish.query["attempt"], finish.query["attempts"]) == ("1", "4")
    assert finish.body.startswith(b"[cronbeat: failed on attempt 1 of 4: SIGTERM stopped")
    # And SIGTERM's own handler is back once the run is over
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_sigterm_to_a_real_cronbeat_in_its_backoff_ends_it_with_a_report(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given a cronbeat process whose job failed and that waits 30 s to 60 s before a retry
    runs_file = tmp_path / "runs"
    wrapper = subprocess.Popen(
        run_command(
            monitor.url, "--retries-job", "3", "--retry-delay", "60s",
            *python_job(JOB, str(runs_file), "2"),
        ),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=environment(),
    )  # fmt: skip
    assert (
        Lines(wrapper.stderr)
        .next()
        .startswith(b"cronbeat: attempt 1 of 4 failed (exit status 2); retrying in ")
    )
    # When it gets SIGTERM in that wait
    wrapper.send_signal(signal.SIGTERM)
    # Then it ends at once (well before the backoff would), with the job's status and a report
    assert wrapper.wait(DEADLINE_S) == 2
    assert runs_file.read_text() == "ran\n"
    _, finish = monitor.wait_for_pings(2)
    assert finish.kind == "2"
    assert finish.body.startswith(b"[cronbeat: failed on attempt 1 of 4: SIGTERM stopped")


def test_sigterm_while_the_job_runs_goes_to_it_and_ends_the_retries(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given a cronbeat with retries whose job waits to be told to stop
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(9))\n"
        "print('ready', flush=True)\n"
        "while True: signal.pause()\n"
    )
    wrapper = subprocess.Popen(
        run_command(monitor.url, "--retries-job", "3", "--retry-delay", "0.01s", *python_job(code)),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=environment(),
    )  # fmt: skip
    assert Lines(wrapper.stdout).next() == b"ready\n"
    # When cronbeat gets SIGTERM while the job runs
    wrapper.send_signal(signal.SIGTERM)
    # Then the job got it and failed, and no retry ran it again
    assert wrapper.wait(DEADLINE_S) == 9
    _, finish = monitor.wait_for_pings(2)
    assert finish.kind == "9"
    assert finish.query["attempt"] == "1"
    assert len(monitor.pings) == 2


def test_every_attempt_fits_the_body_limit_and_keeps_its_heading(
    monitor: FakeMonitor, tmp_path: Path
) -> None:
    # Given a job that prints 50,000 bytes and fails, with a 2,000-byte body limit
    delays: list[float] = []
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=[PY, "-c", "print('x' * 50_000); print('the end'); raise SystemExit(1)"],
        pinger=Pinger(retries=0),
        output_limit_bytes=2000,
        job_retries=3,
        sleep=delays.append,
    )
    # When all four attempts fail
    wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO())
    # Then the body fits, names each attempt, and keeps the end of each attempt's output
    _, finish = monitor.wait_for_pings(2)
    assert len(finish.body) <= 2000
    assert finish.body.startswith(b"[cronbeat: failed on all 4 attempts]\n")
    for n in range(1, 5):
        assert f"[cronbeat: attempt {n} of 4: exit status 1 after ".encode() in finish.body
    assert finish.body.count(b"x\nthe end\n") == 4


def test_without_retries_the_finish_carries_no_attempts(monitor: FakeMonitor) -> None:
    # Given a plain cronbeat run / When a job fails
    done = cronbeat(monitor.url, *python_job("raise SystemExit(1)"))
    # Then the finish is as before: no attempt figures, no outcome line
    assert done.returncode == 1
    start, finish = monitor.wait_for_pings(2)
    assert finish.query == {"rid": start.query["rid"]}
    assert finish.body == b""


def test_with_no_output_the_attempts_are_listed_without_a_byte_of_output(
    monitor: FakeMonitor,
) -> None:
    # Given a job that prints a secret and fails
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=[PY, "-c", "print('token=hunter2'); raise SystemExit(1)"],
        pinger=Pinger(retries=0),
        send_output=False,
        job_retries=1,
        sleep=lambda _: None,
    )
    # When cronbeat runs it with a retry and --no-output
    assert wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO()) == 1
    # Then the body has the outcome and each attempt's heading, and no output at all
    _, finish = monitor.wait_for_pings(2)
    lines = finish.body.decode().splitlines()
    assert lines[0] == "[cronbeat: failed on all 2 attempts]"
    assert [line.split(" after ")[0] for line in lines[1:]] == [
        "[cronbeat: attempt 1 of 2: exit status 1",
        "[cronbeat: attempt 2 of 2: exit status 1",
    ]
    assert b"hunter2" not in finish.body


def test_a_tiny_server_body_limit_still_holds_the_outcome_first() -> None:
    # Given a monitor that stores at most 120 bytes of a body
    with running_monitor(body_limit_bytes=120) as monitor:
        wrapping = Wrapping(
            target=PingTarget.for_uuid(monitor.url, CHECK),
            command=[PY, "-c", "print('y' * 5000); raise SystemExit(1)"],
            pinger=Pinger(retries=0),
            job_retries=3,
            sleep=lambda _: None,
        )
        # When all four attempts fail
        wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO())
        _, finish = monitor.wait_for_pings(2)
    # Then the body fits the limit, and what is kept starts with the outcome
    assert len(finish.body) <= 120
    assert finish.body.startswith(b"[cronbeat: failed on all 4 attempts]\n")


def test_each_attempt_gets_the_whole_timeout(monitor: FakeMonitor) -> None:
    # Given a job that hangs
    # When cronbeat runs it with a half-second timeout and one retry
    done = cronbeat(
        monitor.url, "--timeout", "0.5s", "--retries-job", "1", "--retry-delay", "0.01s",
        "--", "sh", "-c", "echo working; sleep 30",
    )  # fmt: skip
    # Then both attempts were killed at the timeout, and the run is 124
    assert done.returncode == 124
    _, finish = monitor.wait_for_pings(2)
    assert finish.kind == "124"
    body = finish.body.decode()
    assert body.count("[cronbeat: killed: timed out after 500 ms (SIGTERM)]") == 2
    assert "[cronbeat: attempt 1 of 2: exit status 124 after " in body
    assert "[cronbeat: attempt 2 of 2: exit status 124 after " in body
