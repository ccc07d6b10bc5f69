"""The dashboard in a real headless Chromium, against `cronbeat dev` with checks in every status.

Debian's chromium is driven by Python Playwright; Playwright's own browser download is not used.
The screenshot for the README is refreshed with `make dashboard-screenshot`.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect, sync_playwright

from cronbeat.domain.ids import unique_key
from tests.e2e.devserver import ROOT, DevServer, poll, start

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM = Path(os.environ.get("CRONBEAT_TEST_CHROMIUM", "/usr/bin/chromium"))
"""Debian's chromium; the variable lets a test see what happens without it."""
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Keys are looked up by their first 8 characters, so the two must differ there.
RW_KEY = "rw-" + secrets.token_hex(16)[:29]
RO_KEY = "ro-" + secrets.token_hex(16)[:29]
SCREENSHOT = ROOT / "docs" / "dashboard.png"
STARTUP_S = 60.0
SETTLE_S = 30.0

# Worst first: down, then late, then running, up, new and paused; by name within a status.
EXPECTED_ORDER = [
    ("backup-db", "down"),
    ("sync-mirror", "down"),
    ("nightly-report", "late"),
    ("ingest-events", "running"),
    ("rotate-logs", "up"),
    ("cert-renewal", "new"),
    ("archive-s3", "paused"),
]
FAILED_OUTPUT = "pg_dump: error: connection to server failed: Connection refused"
BUSY_RUNS = 60
"""ingest-events' finished runs: 120 pings, more than the API's default page of 100."""
ALERTED = "payments-export"
"""The check whose failure is alerted to the webhooks below; it exists only during its tests."""
WEBHOOKS = {"pager-hook": 200, "old-intranet": 404, "flaky-relay": 500}
"""Webhook channels by name, with the status their receiver answers every alert with."""


def _api(server: DevServer, method: str, path: str, body: Any = None) -> Any:
    """The API's JSON reply to the read-write key; fails the test on an error status."""
    reply = server.api(method, path, body)
    assert 200 <= reply.status < 300, f"{method} {path}: {reply.status} {reply.text}"
    return reply.json()


def _ping(server: DevServer, url: str, body: str | None = None) -> None:
    """Ping at a URL the API handed out, which must point at this server."""
    prefix = f"{server.base_url}/ping/"
    assert url.startswith(prefix), url
    reply = server.ping(url.removeprefix(prefix), None if body is None else body.encode())
    assert (reply.status, reply.body) == (200, b"OK")


def _statuses(server: DevServer) -> dict[str, str]:
    return {c["name"]: c["status"] for c in _api(server, "GET", "checks/")["checks"]}


def _seed(server: DevServer) -> dict[str, dict[str, Any]]:
    """Checks in every status, with runs, failures and output, through the API and real pings."""

    def create(name: str, tags: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "slug": name, "tags": tags, "grace": 600, **fields}
        created: dict[str, Any] = _api(server, "POST", "checks/", body)
        return created

    def run(check: dict[str, Any], exit_status: int, output: str) -> None:
        rid = str(uuid.uuid4())
        _ping(server, f"{check['ping_url']}/start?rid={rid}")
        _ping(server, f"{check['ping_url']}/{exit_status}?rid={rid}", output)

    # Created best first, so the page's order cannot come from the API's.
    checks = {
        "archive-s3": create("archive-s3", "ops", timeout=86400),
        "cert-renewal": create("cert-renewal", ""),
        "rotate-logs": create("rotate-logs", "ops", schedule="0 2 * * *", tz="Europe/Riga"),
        "ingest-events": create("ingest-events", "etl", timeout=3600),
        "nightly-report": create("nightly-report", "prod", timeout=1, grace=3600),
        "sync-mirror": create("sync-mirror", "ops", timeout=1, grace=1),
        "backup-db": create(
            "backup-db", "db prod", timeout=3600, desc="Nightly dump of the db.", max_duration=600
        ),
    }
    run(checks["backup-db"], 0, "dumped 42 tables\n")
    run(checks["backup-db"], 1, FAILED_OUTPUT + "\n")
    for i in range(BUSY_RUNS):
        run(checks["ingest-events"], 3 if i == BUSY_RUNS - 6 else 0, f"ingested batch {i}\n")
    _ping(server, f"{checks['ingest-events']['ping_url']}/start?rid={uuid.uuid4()}")
    run(checks["rotate-logs"], 0, "rotated 7 files\n")
    _ping(server, checks["nightly-report"]["ping_url"])
    _ping(server, checks["sync-mirror"]["ping_url"])
    run(checks["archive-s3"], 0, "archived\n")
    _api(server, "POST", f"checks/{checks['archive-s3']['uuid']}/pause", {})

    wanted = {name: "grace" if status == "late" else status for name, status in EXPECTED_ORDER}
    wanted["ingest-events"] = "up"
    poll(lambda: _statuses(server) == wanted, f"statuses become {wanted}", SETTLE_S)
    assert list(_statuses(server)) != [name for name, _ in EXPECTED_ORDER]
    return checks


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    server = start(
        *("--min-period", "1", "--sweep-seconds", "1"),
        *("--api-key", RW_KEY, "--read-only-key", RO_KEY),
        timeout_s=STARTUP_S,
    )
    try:
        _seed(server)
        yield server
    finally:
        server.stop()


