"""`cronbeat checks mute/unmute` and `--maintenance` against the real server, `cronbeat dev`."""

from __future__ import annotations

import re

from tests.e2e.devserver import DevServer
from tests.e2e.test_cli_manage import as_json, checks_by_slug, cronbeat, ok, refused


def test_maintenance_windows_and_a_mute_from_the_terminal(dev: DevServer) -> None:
    # When a check is added with two maintenance windows, one with a cron step
    windows = ("--maintenance", "0 2 * * 0/1h", "--maintenance", "*/30 3 * * 1-5/10m")
    ok(cronbeat(dev, "checks", "add", "etl", "--period", "1h", "--slug", "etl", *windows))
    # Then the check has both, split at each one's last slash
    assert checks_by_slug(dev)["etl"]["maintenance"] == [
        {"schedule": "0 2 * * 0", "duration": 3600},
        {"schedule": "*/30 3 * * 1-5", "duration": 600},
    ]
    table = ok(cronbeat(dev, "checks", "show", "etl")).stdout
    assert re.search(r"^maintenance +0 2 \* \* 0 for 1 h$", table, re.M)
    # When it is muted for two hours
    muted = ok(cronbeat(dev, "checks", "mute", "etl", "2h")).stdout
    # Then it says until when, and the check shows it
    shown = checks_by_slug(dev)["etl"]
    assert shown["muted"] is True
    assert muted == f"muted etl until {shown['muted_until']}\n"
    assert (
        f"muted until  {shown['muted_until']}" in ok(cronbeat(dev, "checks", "show", "etl")).stdout
    )
    # When it is unmuted and its windows removed
    ok(cronbeat(dev, "checks", "unmute", "etl"))
    ok(cronbeat(dev, "checks", "edit", "etl", "--no-maintenance"))
    # Then neither is left
    after = as_json(cronbeat(dev, "checks", "show", "etl", "--json"))
    assert (after["muted"], after["muted_until"], after["maintenance"]) == (False, None, [])


def test_bad_mutes_and_windows_are_one_line_and_status_2(dev: DevServer) -> None:
    # Given a check
    ok(cronbeat(dev, "checks", "add", "etl", "--period", "1h", "--slug", "etl"))
    # Then a window without a duration, a bad duration, a window the server refuses, a bad
    # mute length and one past 31 days are each refused in one line
    assert "CRON/DURATION" in refused(
        cronbeat(dev, "checks", "edit", "etl", "--maintenance", "0 2")
    )
    assert "not a duration" in refused(
        cronbeat(dev, "checks", "edit", "etl", "--maintenance", "0 2 * * */soon")
    )
    assert "is not shorter than" in refused(
        cronbeat(dev, "checks", "edit", "etl", "--maintenance", "0 * * * */2h")
    )
    assert "not a duration" in refused(cronbeat(dev, "checks", "mute", "etl", "soon"))
    assert "seconds is too large" in refused(cronbeat(dev, "checks", "mute", "etl", "40d"))
    assert "do not go together" in refused(
        cronbeat(dev, "checks", "edit", "etl", "--no-maintenance", "--maintenance", "0 2 * * */1h")
    )
    # And the check is unchanged
    shown = checks_by_slug(dev)["etl"]
    assert (shown["muted"], shown["maintenance"]) == (False, [])
