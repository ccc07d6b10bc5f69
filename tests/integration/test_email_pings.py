"""Pings by email end to end: SES's notification through the ping function, on moto."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from cronbeat.handlers.ping import handler
from tests.conftest import Aws
from tests.integration.api_requests import Api, LambdaContext
from tests.integration.ping_requests import PING_KEY, set_ping_key

SAMPLE = Path(__file__).parents[2] / "events" / "ses_email_ping.json"


def mail_to(*recipients: str, virus: str = "PASS") -> dict[str, Any]:
    """The sample event, delivered to `recipients`."""
    event: dict[str, Any] = json.loads(SAMPLE.read_text())
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["receipt"]["recipients"] = list(recipients)
    message["receipt"]["virusVerdict"] = {"status": virus}
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    event["Records"][0]["Sns"]["MessageId"] = str(uuid.uuid4())  # SNS's: one per message
    return event


def test_a_mail_pings_its_check_through_the_subject_filter(api: Api) -> None:
    # Given a check whose subject filter fails on "FAILED", as Healthchecks.io's subject_fail
    check = api.create(name="backup", timeout=3600, subject="OK", subject_fail="FAILED")
    # When cron's mail about a failed run arrives at <uuid>@domain
    reply = handler(mail_to(f"{check['uuid']}@mon.example.com"), LambdaContext())
    # Then the check is down, and its ping history has the mail as a failure, sent by email
    assert reply == {"pings": 1}
    shown = api.get(f"checks/{check['uuid']}").json()
    assert (shown["status"], shown["n_pings"]) == ("down", 1)
    [ping] = api.get(f"checks/{check['uuid']}/pings/").json()["pings"]
    assert (ping["type"], ping["scheme"], ping["method"]) == ("fail", "email", "")
    assert ping["ua"] == "Email from cron@host.example.com"
    body = api.get(ping["body_url"].split("/api/v3/", 1)[1]).text
    assert "No space left on device" in body
    # And the flip says why
    [flip] = api.get(f"checks/{check['uuid']}/flips/").json()["flips"]
    assert flip["reason"] == "fail"


def test_a_mail_to_a_slug_address_pings_that_check(aws: Aws, api: Api) -> None:
    set_ping_key(aws)
    check = api.create(name="db", slug="nightly-db", timeout=3600)
    assert handler(mail_to(f"{PING_KEY}+nightly-db@mon.example.com"), LambdaContext()) == {
        "pings": 1
    }
    assert api.get(f"checks/{check['uuid']}").json()["status"] == "up"


def test_mail_to_no_check_or_with_a_virus_records_nothing_and_fails_nothing(api: Api) -> None:
    # Given a check
    check = api.create(name="quiet", timeout=3600)
    # When mail arrives for an unknown check, for postmaster, and with a virus for the check
    unknown = handler(
        mail_to("00000000-0000-4000-8000-000000000000@mon.example.com"), LambdaContext()
    )
    postmaster = handler(mail_to("postmaster@mon.example.com"), LambdaContext())
    infected = handler(mail_to(f"{check['uuid']}@mon.example.com", virus="FAIL"), LambdaContext())
    # Then each is handled without an error, and the check has no ping
    assert (unknown, postmaster, infected) == ({"pings": 0},) * 3
    assert api.get(f"checks/{check['uuid']}").json()["n_pings"] == 0


def test_an_unreadable_record_is_dropped_and_the_next_one_still_pings(api: Api) -> None:
    check = api.create(name="next", timeout=3600)
    event = mail_to(f"{check['uuid']}@mon.example.com")
    broken = json.loads(json.dumps(event["Records"][0]))
    broken["Sns"]["Message"] = "not json"
    event["Records"].insert(0, broken)
    assert handler(event, LambdaContext()) == {"pings": 1}
    assert api.get(f"checks/{check['uuid']}").json()["status"] == "up"


def test_an_event_that_is_not_from_sns_is_dropped_without_an_error(api: Api) -> None:
    # Given a check, and an event with records that SNS did not make
    check = api.create(name="untouched", timeout=3600)
    event = {"Records": [{"eventSource": "aws:sqs", "body": f"{check['uuid']}@mon.example.com"}]}
    # When the ping function gets it: Then nothing is pinged, and nothing fails
    assert handler(event, LambdaContext()) == {"pings": 0}
    assert api.get(f"checks/{check['uuid']}").json()["n_pings"] == 0


def test_a_mail_sns_delivers_twice_pings_once(api: Api) -> None:
    # Given a check, and a mail to it that SNS delivers twice (it delivers at least once)
    check = api.create(name="backup", timeout=3600)
    event = mail_to(f"{check['uuid']}@mon.example.com")
    # When both deliveries reach the ping function
    handler(event, LambdaContext())
    handler(event, LambdaContext())
    # Then the check counted one ping, and its history holds one
    assert api.get(f"checks/{check['uuid']}").json()["n_pings"] == 1
    assert len(api.get(f"checks/{check['uuid']}/pings/").json()["pings"]) == 1
    # And another mail is another ping
    handler(mail_to(f"{check['uuid']}@mon.example.com"), LambdaContext())
    assert api.get(f"checks/{check['uuid']}").json()["n_pings"] == 2