def _answering(status: int) -> ThreadingHTTPServer:
    """A webhook receiver on 127.0.0.1 that answers every POST with `status`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Alerted:
    """A check whose failure was alerted to every channel in WEBHOOKS, and those channels."""

    check: dict[str, Any]
    channels: dict[str, str]
    """Channel ids by name."""


def _settled(server: DevServer, alerted: Alerted) -> bool:
    """Each alert delivery has had its first attempt: the SNS topic and 200 sent, 404 failed
    for good, 500 failed once and waits for its retry."""
    flips = _api(server, "GET", f"checks/{alerted.check['uuid']}/flips/")["flips"]
    down = [f for f in flips if f["reason"] == "fail"]
    if len(down) != 1:
        return False
    by_target = {d["target"]: d for d in down[0]["deliveries"]}
    ids = alerted.channels
    return (
        by_target.keys() == {"sns", *ids.values()}
        and by_target["sns"]["state"] == "sent"
        and by_target[ids["pager-hook"]]["state"] == "sent"
        and by_target[ids["old-intranet"]]["state"] == "failed"
        and by_target[ids["flaky-relay"]]["error"] is not None
    )


@pytest.fixture
def alerted(dev: DevServer) -> Iterator[Alerted]:
    """ALERTED, failed once with its alert delivered; removed afterwards, channels included, so
    the overview's rows and every other check's alerts stay as `_seed` made them."""
    receivers = {name: _answering(status) for name, status in WEBHOOKS.items()}
    channels: dict[str, str] = {}
    check: dict[str, Any] | None = None
    try:
        for name, receiver in receivers.items():
            url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
            spec = {"kind": "webhook", "name": name, "url": url, "attach_all": False}
            channels[name] = _api(dev, "POST", "channels/", spec)["id"]
        fields = {"name": ALERTED, "timeout": 3600, "grace": 600}
        check = _api(dev, "POST", "checks/", {**fields, "channels": ",".join(channels.values())})
        _ping(dev, check["ping_url"])
        _ping(dev, f"{check['ping_url']}/fail")
        made = Alerted(check, channels)
        poll(lambda: _settled(dev, made), "the failure's alert deliveries settle", SETTLE_S)
        yield made
    finally:
        if check is not None:
            _api(dev, "DELETE", f"checks/{check['uuid']}")
        for channel_id in channels.values():
            _api(dev, "DELETE", f"channels/{channel_id}")
        for receiver in receivers.values():
            receiver.shutdown()
            receiver.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} not found: these tests drive Debian's chromium package "
            "(apt-get install chromium; make test installs it when it can)"
        )
        # A skipped browser suite must not pass for a whole one in CI.
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page, with every console error and every request it made."""

    page: Page
    origin: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self, allowed_errors: tuple[str, ...] = ()) -> None:
        errors = [e for e in self.errors if not any(a in e for a in allowed_errors)]
        assert errors == [], "console errors"
        foreign = [url for url in self.requests if not url.startswith(self.origin + "/")]
        assert foreign == [], "requests outside the page's origin"
        urls = [*self.requests, self.page.url]
        assert [url for url in urls if RW_KEY in url or RO_KEY in url] == [], "a key in a URL"
        assert any("/api/v3/checks/" in url for url in self.requests)


