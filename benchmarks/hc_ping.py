"""Healthchecks.io's own ping view on SQLite: CPU per warm ping, for `hc_ping_cpu_ratio`.

Runs only when `HC_SRC` names a Healthchecks.io checkout whose requirements are installed for
the interpreter `HC_PYTHON` (default: this one). In a fresh process there it migrates a new
SQLite database, creates one check, and times `GET /ping/<uuid>` through Django's test client
(middleware, URL routing, the view, the Ping row and the check's update), as the median over
repetitions of process CPU per ping. Otherwise it reports why it did not run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import REPETITIONS, report

PINGS_PER_REPETITION = 300
CHILD = """
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import User
from django.test import Client
from hc.accounts.models import Project
from hc.api.models import Check
owner = User.objects.create(username="bench", email="bench@example.org")
check = Check.objects.create(project=Project.objects.create(owner=owner), name="bench")
client = Client()
url = f"/ping/{check.code}"
for _ in range(50):
    assert client.get(url).status_code == 200
samples = []
for _ in range(int(sys.argv[1])):
    started = time.process_time()
    for _ in range(int(sys.argv[2])):
        client.get(url)
    samples.append((time.process_time() - started) / int(sys.argv[2]) * 1e6)
check.refresh_from_db()
cpu_us = round(statistics.median(samples), 1)
print(json.dumps({"hc_ping_cpu_us": cpu_us, "hc_pings_stored": check.n_pings}))
"""


def measure(source: Path, python: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "hc.settings",
            "DB": "sqlite",
            "DB_NAME": str(Path(scratch) / "hc.sqlite"),
            "ALLOWED_HOSTS": "*",
            "DEBUG": "False",
            "SECRET_KEY": "bench",
            "PYTHONPATH": str(source),
        }
        completed = subprocess.run(
            [python, "-c", CHILD, str(REPETITIONS), str(PINGS_PER_REPETITION)],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"hc_ping_cpu_us": None, "hc_ping_cpu_ratio_reason": f"HC_SRC run failed: {last}"}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    source = os.environ.get("HC_SRC")
    if not source:
        reason = "HC_SRC is not set (a Healthchecks.io checkout with its requirements installed)"
        report({"hc_ping_cpu_us": None, "hc_ping_cpu_ratio_reason": reason})
    elif not (Path(source) / "hc" / "api" / "views.py").is_file():
        reason = f"HC_SRC={source} is not a Healthchecks.io checkout (no hc/api/views.py)"
        report({"hc_ping_cpu_us": None, "hc_ping_cpu_ratio_reason": reason})
    else:
        report(measure(Path(source), os.environ.get("HC_PYTHON", sys.executable)))


if __name__ == "__main__":
    main()
