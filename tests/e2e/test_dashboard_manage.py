"""Running the monitor from the dashboard in a real headless Chromium against `cronbeat dev`:
checks and channels made, changed and deleted through the forms, refused forms, the read-only
key's page without controls, and the headline that says why a check is down. Every result is
checked through the API too."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.devserver import ROOT, DevServer, poll, start
from tests.e2e.test_dashboard import CHROMIUM, LAUNCH_ARGS, RO_KEY, RW_KEY, Watched

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SCREENSHOTS = ROOT / "docs"
REFUSED = "the server responded with a status of 400"
"""What Chromium logs for every fetch the API answers with 400: a refusal the page shows."""


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    server = start(
        *("--min-period", "1", "--sweep-seconds", "1"),
        *("--api-key", RW_KEY, "--read-only-key", RO_KEY),
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def empty_monitor(dev: DevServer) -> Iterator[None]:
    """Each test starts with no checks and no channels, and leaves none."""
    yield
    for check in api(dev, "GET", "checks/")["checks"]:
        api(dev, "DELETE", f"checks/{check['uuid']}")
    for channel in api(dev, "GET", "channels/")["channels"]:
        api(dev, "DELETE", f"channels/{channel['id']}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: these tests drive Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def watched(browser: Browser, dev: DevServer) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Watched(page, dev.base_url)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("request", lambda request: seen.requests.append(request.url))
    yield seen
    context.close()


def api(dev: DevServer, method: str, path: str, body: Any = None) -> Any:
    reply = dev.api(method, path, body)
    assert 200 <= reply.status < 300, f"{method} {path}: {reply.status} {reply.text}"
    return reply.json()


def checks(dev: DevServer) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in api(dev, "GET", "checks/")["checks"]}


def open_page(seen: Watched, key: str = RW_KEY) -> Page:
    page = seen.page
    page.goto(seen.origin + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Checks")).to_be_visible()
    return page


def test_create_a_simple_and_a_cron_check_edit_pause_resume_and_delete(
    watched: Watched, dev: DevServer
) -> None:
    page = open_page(watched)
    # When a simple check is made through the form
    page.get_by_role("button", name="New check").click()
    page.get_by_label("Name").fill("nightly backup")
    page.get_by_label("Slug").fill("backup")
    page.get_by_label("Tags").fill("prod db")
    page.get_by_label("Period", exact=True).fill("1h")
    page.get_by_label("Grace").fill("10m")
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Max runtime").fill("2h")
    page.get_by_label("Failure threshold").fill("2")
    page.get_by_role("button", name="Create check").click()
    # Then its page opens, and the API has it as given
    expect(page.get_by_role("heading", name="nightly backup")).to_be_visible()
    backup = checks(dev)["nightly backup"]
    assert (backup["slug"], backup["tags"], backup["timeout"], backup["grace"]) == (
        "backup",
        "prod db",
        3600,
        600,
    )
    assert (backup["max_runtime"], backup["failure_threshold"]) == (7200, 2)
    # When a cron check is made, the form previews its schedule in words and its next runs
    page.get_by_role("link", name="Checks", exact=True).click()
    page.get_by_role("button", name="New check").click()
    page.get_by_label("Name").fill("weekday report")
    page.get_by_label("On a cron schedule").check()
    page.get_by_label("Schedule", exact=True).fill("30 9 * * mon-fri")
    page.get_by_label("Time zone").fill("Asia/Tokyo")
    preview = page.locator("#cf-preview")
    expect(preview).to_contain_text("At 09:30, Monday through Friday")
    expect(preview.locator("li")).to_have_count(5)
    page.get_by_role("button", name="Create check").click()
    expect(page.get_by_role("heading", name="weekday report")).to_be_visible()
    report = checks(dev)["weekday report"]
    assert (report["schedule"], report["tz"], report["grace"]) == (
        "30 9 * * mon-fri",
        "Asia/Tokyo",
        3600,
    )
    # When it is edited, the form holds its settings, and the change is saved
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_label("Schedule", exact=True)).to_have_value("30 9 * * mon-fri")
    page.get_by_label("Grace").fill("30m")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="weekday report")).to_be_visible()
    assert checks(dev)["weekday report"]["grace"] == 1800
    # When it is paused and resumed
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert checks(dev)["weekday report"]["status"] == "paused"
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert checks(dev)["weekday report"]["status"] == "new"
    # When it is deleted, a confirmation comes first; cancelling keeps it
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the check weekday report?")
    dialog.get_by_role("button", name="Cancel").click()
    assert "weekday report" in checks(dev)
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    # Then it is gone from the overview and the API
    expect(page.locator("#checks tbody .check-link")).to_have_text(["nightly backup"])
    assert set(checks(dev)) == {"nightly backup"}
    watched.assert_clean()


def test_a_refused_form_keeps_the_input_and_shows_the_message_by_the_field(
    watched: Watched, dev: DevServer
) -> None:
    page = open_page(watched)
    page.get_by_role("button", name="New check").click()
    page.get_by_label("Name").fill("bad schedule")
    page.get_by_label("On a cron schedule").check()
    page.get_by_label("Schedule", exact=True).fill("61 * * * *")
    # The preview says it is not a schedule before anything is sent
    expect(page.locator("#cf-preview")).to_contain_text("not a valid schedule")
    page.get_by_role("button", name="Create check").click()
    # Then the API's message sits by the field, the input is kept, and nothing was made
    schedule = page.get_by_label("Schedule", exact=True)
    expect(page.locator("#cf-schedule-error")).to_contain_text("json validation error: schedule")
    expect(schedule).to_have_value("61 * * * *")
    expect(schedule).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("bad schedule")
    # And a duration the page cannot read is named before sending
    page.get_by_label("Every period").check()
    page.get_by_label("Period", exact=True).fill("soon")
    page.get_by_role("button", name="Create check").click()
    expect(page.locator("#cf-period-error")).to_have_text("not a duration: try 90s, 10m, 2h or 1d")
    assert checks(dev) == {}
    # The refused requests are the only console errors (the browser logs every 400 it gets)
    watched.assert_clean(allowed_errors=(REFUSED,))


class Receiver:
    """A webhook receiver on 127.0.0.1: the bodies it got."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.close()