@pytest.fixture
def watched(browser: Browser, dev: DevServer) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    seen = Watched(page, dev.base_url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(f"{message.text} at {message.location.get('url')}")

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("request", on_request)
    yield seen
    context.close()


def submit_key(watched: Watched, key: str, at: str = "/") -> Page:
    """Open the page at `at` on its key form (focused on the key) and submit `key`, as a user
    pasting it does."""
    page = watched.page
    page.goto(watched.origin + at)
    expect(page.get_by_label("API key")).to_be_focused()
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Open").click()
    return page


def open_dashboard(seen: Watched, key: str = RW_KEY) -> Page:
    page = submit_key(seen, key)
    expect(page.locator("#checks tbody tr")).to_have_count(len(EXPECTED_ORDER))
    # Every row's run strip has loaded (or said why not).
    expect(page.locator("#checks .strip-empty", has_text="loading")).to_have_count(0)
    return page


def rows(page: Page) -> list[tuple[str, str]]:
    names = page.locator("#checks tbody .check-link").all_inner_texts()
    statuses = page.locator("#checks tbody .status-cell .status").all_inner_texts()
    return list(zip(names, statuses, strict=True))


def test_overview_shows_every_check_worst_first(watched: Watched, tmp_path: Path) -> None:
    # Given checks in every status
    # When the user pastes a read-write key
    page = open_dashboard(watched)

    # Then each check has a row with its status as a word, down and late ones first
    assert rows(page) == EXPECTED_ORDER
    backup = page.locator("tr", has_text="backup-db")
    expect(backup.locator(".tag")).to_have_text(["db", "prod"])
    # And the last ping is relative, with the exact time on hover
    last_ping = backup.locator("td[data-label='Last ping'] time")
    expect(last_ping).to_have_text(re.compile(r"^(just now|\d+ s ago|\d+ min ago)$"))
    expect(last_ping).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    rotate = page.locator("tr", has_text="rotate-logs")
    expect(rotate.locator("td[data-label='Next due'] time")).to_have_text(re.compile(r"^in \d+"))
    new = page.locator("tr", has_text="cert-renewal")
    expect(new.locator("td[data-label='Next due']")).to_have_text("after the first ping")
    expect(new.locator("td[data-label='Last 20 runs']")).to_have_text("no runs yet")
    # And the last duration is shown once a run has finished, in the API's milliseconds
    expect(backup.locator("td[data-label='Last duration']")).to_have_text(
        re.compile(r"^(\d{1,3} ms|\d+\.\d s)$")
    )
    expect(new.locator("td[data-label='Last duration']")).to_have_text("—")
    # And the strips count each check's runs by outcome, the running one included
    ingest_strip = page.locator("tr", has_text="ingest-events").locator(".strip")
    expect(ingest_strip).to_have_attribute(
        "aria-label", "Last 20 runs: 18 success, 1 failure, 1 running"
    )
    expect(ingest_strip.locator(".run")).to_have_count(20)
    expect(backup.locator(".strip")).to_have_attribute(
        "aria-label", "Last 2 runs: 1 success, 1 failure"
    )
    # And the summary counts checks per status
    expect(page.locator("#summary button")).to_have_text(
        ["2 down", "1 late", "1 running", "1 up", "1 new", "1 paused"]
    )
    # And the tab's title says what is wrong
    expect(page).to_have_title("(2 down, 1 late) cronbeat")

    shot = tmp_path / "dashboard.png"
    bottom = page.evaluate("document.querySelector('#overview').getBoundingClientRect().bottom")
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 16})
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("CRONBEAT_UPDATE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes(shot.read_bytes())
    watched.assert_clean()


def test_filters_by_tag_and_status_and_keeps_them_across_the_30_s_refresh(
    watched: Watched, dev: DevServer
) -> None:
    # Given the dashboard on a clock the test controls
    watched.page.clock.install()
    page = open_dashboard(watched)

    # When the user picks a tag, then a status
    page.get_by_label("Tag", exact=True).select_option("prod")
    assert rows(page) == [("backup-db", "down"), ("nightly-report", "late")]
    page.get_by_label("Status", exact=True).select_option("down")
    # Then only the checks with both show
    assert rows(page) == [("backup-db", "down")]
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_label("Tag", exact=True).select_option("ops")
    assert rows(page) == [("sync-mirror", "down"), ("rotate-logs", "up"), ("archive-s3", "paused")]

    # When a check changes on the server and 30 s pass
    probe = _api(dev, "POST", "checks/", {"name": "zz-probe", "tags": "ops", "timeout": 3600})
    try:
        with page.expect_request(re.compile(r"/api/v3/checks/$")):
            page.clock.fast_forward(30_000)
        # Then the page shows the new data, still filtered by the same tag
        expect(page.locator("#checks tbody tr")).to_have_count(4)
        expect(page.locator("tr", has_text="zz-probe").locator(".status")).to_have_text("new")
        _ping(dev, probe["ping_url"])
        with page.expect_request(re.compile(r"/api/v3/checks/$")):
            page.clock.fast_forward(30_000)
        expect(page.locator("tr", has_text="zz-probe").locator(".status")).to_have_text("up")
        expect(page.get_by_label("Tag", exact=True)).to_have_value("ops")
        assert [name for name, _ in rows(page)] == [
            "sync-mirror",
            "rotate-logs",
            "zz-probe",
            "archive-s3",
        ]
    finally:
        _api(dev, "DELETE", f"checks/{probe['uuid']}")

    # And a status button in the summary filters too
    page.get_by_label("Tag", exact=True).select_option("")
    page.locator("#summary button", has_text="late").click()
    assert rows(page) == [("nightly-report", "late")]
    expect(page.locator("#summary button", has_text="late")).to_have_attribute(
        "aria-pressed", "true"
    )
    watched.assert_clean()


def test_check_view_shows_schedule_stats_runs_output_uptime_and_ping_urls(
    watched: Watched, dev: DevServer
) -> None:
    # Given the overview
    page = open_dashboard(watched)

    # When the user clicks the failed check's row
    page.locator("tr", has_text="backup-db").locator("td[data-label='Last ping']").click()

    # Then the check view shows the schedule in words and its 7-day figures
    expect(page.get_by_role("heading", level=2)).to_have_text("backup-db")
    expect(page).to_have_url(re.compile(r"#check/[0-9a-f-]{36}$"))
    facts = page.locator("dl.facts")
    expect(facts.locator("dd").first).to_have_text("every 1 h, grace 10 min")
    expect(facts.locator("dt:text-is('Run duration') + dd")).to_have_text(
        "at most 10 min, else a failure"
    )
    stats = page.locator("#week-stats")
    expect(stats.locator("div", has_text="Success rate").locator("dd")).to_have_text("50 %")
    expect(stats.locator("div", has_text="Runs").locator("dd")).to_have_text("2 (1 failed)")
    for percentile in ("p50", "p95"):
        expect(stats.locator("div", has_text=percentile).locator("dd")).to_have_text(
            re.compile(r"^(\d+ ms|\d+\.\d s)$")
        )
    # And the runs, newest first, with exit codes and kinds
    runs = page.locator("table.runs tbody tr.run-row")
    expect(runs).to_have_count(2)
    expect(runs.locator("td[data-label='Exit code']")).to_have_text(["1", "0"])
    expect(runs.locator("td[data-label='Kind']")).to_have_text(["failure", "success"])
    expect(runs.first.locator("td[data-label='Start'] time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-")
    )
    expect(runs.first.locator("td[data-label='Finish'] time")).to_have_text(
        re.compile(r"^\d\d:\d\d:\d\d$")
    )
    expect(runs.locator("td[data-label='Duration']")).to_have_text(
        [re.compile(r"^(\d+ ms|\d+\.\d s)$")] * 2
    )

    # When the user asks for the failed run's output
    show = runs.first.get_by_role("button", name="Show output")
    show.click()
    # Then the body the job sent is shown
    expect(page.locator("pre.output")).to_have_text(FAILED_OUTPUT + "\n")
    expect(runs.first.get_by_role("button", name="Hide output")).to_have_attribute(
        "aria-expanded", "true"
    )

    # And the uptime timeline counts the outage
    expect(page.locator("svg.timeline")).to_have_attribute(
        "aria-label", re.compile(r"^Uptime over the last 7 days: .* 1 outage$")
    )
    # And the ping URLs and a `cronbeat run` line are ready to copy
    check_uuid = page.url.rsplit("/", 1)[1]
    expect(page.get_by_label("Success", exact=True)).to_have_value(
        f"{dev.base_url}/ping/{check_uuid}"
    )
    expect(page.get_by_label("Failure", exact=True)).to_have_value(
        f"{dev.base_url}/ping/{check_uuid}/fail"
    )
    expect(page.get_by_label("cronbeat run", exact=True)).to_have_value(
        f"cronbeat run --url {dev.base_url} --uuid {check_uuid} -- /path/to/job"
    )

    # When the user goes to the cron check
    page.get_by_role("link", name="← All checks").click()
    page.get_by_role("link", name="rotate-logs").click()
    # Then its schedule reads as cron, with its time zone
    expect(page.get_by_role("heading", level=2)).to_have_text("rotate-logs")
    expect(page.locator("dl.facts dd").first).to_have_text(
        "At 02:00 (0 2 * * *) Europe/Riga, grace 10 min"
    )
    watched.assert_clean()


def test_week_figures_count_every_run_of_a_busy_check(watched: Watched) -> None:
    # Given a check with more pings than the API lists by default
    page = open_dashboard(watched)

    # When the user opens it
    page.get_by_role("link", name="ingest-events").click()

    # Then the 7-day figures count all its runs, and need no note on how far back they reach
    stats = page.locator("#week-stats")
    expect(stats.locator("div", has_text="Runs").locator("dd")).to_have_text(
        f"{BUSY_RUNS} (1 failed)"
    )
    expect(stats.locator("div", has_text="Success rate").locator("dd")).to_have_text("98.3 %")
    expect(page.locator("#week-note")).to_have_count(0)
    # And the runs table starts with the newest entries, the rest a click away
    expect(page.locator("table.runs tbody tr.run-row")).to_have_count(25)
    expect(page.get_by_role("button", name=f"Show all {BUSY_RUNS + 1} entries")).to_be_visible()
    watched.assert_clean()


def test_keyboard_alone_opens_a_check_and_comes_back(watched: Watched) -> None:
    # Given the overview
    page = open_dashboard(watched)

    # When the user tabs to the first check and presses Enter
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('check-link')"):
            break
    focused = page.locator(":focus")
    expect(focused).to_have_text("backup-db")
    # Then the focus is visible
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2)).to_have_text("backup-db")
    expect(page.get_by_role("heading", level=2)).to_be_focused()

    # When the user tabs back to the link to all checks and presses Enter
    page.keyboard.press("Shift+Tab")
    expect(page.locator(":focus")).to_have_text("← All checks")
    page.keyboard.press("Enter")
    # Then the overview is back, with the focus on the check they came from
    expect(page.locator("#checks")).to_be_visible()
    expect(page.locator(":focus")).to_have_text("backup-db")
    watched.assert_clean()


