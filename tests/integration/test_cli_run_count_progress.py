"""`cronbeat run` reporting what the job says it did (`CRONBEAT_COUNT`, `--count-from`) and its
progress (`--stuck-after`), against a monitor on 127.0.0.1."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbeat.cli.ping import Pinger, PingTarget
from cronbeat.cli.wrap import Wrapping, wrap
from tests.integration.fake_monitor import FakeMonitor, running_monitor, silent_monitor
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


@pytest.fixture
def monitor() -> Iterator[FakeMonitor]:
    with running_monitor() as serving:
        yield serving


# --- count -----------------------------------------------------------------------------------


def test_a_count_line_in_the_middle_of_huge_output_goes_with_the_finish(
    monitor: FakeMonitor,
) -> None:
    # Given a job that prints 6 MB, with its count on stderr half-way
    code = (
        "import sys\n"
        "block = ''.join(f'row {n:06d} exported\\n' for n in range(150_000))\n"
        "sys.stdout.write(block); sys.stdout.flush()\n"
        "sys.stderr.write('CRONBEAT_COUNT=1234\\n'); sys.stderr.flush()\n"
        "sys.stdout.write(block)\n"
    )
    # When cronbeat runs it
    done = cronbeat(monitor.url, *python_job(code))
    # Then the output came through whole, and the finish carries the count
    assert done.returncode == 0
    assert len(done.stdout) == 2 * 150_000 * 20
    start, finish = monitor.wait_for_pings(2)
    assert finish.query == {"rid": start.query["rid"], "count": "1234"}
    assert finish.body.endswith(b"row 149999 exported\n")


def test_a_malformed_count_is_left_out_with_a_note_and_the_run_is_unharmed(
    monitor: FakeMonitor,
) -> None:
    # Given a job that prints a count that is no number
    done = cronbeat(monitor.url, *python_job("print('CRONBEAT_COUNT=12abc')"))
    # Then the job succeeds as ever, the finish has no count, and the body says why
    assert done.returncode == 0
    assert done.stderr == b""
    _, finish = monitor.wait_for_pings(2)
    assert "count" not in finish.query
    assert finish.body == (
        b"CRONBEAT_COUNT=12abc\n"
        b"[cronbeat: CRONBEAT_COUNT ignored: not a whole number of 0 or more: '12abc']\n"
    )


def test_a_count_of_zero_is_sent(monitor: FakeMonitor) -> None:
    # Given a job that did nothing, and says so / Then the finish carries count=0
    cronbeat(monitor.url, *python_job("print('nothing to export'); print('CRONBEAT_COUNT=0')"))
    _, finish = monitor.wait_for_pings(2)
    assert finish.query["count"] == "0"


def test_count_from_reads_the_file_the_job_wrote(monitor: FakeMonitor, tmp_path: Path) -> None:
    # Given a job that writes its count to a file, and prints another count line
    count_file = tmp_path / "count"
    code = "import sys; open(sys.argv[1], 'w').write('88\\n'); print('CRONBEAT_COUNT=1')"
    # When cronbeat runs it with --count-from
    cronbeat(monitor.url, "--count-from", str(count_file), *python_job(code, str(count_file)))
    # Then the file's count is the one sent
    _, finish = monitor.wait_for_pings(2)
    assert finish.query["count"] == "88"


def test_a_missing_count_file_is_a_note_not_a_failure(monitor: FakeMonitor, tmp_path: Path) -> None:
    # Given a job that writes no count file
    missing = tmp_path / "count"
    # When cronbeat runs it with --count-from
    done = cronbeat(monitor.url, "--count-from", str(missing), "--", "true")
    # Then the run is a success with no count, and the body says why
    assert done.returncode == 0
    _, finish = monitor.wait_for_pings(2)
    assert finish.kind == "0"
    assert "count" not in finish.query
    assert (
        finish.body
        == (
            f"[cronbeat: --count-from ignored: cannot read {missing}: No such file or directory]\n"
        ).encode()
    )


def test_only_the_last_attempts_count_is_sent(monitor: FakeMonitor, tmp_path: Path) -> None:
    # Given a job that counts 5 and fails, then prints no count and succeeds
    runs = tmp_path / "runs"
    code = (
        "import os, sys\n"
        "if os.path.exists(sys.argv[1]): raise SystemExit(0)\n"
        "open(sys.argv[1], 'w').close(); print('CRONBEAT_COUNT=5'); raise SystemExit(1)\n"
    )
    # When cronbeat runs it with a retry
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=[PY, "-c", code, str(runs)],
        job_retries=1,
        sleep=lambda _: None,
    )
    assert wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO()) == 0
    # Then the failed attempt's count is not the run's
    _, finish = monitor.wait_for_pings(2)
    assert "count" not in finish.query
    assert finish.query["attempt"] == "2"


# --- progress --------------------------------------------------------------------------------


def test_output_sends_one_progress_ping_of_the_run_then_waits_a_minute(
    monitor: FakeMonitor,
) -> None:
    # Given a job that prints 200 lines over about a second
    code = "import time\nfor n in range(200):\n    print(n, flush=True); time.sleep(0.005)\n"
    # When cronbeat runs it with --stuck-after
    done = cronbeat(monitor.url, "--stuck-after", "30m", *python_job(code))
    # Then one progress ping went out, on the run's rid, between its start and its finish
    assert done.returncode == 0
    start, progress, finish = monitor.wait_for_pings(3)
    assert (start.kind, progress.kind, finish.kind) == ("start", "progress", "0")
    assert (progress.method, progress.query) == ("GET", {"rid": start.query["rid"]})
    assert finish.query == {"rid": start.query["rid"]}
    assert len(monitor.pings) == 3


def test_a_job_printing_for_a_long_time_sends_bounded_progress_pings(
    monitor: FakeMonitor,
) -> None:
    # Given a clock on which every reading is a second later
    readings: list[float] = []

    def clock() -> float:
        readings.append(float(len(readings)))
        return readings[-1]

    # When cronbeat runs a job that prints 20,000 lines, one write each
    code = "for n in range(20_000): print(f'step {n}', flush=True)"
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=[PY, "-c", code],
        stuck_after_s=1800.0,
        clock=clock,
    )
    out = io.BytesIO()
    assert wrap(wrapping, stdout=out, stderr=io.BytesIO()) == 0
    # Then the output came through whole, and there was at most one progress ping per
    # minute of that clock, however many reads the output took
    assert out.getvalue().count(b"\n") == 20_000
    progress = [ping for ping in monitor.pings if ping.kind == "progress"]
    minutes = readings[-1] / 60
    assert 1 <= len(progress) <= minutes + 1
    assert len(readings) > 10 * len(progress)


def test_failing_progress_pings_leave_the_job_alone_and_are_noted(monitor: FakeMonitor) -> None:
    # Given a monitor that takes the start, then fails the progress ping
    monitor.script(200, 500)
    # When a job prints, then waits until that progress ping has been answered
    job = subprocess.Popen(
        run_command(
            monitor.url, "--stuck-after", "10m", "--retries", "0",
            *python_job("print('working', flush=True); input(); print('done')"),
        ),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=environment(),
    )  # fmt: skip
    monitor.wait_for_pings(2)
    out, err = job.communicate(b"\n", timeout=DEADLINE_S)
    # Then the job's output and status are untouched, and the finish body notes the loss
    assert job.returncode == 0
    assert (out, err) == (b"working\ndone\n", b"")
    _, progress, finish = monitor.wait_for_pings(3)
    assert progress.kind == "progress"
    assert finish.body == (
        b"working\ndone\n[cronbeat: 1 of 1 progress pings not recorded: HTTP 500]\n"
    )


def test_a_monitor_that_never_answers_does_not_hold_up_the_jobs_output() -> None:
    # Given a monitor that accepts connections and never answers
    with silent_monitor() as hung:
        # When a job prints, then waits for its next line on stdin, under --stuck-after
        job = subprocess.Popen(
            [PY, "-m", "cronbeat.cli", "run", "--url", hung.url, "--uuid", CHECK,
             "--stuck-after", "10m", "--retries", "0", "--ping-timeout", "0.5s",
             *python_job("print('first', flush=True); print(input(), flush=True)")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=environment(),
        )  # fmt: skip
        assert job.stdin is not None
        out = Lines(job.stdout)
        # Then its output comes through while the pings hang, and it ends with its own status
        assert out.next() == b"first\n"
        job.stdin.write(b"second\n")
        job.stdin.close()
        assert out.next() == b"second\n"
        assert job.wait(DEADLINE_S) == 0


def test_without_stuck_after_no_progress_ping_is_sent(monitor: FakeMonitor) -> None:
    # Given a job that prints / When cronbeat runs it without --stuck-after
    cronbeat(monitor.url, *python_job("print('a', flush=True); print('b')"))
    # Then only the start and the finish went out
    assert [ping.kind for ping in monitor.wait_for_pings(2)] == ["start", "0"]
    assert len(monitor.pings) == 2


def test_a_new_attempt_counts_as_progress(monitor: FakeMonitor, tmp_path: Path) -> None:
    # Given a job that prints nothing and fails, on a clock where each reading is 2 min later
    readings: list[float] = []

    def clock() -> float:
        readings.append(120.0 * len(readings))
        return readings[-1]

    progressed: list[float] = []
    wrapping = Wrapping(
        target=PingTarget.for_uuid(monitor.url, CHECK),
        command=["false"],
        pinger=Pinger(retries=0),
        stuck_after_s=600.0,
        job_retries=2,
        clock=clock,
        sleep=progressed.append,
    )
    # When cronbeat runs it with two retries
    assert wrap(wrapping, stdout=io.BytesIO(), stderr=io.BytesIO()) == 1
    # Then each retry's start told the monitor the run was alive (the last one may still have
    # been in flight when the finish went)
    kinds = [ping.kind for ping in monitor.pings]
    assert kinds[0] == "start"
    assert kinds[-1] == "1"
    assert 1 <= kinds.count("progress") <= 2
