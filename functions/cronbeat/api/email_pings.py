"""Pings by email: a mail SES received, handed over by SNS, becomes one ping per recipient.

As on Healthchecks.io, `<uuid>@<domain>` pings that check and `<ping key>+<slug>@<domain>` the
check with that slug. The check's subject and body filters then pick success, fail, start or
ignore (`domain/machine.classify`); without them a mail is a success. The stored body is the mail
as received, cut to the ping body limit.

The receipt rule sends the whole mail through SNS (base64, at most 150 KB), so no bucket is
needed. A mail SES found a virus in is dropped.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
import re
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SnsModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cronbeat.api.ping_protocol import CHECK_UUID, PING_KEY, SLUG, UA_LIMIT_CHARS, storable
from cronbeat.domain.model import MAX_SLUG_LENGTH, Mail, Ping, Sender
from cronbeat.service.ping import Address

_PING_KEY_PLUS_SLUG = re.compile(rf"({PING_KEY.pattern})\+({SLUG.pattern})")


class _Verdict(BaseModel):
    status: str = ""


class _Action(BaseModel):
    encoding: Literal["BASE64", "UTF8"] = "UTF8"


class _Receipt(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    recipients: list[str]
    virus_verdict: _Verdict = Field(default_factory=_Verdict, alias="virusVerdict")
    action: _Action = Field(default_factory=_Action)


class _Headers(BaseModel):
    subject: str = ""


class _Mail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    source: str = ""
    common_headers: _Headers = Field(default_factory=_Headers, alias="commonHeaders")


class _Notification(BaseModel):
    """The SES receipt notification an SNS action publishes (the fields a ping needs)."""

    model_config = ConfigDict(populate_by_name=True)

    notification_type: Literal["Received"] = Field(alias="notificationType")
    mail: _Mail
    receipt: _Receipt
    content: str


@dataclass(frozen=True, slots=True)
class EmailPing:
    address: Address
    ping: Ping
    sender: Sender


class Unreadable(Exception):
    """An SNS record that is not a mail SES received: logged and dropped, never retried."""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _mail_text(message: EmailMessage) -> str:
    """The plain part, then the HTML part's text, as Healthchecks.io's mail filter reads them."""
    chunks: list[str] = []
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is not None:
            content = part.get_content()
            if isinstance(content, str):
                chunks.append(content if kind == "plain" else _html_text(content))
    return "\n".join(chunks)


def address_of(recipient: str) -> Address | None:
    """The check a recipient address names, or None when its local part names none."""
    local = recipient.rpartition("@")[0].strip()
    if CHECK_UUID.fullmatch(local.lower()):
        return Address(check_id=local.lower())
    slugged = _PING_KEY_PLUS_SLUG.fullmatch(local)
    if slugged and len(slugged.group(2)) <= MAX_SLUG_LENGTH:
        return Address(ping_key=slugged.group(1), slug=slugged.group(2))
    return None


def read_record(record: dict[str, Any], *, body_limit_bytes: int) -> list[EmailPing]:
    """The pings one SNS record's mail makes, one per recipient that names a check."""
    try:
        notification = _Notification.model_validate(json.loads(record["Sns"]["Message"]))
        content = notification.content
        base64_encoded = notification.receipt.action.encoding == "BASE64"
        raw = base64.b64decode(content, validate=True) if base64_encoded else content.encode()
    except (KeyError, TypeError, ValueError, ValidationError, binascii.Error) as exc:
        raise Unreadable(type(exc).__name__) from exc
    if notification.receipt.virus_verdict.status == "FAIL":
        return []
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    subject = str(message.get("subject") or notification.mail.common_headers.subject)
    mail = Mail(subject=subject, text=_mail_text(message))
    ping = Ping("success", None, None, "", raw[:body_limit_bytes], mail=mail)
    sender = Sender(
        scheme="email", ua=storable(f"Email from {notification.mail.source}", UA_LIMIT_CHARS)
    )
    found = []
    for recipient in notification.receipt.recipients:
        address = address_of(recipient)
        if address is not None:
            found.append(EmailPing(address, ping, sender))
    return found


def records(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The SNS records of an event, checked against Powertools' SNS model."""
    parse(event=event, model=SnsModel)
    found: list[dict[str, Any]] = event["Records"]
    return found
