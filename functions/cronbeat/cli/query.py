"""`cronbeat ls`, `history`, `stats` and `last-failure`: did it run, did it succeed, how long does
it take, and what did it print when it failed. A table for people, or JSON with `--json`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

from cronbeat.cli.api import JsonObject, ManagementApi, NotFound, PingsNotPaged, check_key
from cronbeat.cli.runs import Run, as_seconds, parse_time, runs_from_pings, summarize
from cronbeat.cli.table import (
    NONE,
    duration_text,
    iso_time,
    local_time,
    render_fields,
    render_table,
)

RUN_HEADERS = ("STARTED", "FINISHED", "KIND", "EXIT", "DURATION")
ATTEMPT_HEADER, COUNT_HEADER = "ATTEMPT", "COUNT"


def last_duration_s(check: dict[str, Any]) -> float | None:
    """The last run's duration: cronbeat's milliseconds, else Healthchecks.io's whole seconds."""
    milliseconds = as_seconds(check.get("last_duration_ms"))
    return (
        milliseconds / 1000 if milliseconds is not None else as_seconds(check.get("last_duration"))
    )


def run_open(check: JsonObject) -> bool:
    """A run is in progress: v3's `started`, or v1's status `started`."""
    return bool(check.get("started")) or check.get("status") == "started"


def shown_status(check: JsonObject) -> str:
    """The status in the dashboard's words, so a terminal and a browser never disagree.

    A run in progress on a check that is up or new is `running` (Healthchecks.io's v1 API says
    `started`); `grace` is `late`; a late or down check with a run open adds `, running`.
    """
    status = str(check.get("status") or "new")
    running = run_open(check)
    if status in ("started", "up", "new") and running:
        return "running"
    word = "late" if status == "grace" else status
    return f"{word}, running" if running else word


def list_checks(api: ManagementApi, out: TextIO, *, as_json: bool) -> None:
    """Every check with its status, last ping, next due time and last duration."""
    checks = api.checks()
    if as_json:
        _dump({"checks": [_check_json(check, full=True) for check in checks]}, out)
        return
    rows = [
        (
            _label(check),
            shown_status(check),
            local_time(_time(check.get("last_ping"))),
            local_time(_time(check.get("next_ping"))),
            duration_text(last_duration_s(check)),
        )
        for check in checks
    ]
    out.write(render_table(("CHECK", "STATUS", "LAST PING", "NEXT DUE", "LAST DURATION"), rows))


def list_runs(api: ManagementApi, since: datetime, out: TextIO, *, as_json: bool) -> None:
    """All runs of all checks placed at or after `since`, newest first."""
    found = [
        (check, run)
        for check in api.checks()
        for run in _runs(api, check, _back_to(since))
        if run.at >= since
    ]
    found.sort(key=lambda pair: pair[1].at, reverse=True)
    if as_json:
        runs = [{"check": _check_json(check), **_run_json(run)} for check, run in found]
        _dump({"since": iso_time(since), "runs": runs}, out)
        return
    headers, rows = _run_table([run for _, run in found])
    labelled = [(_label(check), *row) for (check, _), row in zip(found, rows, strict=True)]
    out.write(render_table(("CHECK", *headers), labelled))


def history(api: ManagementApi, reference: str, limit: int, out: TextIO, *, as_json: bool) -> None:
    """The check's last `limit` runs, newest first."""
    check = api.find_check(reference)
    runs = _runs(api, check, lambda runs: len(runs) > limit)[:limit]
    if as_json:
        _dump({"check": _check_json(check), "runs": [_run_json(run) for run in runs]}, out)
        return
    out.write(render_table(*_run_table(runs)))


def stats(
    api: ManagementApi, reference: str, since: datetime, out: TextIO, *, as_json: bool
) -> None:
    """Success rate, counts and duration percentiles over the window, and the last failure."""
    check = api.find_check(reference)
    figures = summarize(_runs(api, check, _back_to(since)), since)
    last = figures.last_failure
    if as_json:
        rate = figures.success_rate
        document = {
            "check": _check_json(check),
            "since": iso_time(since),
            "runs": figures.runs,
            "successes": figures.successes,
            "failures": figures.failures,
            "unfinished": figures.unfinished,
            "retried": figures.retried,
            "healed": figures.healed,
            "success_rate": round(rate, 4) if rate is not None else None,
            "duration_s": {"p50": figures.p50_s, "p95": figures.p95_s, "max": figures.max_s},
            "last_failure": _run_json(last) if last else None,
        }
        _dump(document, out)
        return
    rate = figures.success_rate
    fields = [
        ("check", _label(check)),
        ("since", local_time(since)),
        ("runs", str(figures.runs)),
        ("succeeded", str(figures.successes)),
        ("failed", str(figures.failures)),
        ("unfinished", str(figures.unfinished)),
        ("retried", f"{figures.retried} ({figures.healed} healed)"),
        ("success rate", f"{rate * 100:.1f}%" if rate is not None else NONE),
        ("duration p50", duration_text(figures.p50_s)),
        ("duration p95", duration_text(figures.p95_s)),
        ("duration max", duration_text(figures.max_s)),
        ("last failure", f"{local_time(last.at)}, {_exit_words(last)}" if last else "never"),
    ]
    out.write(render_fields(fields))