def test_add_a_webhook_send_a_test_alert_edit_and_delete_it(
    watched: Watched, dev: DevServer, receiver: Receiver
) -> None:
    api(dev, "POST", "checks/", {"name": "served", "timeout": 3600})
    page = open_page(watched)
    page.get_by_role("link", name="Channels").click()
    # When a webhook channel is added through the form
    page.get_by_role("button", name="New channel").click()
    expect(page.get_by_label("Kind")).to_have_value("webhook")
    page.get_by_label("Name").fill("ops hook")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("button", name="Add channel").click()
    # Then the list shows it on the existing check, and its signing secret once
    row = page.locator("tr.channel-row", has_text="ops hook")
    expect(row).to_contain_text("served")
    secret = page.get_by_role("textbox", name="Signing secret")
    expect(secret).to_have_value(re.compile(r"^\S{32,}$"))
    [channel] = api(dev, "GET", "channels/")["channels"]
    assert (channel["name"], channel["kind"]) == ("ops hook", "webhook")
    assert checks(dev)["served"]["channels"] == channel["id"]
    # When a test alert is sent
    page.get_by_role("button", name="Send test to ops hook").click()
    poll(lambda: len(receiver.bodies) == 1, "the test alert arrives", 30)
    assert receiver.bodies[0]["reason"] == "test"
    poll(
        lambda: (
            (api(dev, "GET", f"channels/{channel['id']}")["last_delivery"] or {}).get("state")
            == "sent"
        ),
        "the test delivery is recorded as sent",
        30,
    )
    page.get_by_role("button", name="Refresh now").click()
    expect(row).to_contain_text("sent")
    # When it is renamed (its URL, a secret, left blank so it stays)
    page.get_by_role("button", name="Edit ops hook").click()
    expect(page.get_by_label("URL")).to_have_attribute("placeholder", "unchanged")
    page.get_by_label("Name").fill("pager hook")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("tr.channel-row", has_text="pager hook")).to_be_visible()
    [renamed] = api(dev, "GET", "channels/")["channels"]
    assert (renamed["id"], renamed["name"]) == (channel["id"], "pager hook")
    # When it is deleted, after the confirmation
    page.get_by_role("button", name="Delete pager hook").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tr.channel-row")).to_have_count(0)
    assert api(dev, "GET", "channels/")["channels"] == []
    watched.assert_clean()


