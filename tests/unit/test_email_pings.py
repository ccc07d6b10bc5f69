"""Pings by email: reading SES's notification, and the subject and body filters."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cronbeat.api.email_pings import Unreadable, address_of, read_record, records
from cronbeat.domain.machine import classify, fast_path
from cronbeat.domain.model import Mail, Ping
from cronbeat.service.ping import Address
from tests.unit.checks import make_check

SAMPLE = Path(__file__).parents[2] / "events" / "ses_email_ping.json"
CHECK_ID = "5f1c2a9e-3b7d-4e21-9c4a-8d2e6f0b1a37"


def sample(**changes: Any) -> dict[str, Any]:
    """The sample SNS record, with fields of its SES notification changed."""
    event = json.loads(SAMPLE.read_text())
    record: dict[str, Any] = copy.deepcopy(event["Records"][0])
    message = json.loads(record["Sns"]["Message"])
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = message
        for name in parents:
            node = node[name]
        node[leaf] = value
    record["Sns"]["Message"] = json.dumps(message)
    return record


def test_the_sample_mail_becomes_one_success_ping_for_its_check() -> None:
    # Given the sample notification: a cron mail to <uuid>@mon.example.com
    event = json.loads(SAMPLE.read_text())
    # When it is read
    [mailed] = read_record(records(event)[0], body_limit_bytes=10_000)
    # Then it pings that check, as an email from the sender, with the whole mail as its body
    assert mailed.address == Address(check_id=CHECK_ID)
    assert (mailed.sender.scheme, mailed.sender.ua) == ("email", "Email from cron@host.example.com")
    assert mailed.ping.action == "success"
    assert mailed.ping.method == ""
    assert mailed.ping.body.startswith(b"Return-Path: <cron@host.example.com>")
    # And the filters will read its subject, and its plain and HTML text
    assert mailed.ping.mail is not None
    assert mailed.ping.mail.subject.endswith("FAILED disk full")
    assert "No space left on device" in mailed.ping.mail.text
    assert "<b>" not in mailed.ping.mail.text


def test_the_stored_mail_is_cut_to_the_body_limit() -> None:
    [mailed] = read_record(sample(), body_limit_bytes=100)
    assert len(mailed.ping.body) == 100


def test_each_recipient_that_names_a_check_gets_a_ping() -> None:
    recipients = [f"{CHECK_ID.upper()}@mon.example.com", "key_123+nightly-db@mon.example.com"]
    recipients.append("postmaster@mon.example.com")
    mailed = read_record(sample(receipt__recipients=recipients), body_limit_bytes=10_000)
    assert [m.address for m in mailed] == [
        Address(check_id=CHECK_ID),
        Address(ping_key="key_123", slug="nightly-db"),
    ]


@pytest.mark.parametrize(
    "local", ["", "not-a-uuid", "key+Upper", "key+", "+slug", f"{CHECK_ID}x", "a+b+c"]
)
def test_a_local_part_that_names_no_check_is_none(local: str) -> None:
    assert address_of(f"{local}@mon.example.com") is None


def test_a_mail_with_a_virus_is_dropped() -> None:
    assert read_record(sample(receipt__virusVerdict={"status": "FAIL"}), body_limit_bytes=10) == []


def test_a_mail_sent_as_utf8_is_read_too() -> None:
    raw = "Subject: done\r\n\r\nall good\r\n"
    changed = sample(receipt__action={"type": "SNS", "encoding": "UTF8"}, content=raw)
    [mailed] = read_record(changed, body_limit_bytes=10_000)
    assert mailed.ping.mail == Mail(subject="done", text="all good\r\n")


@pytest.mark.parametrize(
    "changes",
    [
        {"notificationType": "Bounce"},
        {"content": "not base64!"},
        {"receipt__recipients": "one@x"},
    ],
)
def test_a_notification_that_is_not_a_readable_mail_is_unreadable(changes: dict[str, Any]) -> None:
    with pytest.raises(Unreadable):
        read_record(sample(**changes), body_limit_bytes=10)


def test_a_record_that_is_not_json_is_unreadable() -> None:
    record = sample()
    record["Sns"]["Message"] = "{"
    with pytest.raises(Unreadable):
        read_record(record, body_limit_bytes=10)


def _mailed(subject: str, text: str = "") -> Ping:
    return Ping("success", None, None, "", b"x", mail=Mail(subject, text))


def test_the_subject_filter_reads_the_subject_and_failure_wins() -> None:
    check = make_check(filter_subject=True, success_kw="OK", failure_kw="FAILED")
    assert classify(check, _mailed("backup: FAILED, not OK")) == "fail"
    assert classify(check, _mailed("backup OK")) == "success"
    # The body is not read by the subject filter
    assert classify(check, _mailed("backup", text="FAILED")) == "ign"


def test_the_body_filter_reads_the_text_and_the_default_can_be_failure() -> None:
    check = make_check(filter_body=True, start_kw="starting", filter_default_fail=True)
    assert classify(check, _mailed("", text="starting the job")) == "start"
    assert classify(check, _mailed("starting", text="nothing")) == "fail"


def test_without_email_filters_a_mail_is_a_success_whatever_the_http_filters() -> None:
    # The method and HTTP body filters are for HTTP pings only, as on Healthchecks.io
    check = make_check(methods="POST", filter_http_body=True, failure_kw="FAILED")
    assert classify(check, _mailed("FAILED")) == "success"
    # A manual-resume pause still ignores it
    paused = make_check(status="paused", manual_resume=True)
    assert classify(paused, _mailed("hello")) == "ign"


def test_a_mail_takes_the_general_path() -> None:
    assert fast_path(_mailed("hi")) is None