def last_failure(api: ManagementApi, reference: str, out: TextIO, *, as_json: bool) -> None:
    """The whole stored output of the most recent failed run."""
    check = api.find_check(reference)
    runs = _runs(api, check, lambda runs: any(run.kind == "fail" for run in runs))
    failed = next((run for run in runs if run.kind == "fail"), None)
    output = _output(api, check, failed) if failed else None
    if as_json:
        run = _run_json(failed) if failed else None
        _dump({"check": _check_json(check), "run": run, "output": output}, out)
        return
    if failed is None:
        out.write(f"{_label(check)}: no failed run in the ping history\n")
        return
    took = f" after {duration_text(failed.duration_s)}" if failed.duration_s is not None else ""
    out.write(f"{_label(check)}: failed at {local_time(failed.at)}, {_exit_words(failed)}{took}\n")
    if output is None:
        out.write("(no output was recorded)\n")
    else:
        out.write(output if output.endswith("\n") or not output else output + "\n")


def _runs(api: ManagementApi, check: JsonObject, enough: Callable[[list[Run]], bool]) -> list[Run]:
    """The check's runs, newest first, read back page by page until `enough` of them are in.

    One page more is read after that, so the oldest run wanted has its start. When the monitor
    cannot page back, a note on stderr says how many pings were counted: never a silent cap.
    """
    pings: list[JsonObject] = []
    pages = api.ping_pages(check_key(check))
    try:
        for page in pages:
            pings.extend(page)
            if enough(runs_from_pings(pings)):
                pings.extend(next(pages, []))
                break
    except NotFound:
        raise NotFound(f"unknown check: {_label(check)!r}") from None
    except PingsNotPaged as capped:
        sys.stderr.write(f"cronbeat: note: {capped}; runs before them are not counted\n")
    return runs_from_pings(pings)


def _back_to(since: datetime) -> Callable[[list[Run]], bool]:
    return lambda runs: bool(runs) and runs[-1].at < since


def _output(api: ManagementApi, check: JsonObject, run: Run) -> str | None:
    if not run.has_body or run.finish_n is None:
        return None
    body = api.ping_body(check_key(check), run.finish_n)
    return body.decode("utf-8", errors="replace") if body is not None else None


def _run_table(runs: Sequence[Run]) -> tuple[Sequence[str], list[Sequence[str]]]:
    """Headers and rows of runs. ATTEMPT (`2/3`) and COUNT come only when a run has them, so a
    Healthchecks.io log, which has neither, reads as it always did."""
    attempts = any(run.attempt is not None for run in runs)
    counts = any(run.count is not None for run in runs)
    headers = [*RUN_HEADERS]
    headers += [ATTEMPT_HEADER] if attempts else []
    headers += [COUNT_HEADER] if counts else []
    rows: list[Sequence[str]] = []
    for run in runs:
        cells = [
            local_time(run.started),
            local_time(run.finished),
            run.kind,
            _text(run.exit_status),
            duration_text(run.duration_s),
        ]
        cells += [_attempt_text(run)] if attempts else []
        cells += [_text(run.count)] if counts else []
        rows.append(cells)
    return headers, rows


def _attempt_text(run: Run) -> str:
    if run.attempt is None:
        return NONE
    return f"{run.attempt}/{run.attempts}" if run.attempts is not None else str(run.attempt)


def _text(value: int | None) -> str:
    return str(value) if value is not None else NONE


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "kind": run.kind,
        "started": iso_time(run.started),
        "finished": iso_time(run.finished),
        "exit_status": run.exit_status,
        "duration_s": run.duration_s,
        "count": run.count,
        "attempt": run.attempt,
        "attempts": run.attempts,
    }


def _check_json(check: JsonObject, *, full: bool = False) -> dict[str, Any]:
    identity = {
        "name": check.get("name"),
        "slug": check.get("slug"),
        "uuid": check.get("uuid"),
        "unique_key": check.get("unique_key"),
    }
    identity = {key: value for key, value in identity.items() if value is not None}
    if not full:
        return identity
    return {
        **identity,
        "tags": check.get("tags"),
        "status": shown_status(check),
        "started": run_open(check),
        "last_ping": iso_time(_time(check.get("last_ping"))),
        "next_due": iso_time(_time(check.get("next_ping"))),
        "last_duration_s": last_duration_s(check),
    }


def _exit_words(run: Run) -> str:
    return f"exit status {run.exit_status}" if run.exit_status is not None else "no exit status"


def _label(check: JsonObject) -> str:
    return str(check.get("name") or check.get("slug") or check_key(check))


def _time(value: object) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


def _dump(document: object, out: TextIO) -> None:
    out.write(json.dumps(document, indent=2) + "\n")
