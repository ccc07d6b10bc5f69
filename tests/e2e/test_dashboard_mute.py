"""Muting a check and editing its maintenance windows from the dashboard, in headless Chromium
against `cronbeat dev`; every result is checked through the API too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import test_dashboard_manage as manage
from tests.e2e.devserver import DevServer
from tests.e2e.test_dashboard import Watched
from tests.e2e.test_dashboard_manage import REFUSED, api, checks, open_page

# The browser, the dev server and the clean monitor of the management tests, shared as they are.
browser, dev, empty_monitor, watched = (
    manage.browser,
    manage.dev,
    manage.empty_monitor,
    manage.watched,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_mute_for_an_hour_shows_until_when_and_unmute_ends_it(
    watched: Watched, dev: DevServer
) -> None:
    # Given a check, opened from the overview
    api(dev, "POST", "checks/", {"name": "etl", "timeout": 3600})
    page = open_page(watched)
    page.get_by_role("link", name="etl").click()
    expect(page.get_by_role("heading", name="etl")).to_be_visible()
    # When it is muted for an hour
    page.get_by_role("button", name="Mute 1 h").click()
    # Then its page says until when, and the API has it muted
    note = page.locator(".detail-head .mute-note")
    expect(note).to_have_text(re.compile(r"^muted until (\d{4}-\d\d-\d\d )?\d\d:\d\d$"))
    assert checks(dev)["etl"]["muted"] is True
    # And its row in the overview is marked too
    page.get_by_role("link", name="Checks", exact=True).click()
    expect(page.locator("#checks tbody .mute-note")).to_have_count(1)
    # When it is unmuted from its page
    page.get_by_role("link", name="etl").click()
    page.get_by_role("button", name="Unmute").click()
    # Then the mark is gone and the API agrees
    expect(page.get_by_role("button", name="Mute 1 h")).to_be_visible()
    expect(note).to_have_count(0)
    assert checks(dev)["etl"]["muted"] is False
    watched.assert_clean()


def test_maintenance_windows_are_edited_in_the_advanced_settings(
    watched: Watched, dev: DevServer
) -> None:
    # Given a check, and its edit form
    created = api(dev, "POST", "checks/", {"name": "etl", "timeout": 3600})
    page = open_page(watched)
    page.goto(f"{watched.origin}/#check/{created['uuid']}/edit")
    page.get_by_text("Advanced settings").click()
    windows = page.get_by_label("Maintenance windows")
    # When a window the server refuses is saved
    windows.fill("0 * * * */2h")
    page.get_by_role("button", name="Save changes").click()
    # Then the refusal shows by the field, and nothing changed
    expect(page.locator("#cf-maintenance-error")).to_contain_text("is not shorter than")
    assert checks(dev)["etl"]["maintenance"] == []
    # When two good windows are saved
    windows.fill("0 2 * * 0/1h\n*/30 3 * * 1-5/10m")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="etl")).to_be_visible()
    # Then the API has both, and the form shows them again
    assert checks(dev)["etl"]["maintenance"] == [
        {"schedule": "0 2 * * 0", "duration": 3600},
        {"schedule": "*/30 3 * * 1-5", "duration": 600},
    ]
    page.get_by_role("button", name="Edit").click()
    page.get_by_text("Advanced settings").click()
    expect(windows).to_have_value("0 2 * * 0/1h\n*/30 3 * * 1-5/10m")
    watched.assert_clean(allowed_errors=(REFUSED,))
