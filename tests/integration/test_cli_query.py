"""`cronbeat ls`, `history`, `stats` and `last-failure` against a seeded management API.

The seeded backup ran daily at 02:00 UTC from 1 to 10 March 2026 (two failures; on the 10th a
retry healed it), once long before, and has a run still open on 11 March. Times print in the
reader's zone: here CET.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cronbeat.cli.main import main
from tests.integration.fake_monitor import FakeMonitor, running_monitor, unused_url

BACKUP = "7d0f6b1e-3c4a-4f57-9a0e-2b7f5f0c9d11"
VACUUM = "a2b3c4d5-e6f7-4a8b-9c0d-1e2f3a4b5c6d"
API_KEY = "rw-key"
CET = "CET-1CEST,M3.5.0,M10.5.0/3"  # a POSIX rule: needs no tz database

# (day of March 2026, duration in seconds, exit status) of the backup's runs at 02:00 UTC
BACKUP_RUNS = [
    (1, 50, 0), (2, 55, 0), (3, 60, 0), (4, 90, 1), (5, 62, 0),
    (6, 64, 0), (7, 66, 0), (8, 70, 0), (9, 300, 124), (10, 75, 0),
]  # fmt: skip
BODIES = {
    4: b"pg_dump: error: connection to server failed\n",
    9: b"dumping table events...\n[cronbeat: killed: timed out after 5 min (SIGTERM)]\n",
}
# What the finish pings of `cronbeat run` added: the job's count, and the attempt it ended on
FINISH_FIGURES: dict[int, dict[str, int]] = {
    8: {"count": 1187},
    10: {"count": 1204, "attempt": 2, "attempts": 3},
}

# What people see, here and in the README's "Wrap a job" section.
HISTORY_LAST_4 = (
    "STARTED                     FINISHED                    KIND     EXIT  DURATION    ATTEMPT  COUNT\n"  # noqa: E501
    "2026-03-11 03:00:00 +01:00  -                           started  -     -           -        -\n"  # noqa: E501
    "2026-03-10 03:00:00 +01:00  2026-03-10 03:01:15 +01:00  success  0     1 min 15 s  2/3      1204\n"  # noqa: E501
    "2026-03-09 03:00:00 +01:00  2026-03-09 03:05:00 +01:00  fail     124   5 min       -        -\n"  # noqa: E501
    "2026-03-08 03:00:00 +01:00  2026-03-08 03:01:10 +01:00  success  0     1 min 10 s  -        1187\n"  # noqa: E501
)
STATS_SINCE_MARCH = (
    "check         Nightly backup\n"
    "since         2026-03-01 00:00:00 +01:00\n"
    "runs          10\n"
    "succeeded     8\n"
    "failed        2\n"
    "unfinished    1\n"
    "retried       1 (1 healed)\n"
    "success rate  80.0%\n"
    "duration p50  1 min 4 s\n"
    "duration p95  5 min\n"
    "duration max  5 min\n"
    "last failure  2026-03-09 03:05:00 +01:00, exit status 124\n"
)
LAST_FAILURE = (
    "Nightly backup: failed at 2026-03-09 03:05:00 +01:00, exit status 124 after 5 min\n"
    "dumping table events...\n"
    "[cronbeat: killed: timed out after 5 min (SIGTERM)]\n"
)
README = Path(__file__).resolve().parents[2] / "README.md"


def iso(instant: datetime) -> str:
    return instant.isoformat()


class PingLog:
    """Pings numbered as a monitor numbers them; `newest_first()` is what the API serves."""

    def __init__(self, check: str) -> None:
        self.check = check
        self.pings: list[dict[str, Any]] = []
        self.bodies: dict[tuple[str, int], bytes] = {}

    def add(self, kind: str, at: datetime, **extra: Any) -> int:
        n = len(self.pings) + 1
        body = extra.pop("body", None)
        if body is not None:
            self.bodies[(self.check, n)] = body
            extra["body_url"] = f"http://monitor/api/v3/checks/{self.check}/pings/{n}/body"
        ping = {"type": kind, "date": iso(at), "n": n, "scheme": "http", "remote_addr": "10.0.0.5"}
        self.pings.append({**ping, "method": "POST", "ua": "cronbeat/0.1.0", "rid": None, **extra})
        return n

    def run(self, started: datetime, duration_s: float, exit_status: int, **extra: Any) -> None:
        rid = f"rid-{len(self.pings)}"
        self.add("start", started, rid=rid)
        kind = "success" if exit_status == 0 else "fail"
        finished = started + timedelta(seconds=duration_s)
        self.add(kind, finished, rid=rid, duration=duration_s, exit_status=exit_status, **extra)

    def newest_first(self) -> list[dict[str, Any]]:
        return self.pings[::-1]


def seeded(key_field: str = "uuid") -> dict[str, Any]:
    """The seed of a FakeMonitor; with a read-only key, checks show `unique_key` instead."""
    backup_key = BACKUP if key_field == "uuid" else "ro-" + BACKUP[:8]
    vacuum_key = VACUUM if key_field == "uuid" else "ro-" + VACUUM[:8]
    backup = PingLog(backup_key)
    backup.run(datetime(2026, 2, 20, 2, tzinfo=UTC), 1000, 0)
    for day, duration_s, exit_status in BACKUP_RUNS:
        body = BODIES.get(day, b"backup done\n")
        figures = FINISH_FIGURES.get(day, {})
        started = datetime(2026, 3, day, 2, tzinfo=UTC)
        backup.run(started, duration_s, exit_status, body=body, **figures)
        if day == 5:
            backup.add("log", datetime(2026, 3, 5, 12, tzinfo=UTC), body=b"disk 81% full\n")
    backup.add("start", datetime(2026, 3, 11, 2, tzinfo=UTC), rid="still-running")
    vacuum = PingLog(vacuum_key)
    vacuum.add("start", datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    vacuum.add("success", datetime(2026, 3, 9, 3, 30, 12, tzinfo=UTC), duration=12.0)
    vacuum.add("success", datetime(2026, 3, 10, 3, 30, tzinfo=UTC))
    checks = [
        {
            "name": "Nightly backup",
            "slug": "nightly-backup",
            "tags": "prod db",
            "status": "up",
            "started": True,
            "last_ping": "2026-03-11T02:00:00+00:00",
            "next_ping": "2026-03-12T02:00:00+00:00",
            "last_duration": 75,
            key_field: backup_key,
        },
        {
            "name": "DB vacuum",
            "slug": "db-vacuum",
            "tags": "",
            "status": "up",
            "started": False,
            "last_ping": "2026-03-10T03:30:00+00:00",
            "next_ping": "2026-03-11T03:30:00+00:00",
            # cronbeat's milliseconds, which Healthchecks.io's whole seconds would show as 2 s
            "last_duration": 2,
            "last_duration_ms": 2_998,
            key_field: vacuum_key,
        },
    ]
    return {
        "api_key": API_KEY,
        "checks": checks,
        "pings_by_check": {backup_key: backup.newest_first(), vacuum_key: vacuum.newest_first()},
        "bodies": {**backup.bodies, **vacuum.bodies},
    }


@pytest.fixture(autouse=True)
def _central_european_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("CRONBEAT_URL", "CRONBEAT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", CET)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def monitor() -> Iterator[FakeMonitor]:
    with running_monitor(**seeded()) as serving:
        yield serving


def cronbeat(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str], *arguments: str
) -> tuple[int, str, str]:
    status = main([*arguments, "--url", monitor.url, "--api-key", API_KEY])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- for people ------------------------------------------------------------------------------


def test_history_lists_the_last_runs_newest_first(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the seeded backup / When its last four runs are asked for by name
    status, out, err = cronbeat(monitor, capsys, "history", "Nightly backup", "-n", "4")
    # Then they come newest first, in local time, the open run included
    assert (status, err) == (0, "")
    assert out == HISTORY_LAST_4


def test_a_log_without_attempts_or_counts_gets_no_such_columns(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the vacuum, whose pings (as any Healthchecks.io log) have no attempt or count
    # When its history is asked for
    status, out, _ = cronbeat(monitor, capsys, "history", "DB vacuum")
    # Then the table has the plain columns only
    assert status == 0
    assert (
        out.splitlines()[0]
        == "STARTED                     FINISHED                    KIND     EXIT  DURATION"
    )


def test_stats_give_rate_counts_percentiles_and_the_last_failure(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the seeded backup / When stats since 1 March are asked for by slug
    status, out, _ = cronbeat(monitor, capsys, "stats", "nightly-backup", "--since", "2026-03-01")
    # Then the ten March runs count (not February's 1000 s one), and the open run is apart:
    # durations 50 55 60 62 64 66 70 75 90 300 s have p50 = 64 s and p95 = max = 300 s
    assert status == 0
    assert out == STATS_SINCE_MARCH


def test_last_failure_prints_the_failed_runs_whole_output(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the seeded backup / When its last failure is asked for by uuid
    status, out, _ = cronbeat(monitor, capsys, "last-failure", BACKUP)
    # Then it is the timed-out run of 9 March, with its stored output
    assert status == 0
    assert out == LAST_FAILURE
    assert monitor.api_requests[-1] == f"/api/v3/checks/{BACKUP}/pings/21/body"


def test_last_failure_of_a_check_that_never_failed_says_so(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cronbeat(monitor, capsys, "last-failure", "db-vacuum")
    assert (status, out) == (0, "DB vacuum: no failed run in the ping history\n")


def test_ls_lists_every_check(monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two checks / When they are listed
    status, out, _ = cronbeat(monitor, capsys, "ls")
    # Then each shows its status, last ping, next due time and last duration
    assert status == 0
    assert out == (
        "CHECK           STATUS   LAST PING                   NEXT DUE                    LAST DURATION\n"  # noqa: E501
        "Nightly backup  running  2026-03-11 03:00:00 +01:00  2026-03-12 03:00:00 +01:00  1 min 15 s\n"  # noqa: E501
        "DB vacuum       up       2026-03-10 04:30:00 +01:00  2026-03-11 04:30:00 +01:00  3.0 s\n"
    )


def test_ls_since_lists_the_runs_of_all_checks_in_the_window(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two checks / When the runs since noon on 9 March are listed
    status, out, _ = cronbeat(monitor, capsys, "ls", "--since", "2026-03-09T12:00:00+01:00")
    # Then the three runs placed after it come, newest first; a bare success has no start
    assert status == 0
    assert out == (
        "CHECK           STARTED                     FINISHED                    KIND     EXIT  DURATION    ATTEMPT  COUNT\n"  # noqa: E501
        "Nightly backup  2026-03-11 03:00:00 +01:00  -                           started  -     -           -        -\n"  # noqa: E501
        "DB vacuum       -                           2026-03-10 04:30:00 +01:00  success  -     -           -        -\n"  # noqa: E501
        "Nightly backup  2026-03-10 03:00:00 +01:00  2026-03-10 03:01:15 +01:00  success  0     1 min 15 s  2/3      1204\n"  # noqa: E501
    )


def test_the_default_window_is_the_last_seven_days(capsys: pytest.CaptureFixture[str]) -> None:
    # Given runs 1 and 2 days ago (the second failed) and one 10 days ago
    now = datetime.now(UTC).replace(microsecond=0)
    log = PingLog(BACKUP)
    log.run(now - timedelta(days=10), 400, 0)
    log.run(now - timedelta(days=2), 20, 1)
    log.run(now - timedelta(days=1), 10, 0)
    check = {"name": "recent", "slug": "recent", "uuid": BACKUP, "status": "up"}
    seed = {"checks": [check], "pings_by_check": {BACKUP: log.newest_first()}}
    with running_monitor(**seed) as monitor:
        # When stats are asked for without --since, as JSON
        status, out, _ = cronbeat(monitor, capsys, "stats", "recent", "--json")
    # Then only the last week counts
    figures = json.loads(out)
    assert status == 0
    assert (figures["runs"], figures["failures"], figures["success_rate"]) == (2, 1, 0.5)
    assert figures["duration_s"] == {"p50": 10.0, "p95": 20.0, "max": 20.0}


# --- for programs ----------------------------------------------------------------------------


def test_history_as_json(monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cronbeat(monitor, capsys, "history", "nightly-backup", "-n", "2", "--json")
    assert status == 0
    assert json.loads(out) == {
        "check": {"name": "Nightly backup", "slug": "nightly-backup", "uuid": BACKUP},
        "runs": [
            {
                "kind": "started",
                "started": "2026-03-11T03:00:00+01:00",
                "finished": None,
                "exit_status": None,
                "duration_s": None,
                "count": None,
                "attempt": None,
                "attempts": None,
            },
            {
                "kind": "success",
                "started": "2026-03-10T03:00:00+01:00",
                "finished": "2026-03-10T03:01:15+01:00",
                "exit_status": 0,
                "duration_s": 75.0,
                "count": 1204,
                "attempt": 2,
                "attempts": 3,
            },
        ],
    }


def test_stats_as_json(monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cronbeat(
        monitor, capsys, "stats", "nightly-backup", "--since", "2026-03-01T00:00:00Z", "--json"
    )
    assert status == 0
    assert json.loads(out) == {
        "check": {"name": "Nightly backup", "slug": "nightly-backup", "uuid": BACKUP},
        "since": "2026-03-01T01:00:00+01:00",
        "runs": 10,
        "successes": 8,
        "failures": 2,
        "unfinished": 1,
        "retried": 1,
        "healed": 1,
        "success_rate": 0.8,
        "duration_s": {"p50": 64.0, "p95": 300.0, "max": 300.0},
        "last_failure": {
            "kind": "fail",
            "started": "2026-03-09T03:00:00+01:00",
            "finished": "2026-03-09T03:05:00+01:00",
            "exit_status": 124,
            "duration_s": 300.0,
            "count": None,
            "attempt": None,
            "attempts": None,
        },
    }


def test_last_failure_as_json(monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cronbeat(monitor, capsys, "last-failure", "nightly-backup", "--json")
    document = json.loads(out)
    assert status == 0
    assert document["run"]["finished"] == "2026-03-09T03:05:00+01:00"
    assert document["output"] == BODIES[9].decode()


def test_ls_as_json(monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cronbeat(monitor, capsys, "ls", "--json")
    checks = json.loads(out)["checks"]
    assert status == 0
    assert checks[0] == {
        "name": "Nightly backup",
        "slug": "nightly-backup",
        "uuid": BACKUP,
        "tags": "prod db",
        "status": "running",
        "started": True,
        "last_ping": "2026-03-11T03:00:00+01:00",
        "next_due": "2026-03-12T03:00:00+01:00",
        "last_duration_s": 75.0,
    }
    assert checks[1]["last_duration_s"] == 2.998


# --- keys ------------------------------------------------------------------------------------


def test_a_read_only_key_addresses_checks_by_unique_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a monitor that shows checks as a read-only key sees them (unique_key, no uuid)
    with running_monitor(**seeded("unique_key")) as monitor:
        # When a check's history is asked for by name
        status, out, _ = cronbeat(monitor, capsys, "history", "DB vacuum")
        # Then its pings were fetched by unique_key
        assert monitor.api_requests[-1] == f"/api/v3/checks/ro-{VACUUM[:8]}/pings/?limit=1000"
    assert status == 0
    assert out.splitlines()[1:] == [
        "-                           2026-03-10 04:30:00 +01:00  success  -     -",
        "2026-03-09 04:30:00 +01:00  2026-03-09 04:30:12 +01:00  success  -     12.0 s",
    ]


def test_the_api_key_and_url_come_from_the_environment_and_a_file(
    monitor: FakeMonitor,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the key in a file, named by the environment with the URL
    key_file = tmp_path / "api-key"
    key_file.write_text(API_KEY + "\n")
    monkeypatch.setenv("CRONBEAT_API_KEY", f"file:{key_file}")
    monkeypatch.setenv("CRONBEAT_URL", monitor.url)
    # When a query has neither flag / Then it works
    assert main(["history", "db-vacuum", "-n", "1"]) == 0
    assert "success" in capsys.readouterr().out


# --- errors: one line, exit 2 ----------------------------------------------------------------


def one_line_error(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> str:
    status = main(arguments)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    return captured.err


def test_a_wrong_key_is_one_line_and_exit_2(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(
        capsys, ["stats", "nightly-backup", "--url", monitor.url, "--api-key", "bad"]
    )
    assert err == f"cronbeat: {monitor.url} rejected the API key (HTTP 401)\n"


def test_an_unknown_check_is_one_line_and_exit_2(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(capsys, ["history", "nope", "--url", monitor.url, "--api-key", API_KEY])
    assert err == "cronbeat: unknown check: 'nope' (no uuid, slug or name matches)\n"


def test_an_unreachable_server_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = unused_url()
    err = one_line_error(capsys, ["last-failure", "x", "--url", url, "--api-key", API_KEY])
    assert err == f"cronbeat: cannot reach {url}: connection refused\n"


def test_two_checks_with_one_name_are_ambiguous(capsys: pytest.CaptureFixture[str]) -> None:
    # Given two checks named alike
    twins = [{"name": "sync", "uuid": BACKUP}, {"name": "sync", "uuid": VACUUM}]
    with running_monitor(checks=twins) as monitor:
        # When one is asked for by that name / Then the error says to use a uuid
        err = one_line_error(
            capsys, ["history", "sync", "--url", monitor.url, "--api-key", API_KEY]
        )
    assert err == "cronbeat: 2 checks have the name 'sync': use a uuid\n"


def test_a_bad_flag_is_one_line_and_exit_2(
    monitor: FakeMonitor, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(
        capsys, ["stats", "x", "--url", monitor.url, "--api-key", API_KEY, "--window", "3d"]
    )
    assert err.startswith("cronbeat: unrecognized arguments: --window 3d")
    assert monitor.api_requests == []


def test_the_readme_shows_what_the_commands_print() -> None:
    # Given the README's "Wrap a job" section / Then its sample output is today's, verbatim
    readme = README.read_text()
    assert f'$ cronbeat history "Nightly backup" -n 4\n{HISTORY_LAST_4}' in readme
    assert f"$ cronbeat stats nightly-backup --since 2026-03-01\n{STATS_SINCE_MARCH}" in readme
    assert f"$ cronbeat last-failure nightly-backup\n{LAST_FAILURE}" in readme


# --- reading back through many pings ---------------------------------------------------------


def busy_seed(runs: int, *, failed_first: bool = False) -> dict[str, Any]:
    """A check that ran every minute: `runs` runs of start and finish, 2 pings each."""
    log = PingLog(BACKUP)
    first = datetime.now(UTC) - timedelta(minutes=runs + 1)
    for minute in range(runs):
        exit_status = 1 if failed_first and minute == 0 else 0
        log.run(first + timedelta(minutes=minute), 2.5, exit_status, body=b"ran\n")
    check = {"name": "busy", "slug": "busy", "status": "up", "started": False, "uuid": BACKUP}
    return {
        "api_key": API_KEY,
        "checks": [check],
        "pings_by_check": {BACKUP: log.newest_first()},
        "bodies": log.bodies,
    }


def test_stats_since_7d_count_every_run_across_pages(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a check with 1,250 runs in the last day: 2,500 pings, three pages of the API
    with running_monitor(**busy_seed(1250)) as monitor:
        # When its stats for 7 days are asked for
        status, out, err = cronbeat(monitor, capsys, "stats", "busy", "--since", "7d", "--json")
        pings_requests = [r for r in monitor.api_requests if "/pings/?" in r]
    # Then every run is counted, read page by page
    assert (status, err) == (0, "")
    assert json.loads(out)["runs"] == 1250
    assert len(pings_requests) == 3


def test_a_monitor_that_does_not_page_gets_a_note_not_a_silent_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a monitor that serves its whole ping log at once, whatever is asked (1,000 pings)
    with running_monitor(**busy_seed(500), pages_pings=False) as monitor:
        monitor.pings_by_check[BACKUP] = monitor.pings_by_check[BACKUP][:1000]
        # When stats are asked for
        status, out, err = cronbeat(monitor, capsys, "stats", "busy", "--since", "7d", "--json")
    # Then the runs it has are counted, and stderr says the count stops at its newest pings
    assert status == 0
    assert json.loads(out)["runs"] == 500
    assert err == (
        "cronbeat: note: the monitor serves only its newest 1000 pings; "
        "runs before them are not counted\n"
    )


def test_last_failure_reads_back_past_the_first_page(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a check whose only failure is its oldest run, 1,200 runs ago
    with running_monitor(**busy_seed(1200, failed_first=True)) as monitor:
        # When its last failure is asked for
        status, out, _ = cronbeat(monitor, capsys, "last-failure", "busy")
    # Then it is found, with its duration in the CLI's words
    assert status == 0
    assert out.splitlines()[0].endswith("exit status 1 after 2.5 s")
    assert out.splitlines()[1] == "ran"