def test_a_channel_form_shows_the_kinds_settings_and_the_apis_refusal(
    watched: Watched, dev: DevServer
) -> None:
    page = open_page(watched)
    page.get_by_role("link", name="Channels").click()
    page.get_by_role("button", name="New channel").click()
    # When the kind changes, the form asks for that kind's settings
    page.get_by_label("Kind").select_option("pagerduty")
    expect(page.get_by_label("Routing key")).to_be_visible()
    expect(page.get_by_label("Severity")).to_be_visible()
    page.get_by_label("Kind").select_option("email")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Add channel").click()
    # Then the API's refusal is shown by the field, and nothing was made
    expect(page.locator("#ch-address-error")).to_contain_text("address")
    expect(page.get_by_label("Email address")).to_have_value("not an address")
    assert api(dev, "GET", "channels/")["channels"] == []
    watched.assert_clean(allowed_errors=(REFUSED,))


def test_a_read_only_key_gets_no_controls_at_all(watched: Watched, dev: DevServer) -> None:
    made = api(dev, "POST", "checks/", {"name": "watched", "timeout": 3600})
    api(dev, "POST", "channels/", {"kind": "webhook", "name": "hook", "url": "http://127.0.0.1:9/"})
    page = open_page(watched, RO_KEY)
    expect(page.locator("#checks tbody .check-link")).to_have_text(["watched"])
    expect(page.get_by_role("button", name="New check")).to_have_count(0)
    page.get_by_role("link", name="watched").click()
    expect(page.get_by_role("heading", name="watched")).to_be_visible()
    for name in ("Edit", "Pause", "Resume", "Delete"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    page.get_by_role("link", name="Channels").click()
    expect(page.locator("tr.channel-row", has_text="hook")).to_be_visible()
    for name in ("New channel", "Send test to hook", "Edit hook", "Delete hook"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    # And the form's URL says so instead of offering a form that would fail
    page.goto(f"{watched.origin}/#new")
    expect(page.get_by_role("heading", name="Read-only key")).to_be_visible()
    expect(page.locator("form#check-form")).to_have_count(0)
    assert checks(dev)["watched"]["uuid"] == made["uuid"]
    watched.assert_clean()


def test_a_down_check_says_why_and_since_when_on_its_page_and_in_its_row(
    watched: Watched, dev: DevServer
) -> None:
    # Given a check whose run exited 137 after a start
    made = api(dev, "POST", "checks/", {"name": "killed job", "timeout": 3600, "grace": 60})
    dev.ping(f"{made['uuid']}/start")
    dev.ping(f"{made['uuid']}/137")
    poll(lambda: checks(dev)["killed job"]["status"] == "down", "the check goes down", 30)
    page = open_page(watched)
    # Then its overview row and its page say why, with the exact time
    why = page.locator("#checks tbody tr", has_text="killed job").locator(".why")
    expect(why).to_have_text(
        re.compile(r"^Down since \d\d:\d\d \(\d+ s\): exited with status 137 after [\d.]+ m?s$")
    )
    page.get_by_role("link", name="killed job").click()
    expect(page.locator("#why")).to_contain_text("exited with status 137")
    watched.assert_clean()