def test_a_read_only_key_is_enough(watched: Watched) -> None:
    # Given a read-only key
    page = open_dashboard(watched, RO_KEY)

    # Then the same rows show
    assert rows(page) == EXPECTED_ORDER
    # And a check's runs and output open, while the ping URL stays hidden
    page.get_by_role("link", name="backup-db").click()
    runs = page.locator("table.runs tbody tr.run-row")
    expect(runs).to_have_count(2)
    runs.first.get_by_role("button", name="Show output").click()
    expect(page.locator("pre.output")).to_have_text(FAILED_OUTPUT + "\n")
    expect(page.get_by_text("This key is read-only")).to_be_visible()
    expect(page.get_by_label("Success", exact=True)).to_have_count(0)
    watched.assert_clean()


def test_an_alert_link_opens_its_check_with_a_read_only_key(
    watched: Watched, dev: DevServer
) -> None:
    # Given an alert's link to a check, <base>/#check/<uuid>, and only the read-only key,
    # under which the API names checks by unique_key
    uuids = {c["name"]: c["uuid"] for c in _api(dev, "GET", "checks/")["checks"]}
    # When the user follows it and pastes the read-only key
    page = submit_key(watched, RO_KEY, at=f"/#check/{uuids['backup-db']}")

    # Then that check's view opens, under its unique_key, with its runs
    expect(page.get_by_role("heading", level=2)).to_have_text("backup-db")
    expect(page).to_have_url(re.compile(f"#check/{unique_key(uuids['backup-db'])}$"))
    expect(page.locator("table.runs tbody tr.run-row")).to_have_count(2)

    # When another alert link is opened in the same tab
    page.goto(f"{watched.origin}/#check/{uuids['rotate-logs'].upper()}")
    # Then that check opens too
    expect(page.get_by_role("heading", level=2)).to_have_text("rotate-logs")
    expect(page).to_have_url(re.compile(f"#check/{unique_key(uuids['rotate-logs'])}$"))
    # And a uuid that names no check is still not found
    page.goto(f"{watched.origin}/#check/{uuid.uuid4()}")
    expect(page.get_by_role("heading", level=2)).to_have_text("Check not found")
    # (the browser itself logs the 404s of that id's pings and flips; nothing else may be logged)
    watched.assert_clean(allowed_errors=("status of 404",))


