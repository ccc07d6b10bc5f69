"""The management commands against the real server, `cronbeat dev`: checks, channels, crontab
and systemd sync, checks as code, and the import from a Healthchecks.io project."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.devserver import DevServer

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
DEADLINE_S = 60.0


def cronbeat(
    dev: DevServer, *arguments: str, key: str | None = None, stdin: str | None = None,
    path_dir: Path | None = None,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """The CLI with the dev server's URL and key in its environment, as a job host sets them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRONBEAT_")}
    env.update(
        PYTHONPATH=str(FUNCTIONS),
        CRONBEAT_URL=dev.base_url,
        CRONBEAT_API_KEY=key or dev.api_key,
        CRONBEAT_PING_KEY=dev.ping_key,
    )
    if path_dir is not None:
        env["PATH"] = f"{path_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [sys.executable, "-m", "cronbeat.cli", *arguments],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=DEADLINE_S,
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(done).stdout)


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """A usage error: exit status 2 and one line on stderr, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def checks_by_slug(dev: DevServer) -> dict[str, dict[str, Any]]:
    listed = dev.api("GET", "checks/").json()["checks"]
    return {check["slug"]: check for check in listed}


# --- checks ---------------------------------------------------------------------------------


def test_checks_add_show_edit_pause_resume_rm(dev: DevServer) -> None:
    # When a cron check is added from the terminal
    added = ok(
        cronbeat(dev, "checks", "add", "nightly backup", "--schedule", "0 3 * * *", "--tz",
                 "Europe/Riga", "--grace", "10m", "--slug", "backup", "--tags", "prod db",
                 "--max-runtime", "2h", "--max-duration", "90m")
    )  # fmt: skip
    # Then it prints the ping URL and a ready `cronbeat run` line
    check = checks_by_slug(dev)["backup"]
    assert f"ping URL: {dev.base_url}/ping/{check['uuid']}" in added.stdout
    assert f"--uuid {check['uuid']} -- COMMAND" in added.stdout
    assert (check["schedule"], check["tz"], check["grace"]) == ("0 3 * * *", "Europe/Riga", 600)
    assert (check["max_runtime"], check["max_duration"], check["tags"]) == (7200, 5400, "prod db")
    # And show finds it by slug, by name and by uuid, with the read-only key too
    for reference in ("backup", "nightly backup", check["uuid"]):
        shown = as_json(cronbeat(dev, "checks", "show", reference, "--json", key=dev.read_only_key))
        assert shown["name"] == "nightly backup"
    table = ok(cronbeat(dev, "checks", "show", "backup")).stdout
    assert re.search(r"^schedule +0 3 \* \* \* \(Europe/Riga\)$", table, re.M)
    # When it is edited, paused and resumed
    ok(cronbeat(dev, "checks", "edit", "backup", "--period", "1h", "--name", "hourly backup"))
    edited = checks_by_slug(dev)["backup"]
    assert (edited["name"], edited["timeout"], edited.get("schedule")) == (
        "hourly backup",
        3600,
        None,
    )
    ok(cronbeat(dev, "checks", "pause", "backup"))
    assert checks_by_slug(dev)["backup"]["status"] == "paused"
    ok(cronbeat(dev, "checks", "resume", "backup"))
    assert checks_by_slug(dev)["backup"]["status"] == "new"
    # And rm without --yes and without a terminal refuses; with --yes it deletes
    assert "pass --yes" in refused(cronbeat(dev, "checks", "rm", "backup"))
    ok(cronbeat(dev, "checks", "rm", "backup", "--yes"))
    assert checks_by_slug(dev) == {}


def test_bad_check_flags_and_refused_values_are_one_line_and_status_2(dev: DevServer) -> None:
    assert "--period" in refused(cronbeat(dev, "checks", "add", "x", "--period", "soon"))
    both = cronbeat(dev, "checks", "add", "x", "--period", "1h", "--schedule", "* * * * *")
    assert "not allowed with" in refused(both)
    assert "schedule" in refused(cronbeat(dev, "checks", "add", "x", "--schedule", "99 * * * *"))
    assert "unknown check" in refused(cronbeat(dev, "checks", "show", "nope"))
    read_only = cronbeat(dev, "checks", "add", "x", key=dev.read_only_key)
    assert "read-write" in refused(read_only) or "rejected" in read_only.stderr
    assert checks_by_slug(dev) == {}


def test_history_with_the_read_only_key_finds_a_check_by_its_uuid(dev: DevServer) -> None:
    created = dev.api("POST", "checks/", {"name": "job", "timeout": 3600}).json()
    dev.ping(created["uuid"])
    history = cronbeat(dev, "history", created["uuid"], "--json", key=dev.read_only_key)
    assert [run["kind"] for run in as_json(history)["runs"]] == ["success"]


# --- channels -------------------------------------------------------------------------------


def test_channels_add_ls_test_rm(dev: DevServer) -> None:
    # When a webhook and an email channel are added from the terminal
    hook = ok(cronbeat(dev, "channels", "add", "webhook", "url=http://127.0.0.1:9/hook",
                       "--name", "ops"))  # fmt: skip
    assert "signing secret (shown once):" in hook.stdout
    ok(cronbeat(dev, "channels", "add", "email", "address=ops@example.com", "--name", "mail"))
    # Then ls shows both, with the email's subscription state and no secret
    listed = ok(cronbeat(dev, "channels", "ls")).stdout
    assert "ops" in listed
    assert "webhook" in listed
    assert "email" in listed
    assert "confirmed" in listed
    assert "127.0.0.1:9" not in listed
    # And test queues a test alert, rm deletes
    assert "test alert queued for ops" in ok(cronbeat(dev, "channels", "test", "ops")).stdout
    ok(cronbeat(dev, "channels", "rm", "mail", "--yes"))
    names = [c["name"] for c in as_json(cronbeat(dev, "channels", "ls", "--json"))["channels"]]
    assert names == ["ops"]
    # And bad settings are one line, status 2
    assert "KEY=VALUE" in refused(cronbeat(dev, "channels", "add", "slack", "https://x"))
    assert "url is missing" in refused(cronbeat(dev, "channels", "add", "slack"))


# --- sync crontab ---------------------------------------------------------------------------

CRONTAB = """\
# m h dom mon dow  command
MAILTO=""
CRON_TZ=Europe/Riga
# cronbeat: nightly backup
30 3 * * * /usr/local/bin/backup.sh --full > /var/log/backup.log 2>&1
*/15 * * * * /usr/bin/poll-queue
@reboot /usr/local/bin/warm-cache
TZ=UTC
@hourly /usr/bin/rotate-logs
0 9 * * mon-fri /usr/local/bin/cronbeat run --slug report -- /usr/bin/report --daily
"""


def test_sync_crontab_makes_one_check_per_job_wraps_them_and_is_a_no_op_again(
    dev: DevServer, tmp_path: Path
) -> None:
    source = tmp_path / "crontab"
    source.write_text(CRONTAB)
    cronbeat_path = "/opt/cronbeat/bin/cronbeat"
    args = ("sync", "crontab", str(source), "--cronbeat", cronbeat_path)
    # When a dry run looks first, nothing is made
    dry = ok(cronbeat(dev, *args, "--dry-run"))
    assert "nightly-backup: would be created" in dry.stderr
    assert checks_by_slug(dev) == {}
    # When it runs
    first = ok(cronbeat(dev, *args))
    # Then each scheduled job has a check with its schedule and zone; @reboot is reported
    checks = checks_by_slug(dev)
    assert sorted(checks) == ["nightly-backup", "poll-queue", "report", "rotate-logs"]
    assert (checks["nightly-backup"]["schedule"], checks["nightly-backup"]["tz"]) == (
        "30 3 * * *",
        "Europe/Riga",
    )
    assert checks["nightly-backup"]["grace"] == 3600
    assert (checks["poll-queue"]["schedule"], checks["poll-queue"]["grace"]) == ("*/15 * * * *", 90)
    assert (checks["rotate-logs"]["schedule"], checks["rotate-logs"]["tz"]) == ("0 * * * *", "UTC")
    assert checks["report"]["schedule"] == "0 9 * * mon-fri"
    assert "skipped line 7 (@reboot runs at boot" in first.stderr
    # And the printed crontab wraps the jobs, keeps everything else, and adds the settings
    wrapped = first.stdout.splitlines()
    assert wrapped[:2] == [f"CRONBEAT_URL={dev.base_url}", f"CRONBEAT_PING_KEY={dev.ping_key}"]
    assert (
        f"30 3 * * * {cronbeat_path} run --slug nightly-backup -- "
        "/usr/local/bin/backup.sh --full > /var/log/backup.log 2>&1"
    ) in wrapped
    assert "@reboot /usr/local/bin/warm-cache" in wrapped
    assert wrapped[-1] == CRONTAB.splitlines()[-1]
    # When the wrapped crontab is synced again
    source.write_text(first.stdout)
    second = ok(cronbeat(dev, *args))
    # Then nothing changes: the same checks, all unchanged, and the same crontab
    assert second.stdout == first.stdout
    assert "created" not in second.stderr
    assert "updated" not in second.stderr
    assert checks_by_slug(dev) == checks


def test_sync_crontab_write_installs_through_crontab(dev: DevServer, tmp_path: Path) -> None:
    # Given a `crontab` command that lists a table and records what it is given
    table, installed = tmp_path / "table", tmp_path / "installed"
    table.write_text("0 1 * * * /usr/bin/job\n")
    fake = tmp_path / "crontab"
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {table}; else cat > {installed}; fi\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    # When the sync reads `crontab -l` and writes
    ok(cronbeat(dev, "sync", "crontab", "--write", "--cronbeat", "cronbeat", path_dir=tmp_path))
    # Then the wrapped table was installed, and the check made
    assert installed.read_text().endswith("0 1 * * * cronbeat run --slug job -- /usr/bin/job\n")
    assert "job" in checks_by_slug(dev)


def test_a_bad_crontab_line_is_one_line_and_status_2(dev: DevServer) -> None:
    done = cronbeat(dev, "sync", "crontab", "-", stdin="61 * * * * /bin/x\n")
    assert "line 1" in refused(done)
    assert checks_by_slug(dev) == {}


# --- sync systemd ---------------------------------------------------------------------------


def test_sync_systemd_reads_a_timer_and_prints_the_drop_in(dev: DevServer, tmp_path: Path) -> None:
    # Given a timer and its service
    (tmp_path / "backup.timer").write_text(
        "[Unit]\nDescription=Nightly backup\n\n[Timer]\nOnCalendar=Mon..Fri 03:30\n"
        "Persistent=true\n\n[Install]\nWantedBy=timers.target\n"
    )
    (tmp_path / "backup.service").write_text(
        "[Service]\nType=oneshot\nExecStart=-/usr/local/bin/backup --full\n"
    )
    (tmp_path / "boot.timer").write_text("[Timer]\nOnBootSec=5min\n")
    # When the timers are synced
    timers = (str(tmp_path / "backup.timer"), str(tmp_path / "boot.timer"))
    done = ok(cronbeat(dev, "sync", "systemd", *timers, "--cronbeat", "/usr/bin/cronbeat"))
    # Then the calendar timer is a check with that schedule; the monotonic one is reported
    check = checks_by_slug(dev)["backup"]
    assert (check["schedule"], check["grace"]) == ("Mon..Fri 03:30", 3600)
    assert "no OnCalendar=" in done.stderr
    # And the drop-in replaces ExecStart, keeping its prefix, with the settings it needs
    assert "# /etc/systemd/system/backup.service.d/cronbeat.conf" in done.stdout
    assert "ExecStart=\n" in done.stdout
    assert (
        "ExecStart=-/usr/bin/cronbeat run --slug backup -- /usr/local/bin/backup --full"
        in done.stdout
    )
    assert f"Environment=CRONBEAT_PING_KEY={dev.ping_key}" in done.stdout
    # And a second sync changes nothing
    again = ok(cronbeat(dev, "sync", "systemd", str(tmp_path / "backup.timer")))
    assert "backup: unchanged" in again.stderr


def test_sync_systemd_lists_timers_through_systemctl(dev: DevServer, tmp_path: Path) -> None:
    fake = tmp_path / "systemctl"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "list-timers" ]; then\n'
        "  echo 'Mon 2026-12-07 03:00:00 UTC 13h left - - logrotate.timer logrotate.service'\n"
        'elif [ "$2" = "logrotate.timer" ]; then printf "[Timer]\\nOnCalendar=daily\\n"\n'
        'else printf "[Service]\\nExecStart=/usr/sbin/logrotate /etc/logrotate.conf\\n"; fi\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    done = ok(cronbeat(dev, "sync", "systemd", "--cronbeat", "cronbeat", path_dir=tmp_path))
    assert checks_by_slug(dev)["logrotate"]["schedule"] == "daily"
    assert "ExecStart=cronbeat run --slug logrotate -- /usr/sbin/logrotate" in done.stdout


# --- checks as code -------------------------------------------------------------------------

DECLARED = """\
[[channel]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9/hook"

[[check]]
slug = "backup"
name = "nightly backup"
schedule = "30 3 * * *"
tz = "Europe/Riga"
grace = "1h"
channels = ["ops"]
max_runtime = 7200
slow_factor = 2
min_count = 1
stuck_after = "30m"
maintenance = [{ schedule = "0 2 * * 0", duration = "1h" }]

[[check]]
slug = "poll"
name = "poll"
timeout = 300
grace = 60
tags = "queue"
"""


def test_apply_then_export_then_apply_is_a_no_op_and_prune_deletes(
    dev: DevServer, tmp_path: Path
) -> None:
    # Given a file, and a check made elsewhere that it does not declare
    declared = tmp_path / "checks.toml"
    declared.write_text(DECLARED)
    dev.api("POST", "checks/", {"name": "stray", "slug": "stray", "timeout": 60})
    # When it is applied
    first = ok(cronbeat(dev, "apply", str(declared)))
    # Then the declared channel and checks exist; the stray one is kept and reported
    checks = checks_by_slug(dev)
    assert sorted(checks) == ["backup", "poll", "stray"]
    backup = checks["backup"]
    assert (backup["grace"], backup["max_runtime"], backup["stuck_after"]) == (3600, 7200, 1800)
    assert (backup["slow_factor"], backup["slow_window"], backup["min_count"]) == (2.0, 20, 1)
    assert backup["maintenance"] == [{"schedule": "0 2 * * 0", "duration": 3600}]
    ops = next(c for c in dev.api("GET", "channels/").json()["channels"] if c["name"] == "ops")
    assert checks["backup"]["channels"] == ops["id"]
    assert "stray" in first.stderr
    assert "--prune" in first.stderr
    # When the state is exported and applied again
    exported = ok(cronbeat(dev, "export")).stdout
    assert 'maintenance = [{ schedule = "0 2 * * 0", duration = 3600 }]' in exported
    assert "slow_factor = 2.0" in exported
    (tmp_path / "exported.toml").write_text(exported)
    again = ok(cronbeat(dev, "apply", str(tmp_path / "exported.toml"), "--json"))
    # Then nothing changes, and the file applied first is a no-op too
    changes = json.loads(again.stdout)["changes"]
    assert {c["action"] for c in changes} == {"unchanged"}, changes
    third = json.loads(ok(cronbeat(dev, "apply", str(declared), "--json")).stdout)["changes"]
    assert {c["action"] for c in third} == {"unchanged", "skipped"}, third
    assert checks_by_slug(dev) == checks
    # When a field changes in the file, only that is updated
    declared.write_text(DECLARED.replace('tags = "queue"', 'tags = "queue prod"'))
    changed = json.loads(ok(cronbeat(dev, "apply", str(declared), "--json")).stdout)["changes"]
    assert {"action": "updated", "slug": "poll", "detail": "tags"} in changed
    # When it is applied with --prune
    ok(cronbeat(dev, "apply", str(declared), "--prune"))
    # Then the undeclared check is gone
    assert sorted(checks_by_slug(dev)) == ["backup", "poll"]


def test_apply_refuses_a_bad_file_in_one_line(dev: DevServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[check]]\nname = 'no slug'\n")
    assert "has no slug" in refused(cronbeat(dev, "apply", str(bad)))
    bad.write_text("[[check\n")
    assert "is not TOML" in refused(cronbeat(dev, "apply", str(bad)))
    bad.write_text("[[check]]\nslug = 'x'\ngrace = 'soon'\n")
    assert "grace" in refused(cronbeat(dev, "apply", str(bad)))
    bad.write_text("[[check]]\nslug = 'x'\nmaintenance = [{ schedule = '0 2 * * 0' }]\n")
    assert "a maintenance window is" in refused(cronbeat(dev, "apply", str(bad)))
    every_minute = "[{ schedule = '* * * * *', duration = 60 }]"  # as long as the gap: refused
    bad.write_text(f"[[check]]\nslug = 'x'\nmaintenance = {every_minute}\n")
    assert "maintenance" in refused(cronbeat(dev, "apply", str(bad)))
    assert checks_by_slug(dev) == {}


# --- import from Healthchecks.io ------------------------------------------------------------

HC_CHECKS = {
    "checks": [
        {
            "name": "Backups",
            "slug": "backups",
            "tags": "prod www",
            "desc": "Runs nightly",
            "grace": 900,
            "n_pings": 1,
            "status": "up",
            "started": False,
            "last_ping": "2026-12-01T03:00:00+00:00",
            "next_ping": "2026-12-02T03:00:00+00:00",
            "manual_resume": False,
            "methods": "",
            "subject": "",
            "subject_fail": "",
            "start_kw": "",
            "success_kw": "",
            "failure_kw": "",
            "filter_subject": False,
            "filter_body": False,
            "uuid": "31365bce-8da9-4729-8ff3-aaa71d56b712",
            "ping_url": "https://hc-ping.com/31365bce-8da9-4729-8ff3-aaa71d56b712",
            "update_url": "https://healthchecks.io/api/v3/checks/31365bce-8da9-4729-8ff3-aaa71d56b712",
            "pause_url": "https://healthchecks.io/api/v3/checks/31365bce-8da9-4729-8ff3-aaa71d56b712/pause",
            "resume_url": "https://healthchecks.io/api/v3/checks/31365bce-8da9-4729-8ff3-aaa71d56b712/resume",
            "channels": "1bdea674-eb4a-4f4b-9ad1-27a5dfee4e0b",
            "schedule": "0 3 * * *",
            "tz": "Europe/Riga",
        },
        {
            "name": "Heartbeat",
            "slug": "heartbeat",
            "tags": "",
            "desc": "",
            "grace": 60,
            "n_pings": 0,
            "status": "new",
            "started": False,
            "last_ping": None,
            "next_ping": None,
            "manual_resume": True,
            "methods": "POST",
            "subject": "",
            "subject_fail": "",
            "start_kw": "",
            "success_kw": "",
            "failure_kw": "",
            "filter_subject": False,
            "filter_body": False,
            "uuid": "662ebe36-ecab-48db-afe3-e20029cb71e6",
            "ping_url": "https://hc-ping.com/662ebe36-ecab-48db-afe3-e20029cb71e6",
            "channels": "",
            "timeout": 3600,
        },
    ]
}
"""Shaped like Healthchecks.io's documented `GET /api/v3/checks/` reply."""
HC_CHANNELS = {
    "channels": [
        {"id": "1bdea674-eb4a-4f4b-9ad1-27a5dfee4e0b", "name": "Ops Slack", "kind": "slack"}
    ]
}
"""Shaped like its `GET /api/v3/channels/` reply: kinds and names, never settings."""


@pytest.fixture
def healthchecks() -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 answering like Healthchecks.io's API; its URL and the keys used."""
    keys: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.append(self.headers.get("X-Api-Key", ""))
            body = {"/api/v3/checks/": HC_CHECKS, "/api/v3/channels/": HC_CHANNELS}.get(self.path)
            data = json.dumps(body or {"error": "not found"}).encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}", keys
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_import_hc_keeps_every_uuid_and_lists_the_integrations(
    dev: DevServer, healthchecks: tuple[str, list[str]]
) -> None:
    url, keys = healthchecks
    # When a Healthchecks.io project is imported
    done = ok(cronbeat(dev, "import-hc", "--from", url, "--hc-api-key", "hc-key"))
    # Then each check exists under its old UUID with its settings
    checks = checks_by_slug(dev)
    backups, heartbeat = checks["backups"], checks["heartbeat"]
    assert backups["uuid"] == "31365bce-8da9-4729-8ff3-aaa71d56b712"
    assert (backups["schedule"], backups["tz"], backups["grace"]) == (
        "0 3 * * *",
        "Europe/Riga",
        900,
    )
    assert (backups["tags"], backups["desc"]) == ("prod www", "Runs nightly")
    assert heartbeat["uuid"] == "662ebe36-ecab-48db-afe3-e20029cb71e6"
    assert (heartbeat["timeout"], heartbeat["methods"], heartbeat["manual_resume"]) == (
        3600,
        "POST",
        True,
    )
    assert set(keys) == {"hc-key"}
    # And the integrations to recreate are named
    assert "Ops Slack (slack)" in done.stderr
    # And a job still pinging its old URL, with only the host changed, is recorded
    assert dev.ping("31365bce-8da9-4729-8ff3-aaa71d56b712").status == 200
    pings = dev.api("GET", "checks/31365bce-8da9-4729-8ff3-aaa71d56b712/pings/").json()["pings"]
    assert [p["type"] for p in pings] == ["success"]
    # When the import runs again, it skips what it made
    again = ok(cronbeat(dev, "import-hc", "--from", url, "--hc-api-key", "hc-key", "--json"))
    assert {c["action"] for c in json.loads(again.stdout)["checks"]} == {"unchanged"}
    assert len(checks_by_slug(dev)) == 2