def test_the_key_stays_in_the_tab_and_goes_only_in_a_header(watched: Watched) -> None:
    # Given the user pasted the key once and opened a check
    page = open_dashboard(watched)
    page.get_by_role("link", name="backup-db").click()
    expect(page.locator("table.runs tbody tr.run-row")).to_have_count(2)

    # When the tab is reloaded
    with page.expect_request(re.compile(r"/api/v3/checks/$")) as listing:
        page.reload()
    # Then the check view comes back without asking for the key again
    expect(page.get_by_role("heading", level=2)).to_have_text("backup-db")
    # And the key went in the X-Api-Key header, and lives only in this tab's session storage
    assert listing.value.headers.get("x-api-key") == RW_KEY
    assert page.evaluate("sessionStorage.getItem('cronbeat.apiKey')") == RW_KEY
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    # And never in a URL (assert_clean looks at every request)
    watched.assert_clean()


def test_a_wrong_key_is_refused_and_the_form_comes_back(watched: Watched) -> None:
    # Given the key form, When the user pastes a key the API does not know
    page = submit_key(watched, "x" * 32)

    # Then the form says so, and the key is not kept
    expect(page.get_by_role("alert")).to_have_text(
        "The API refused this key: wrong api key.", use_inner_text=True
    )
    assert page.evaluate("sessionStorage.getItem('cronbeat.apiKey')") is None
    # (the browser itself logs the 401 response; nothing else may be logged)
    watched.assert_clean(allowed_errors=("status of 401",))


def test_a_key_of_the_wrong_length_is_named_as_such_and_not_sent(watched: Watched) -> None:
    # Given the key form, When the user pastes a key with a character missing
    page = submit_key(watched, "x" * 31)
    # Then the form says how long a key is, rather than the API's "missing api key"
    expect(page.get_by_role("alert")).to_have_text(
        "An API key is 32 characters; this one has 31.", use_inner_text=True
    )
    assert page.evaluate("sessionStorage.getItem('cronbeat.apiKey')") is None
    # And nothing was sent to the API, and nothing went wrong in the page
    assert [url for url in watched.requests if "/api/" in url] == []
    assert watched.errors == []


def test_fits_a_phone_screen(watched: Watched) -> None:
    # Given a phone-width screen
    watched.page.set_viewport_size({"width": 390, "height": 844})
    page = open_dashboard(watched)

    # Then nothing scrolls sideways and each row still says its status in words
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("tr", has_text="backup-db").locator(".status")).to_be_visible()
    expect(page.locator("tr", has_text="backup-db").locator(".status")).to_have_text("down")
    # And the check view too
    page.get_by_role("link", name="ingest-events").click()
    expect(page.locator("table.runs tbody tr.run-row")).to_have_count(25)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    watched.assert_clean()


def test_channels_view_marks_failing_channels_with_their_error(
    watched: Watched, dev: DevServer, alerted: Alerted
) -> None:
    # Given a failure alerted to three webhooks, answering 200, 404 and 500,
    # and a test alert sent to the healthy one
    pager = alerted.channels["pager-hook"]
    _api(dev, "POST", f"channels/{pager}/test", {})

    def sent_test_alert() -> bool:
        listed = _api(dev, "GET", f"channels/{pager}/deliveries/")["deliveries"]
        return [(d["check"] is None, d["state"]) for d in listed] == [
            (True, "sent"),
            (False, "sent"),
        ]

    poll(sent_test_alert, "the test alert is sent", SETTLE_S)
    page = submit_key(watched, RW_KEY)

    # When the user follows the header's Channels link with the keyboard
    link = page.get_by_role("link", name=re.compile(r"^Channels"))
    # (which already counts the failing channels)
    expect(link).to_have_text("Channels 2 failing")
    link.focus()
    page.keyboard.press("Enter")

    # Then the Channels view lists every channel, failing ones first
    heading = page.get_by_role("heading", level=2)
    expect(heading).to_have_text("Channels")
    expect(heading).to_be_focused()
    expect(page).to_have_url(re.compile(r"#channels$"))
    expect(link).to_have_attribute("aria-current", "page")
    channel_rows = page.locator("#channel-table tr.channel-row")
    expect(channel_rows.locator(".channel-name > span:first-child")).to_have_text(
        ["flaky-relay", "old-intranet", "pager-hook"]
    )
    expect(channel_rows.locator("td[data-label='Kind']")).to_have_text(["webhook"] * 3)
    # And the 404 one is marked failing, in words, with its error and when it happened
    intranet = channel_rows.filter(has_text="old-intranet")
    expect(intranet.locator(".badge.failing")).to_have_text("failing")
    last = intranet.locator("td[data-label='Last delivery']")
    expect(last.locator(".dl-state")).to_have_text("failed")
    expect(last.locator(".delivery-error")).to_have_text("HTTP 404")
    expect(last.locator("time")).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d "))
    # And the 500 one, still being retried, is failing too
    relay = channel_rows.filter(has_text="flaky-relay")
    expect(relay.locator(".badge.failing")).to_have_text("failing")
    expect(relay.locator(".dl-state")).to_have_text("retrying")
    expect(relay.locator(".delivery-error")).to_have_text("HTTP 500")
    # And the healthy one is not
    healthy = channel_rows.filter(has_text="pager-hook")
    expect(healthy.locator(".dl-state")).to_have_text("sent")
    expect(healthy.locator(".failing")).to_have_count(0)
    expect(healthy.locator(".delivery-error")).to_have_count(0)

    # When the user shows the healthy channel's deliveries
    show = healthy.locator("button.show-deliveries")
    expect(show).to_have_accessible_name("Show deliveries of pager-hook")
    show.click()
    # Then its test alert and the check's alert are listed, newest first
    expect(show).to_have_attribute("aria-expanded", "true")
    expect(show).to_have_accessible_name("Hide deliveries of pager-hook")
    panel = page.locator(f"#{show.get_attribute('aria-controls')}")
    sent = panel.locator("tr.delivery-row")
    expect(sent.locator("td[data-label='Check']")).to_have_text(["test alert", ALERTED])
    expect(sent.locator("td[data-label='State']")).to_have_text(["sent", "sent"])
    expect(sent.locator("td[data-label='Status code']")).to_have_text(["200", "200"])

    # When the user shows the 404 channel's deliveries
    intranet.get_by_role("button", name="Show deliveries of old-intranet").click()
    # Then its one delivery says what went wrong, and which check it alerted
    failed = page.locator(f"#deliveries-{alerted.channels['old-intranet']} tr.delivery-row")
    expect(failed).to_have_count(1)
    expect(failed.locator("td[data-label='State']")).to_have_text("failed")
    expect(failed.locator("td[data-label='Attempts']")).to_have_text("1")
    expect(failed.locator("td[data-label='Status code']")).to_have_text("404")
    expect(failed.locator("td[data-label='Error']")).to_have_text("HTTP 404")
    expect(failed.locator("td[data-label='Alert time'] time")).to_have_count(1)
    # And the page still fits a phone screen with both lists open
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 800})

    # When the user follows the link to that check
    failed.get_by_role("link", name=ALERTED).click()
    # Then the check's page opens
    expect(page.get_by_role("heading", level=2)).to_have_text(ALERTED)
    expect(page).to_have_url(re.compile(f"#check/{alerted.check['uuid']}$"))
    watched.assert_clean()


def test_check_view_lists_each_alerts_deliveries(watched: Watched, alerted: Alerted) -> None:
    # Given a check whose failure was alerted to the SNS topic and three webhooks
    page = submit_key(watched, RW_KEY, at=f"/#check/{alerted.check['uuid']}")
    expect(page.get_by_role("heading", level=2)).to_have_text(ALERTED)

    # When the user opens its status changes
    page.get_by_text("Status changes (2)").click()

    # Then the failure lists each target by name with its state, attempts and last error
    flips = page.locator("details table tbody tr")
    expect(flips.locator("td[data-label='Why']")).to_have_text(["failure reported", "first ping"])
    alerts = flips.first.locator("td[data-label='Alerts'] li")
    expect(alerts.locator(".dl-target")).to_have_text(
        ["SNS topic", "flaky-relay", "old-intranet", "pager-hook"]
    )
    expect(alerts.locator(".dl-state")).to_have_text(["sent", "retrying", "failed", "sent"])
    expect(alerts.locator(".dl-attempts")).to_have_text(
        ["1 attempt", re.compile(r"^\d attempts?$"), "1 attempt", "1 attempt"]
    )
    expect(alerts.filter(has_text="old-intranet").locator(".delivery-error")).to_have_text(
        "HTTP 404"
    )
    expect(alerts.filter(has_text="flaky-relay").locator(".delivery-error")).to_have_text(
        "HTTP 500"
    )
    expect(alerts.filter(has_text="pager-hook").locator(".delivery-error")).to_have_count(0)
    # And the retried one says when its next attempt is due
    expect(alerts.filter(has_text="flaky-relay").locator("time")).to_have_count(1)
    # And the first ping, which alerts no one, says so
    expect(flips.nth(1).locator("td[data-label='Alerts']")).to_have_text("not alerted")
    watched.assert_clean()


SHOTS = {
    "down": ROOT / "docs" / "dashboard-down-check.png",
    "form": ROOT / "docs" / "dashboard-new-check.png",
    "channels": ROOT / "docs" / "dashboard-channels.png",
}


def _shoot(page: Page, name: str, tmp_path: Path) -> None:
    """A PNG of the page as it is; copied into docs/ by `make dashboard-screenshot`."""
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("CRONBEAT_UPDATE_SCREENSHOT"):
        SHOTS[name].write_bytes(shot.read_bytes())


def test_screenshots_of_a_down_check_the_new_check_form_and_the_channels(
    watched: Watched, alerted: Alerted, tmp_path: Path
) -> None:
    page = submit_key(watched, RW_KEY)
    expect(page.locator("#checks tbody tr")).to_have_count(len(EXPECTED_ORDER) + 1)
    # A down check: the headline says since when and why
    page.get_by_role("link", name="backup-db").click()
    expect(page.locator("#why")).to_contain_text("exited with status 1")
    expect(page.locator("table.runs tbody tr.run-row")).to_have_count(2)
    _shoot(page, "down", tmp_path)
    # The new-check form, with a cron schedule previewed in words
    page.goto(f"{watched.origin}/#new")
    page.get_by_label("Name").fill("weekly vacuum")
    page.get_by_label("On a cron schedule").check()
    page.get_by_label("Schedule", exact=True).fill("0 4 * * sun")
    page.get_by_label("Time zone").fill("Europe/Riga")
    expect(page.locator("#cf-preview li")).to_have_count(5)
    expect(page.locator("#cf-preview")).to_contain_text("At 04:00, only on Sunday")
    _shoot(page, "form", tmp_path)
    # The channels, failing ones first, with the checks each serves
    page.goto(f"{watched.origin}/#channels")
    expect(page.locator("tr.channel-row")).to_have_count(len(WEBHOOKS))
    expect(page.locator("tr.channel-row").first).to_contain_text(ALERTED)
    _shoot(page, "channels", tmp_path)
    watched.assert_clean()
