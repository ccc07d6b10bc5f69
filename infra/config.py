"""Deployment settings, read from CDK context (`cdk deploy -c alertEmail=...` or cdk.json).

| context key | default | meaning |
|---|---|---|
| `alertEmail` | none | comma-separated email addresses subscribed to the alerts topic |
| `alertSms` | none | comma-separated E.164 phone numbers (`+15555550100`) subscribed to it |
| `tracing` | `false` | X-Ray active tracing on every function ($5 per million traces) |
| `logLevel` | `INFO` | application log level of every function |
| `logRetentionDays` | `30` | retention of every log group: 1, 3, 7, 14, 30, 60, 90, 180 or 365 |
| `throttleRate` | `50` | HTTP API stage steady-state requests per second |
| `throttleBurst` | `500` | HTTP API stage burst; cron jobs all ping on the minute |
| `scanSegments` | `4` | parallel Scan segments per sweep |
| `sweepSeconds` | `60` | sweep every N s inside each minute: 10, 12, 15, 20, 30 or 60 |
| `sweepFanOutChecks` | `25000` | from this many checks, segment workers share a sweep; 0 never |
| `sweepChecksPerSegment` | `25000` | checks per segment worker once fanned out (≤ 1,000 workers) |
| `minPeriod` | `60` | smallest timeout and grace, in seconds, the management API accepts |
| `emailDomain` | none | take pings by email at `<uuid>@<domain>` via SES (docs/email-pings.md) |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

from cronbeat.service.cadence import SWEEP_SECONDS

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
RETENTION_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


class ConfigError(ValueError):
    """A context value is malformed; the message names the key and the expected form."""


def _text(node: Node, key: str) -> str:
    value: Any = node.try_get_context(key)
    return "" if value is None else str(value).strip()


def _list(node: Node, key: str, pattern: re.Pattern[str], form: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in _text(node, key).split(",") if part.strip())
    for item in items:
        if not pattern.match(item):
            raise ConfigError(f"context {key}: {item!r} is not {form}")
    return items


def _number(node: Node, key: str, default: int, minimum: int) -> int:
    text = _text(node, key)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"context {key}: {text!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"context {key}: {value} is below the minimum {minimum}")
    return value


def _flag(node: Node, key: str) -> bool:
    text = _text(node, key).lower()
    if text in ("", "false", "0", "no", "off"):
        return False
    if text in ("true", "1", "yes", "on"):
        return True
    raise ConfigError(f"context {key}: {text!r} is not true or false")


@dataclass(frozen=True, slots=True)
class StackConfig:
    alert_emails: tuple[str, ...] = ()
    alert_phones: tuple[str, ...] = ()
    tracing: bool = False
    log_level: str = "INFO"
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    throttle_rate_per_s: int = 50
    throttle_burst: int = 500
    scan_segments: int = 4
    min_period_s: int = 60
    email_domain: str = ""
    sweep_seconds: int = 60
    sweep_fan_out_checks: int = 25_000
    sweep_checks_per_segment: int = 25_000

    @classmethod
    def from_context(cls, node: Node) -> StackConfig:
        default = cls()
        log_level = _text(node, "logLevel").upper() or default.log_level
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"context logLevel: {log_level!r} is not one of {LOG_LEVELS}")
        retention_days = _number(node, "logRetentionDays", 30, 1)
        if retention_days not in RETENTION_DAYS:
            raise ConfigError(
                f"context logRetentionDays: {retention_days} is not one of {sorted(RETENTION_DAYS)}"
            )
        email_domain = _text(node, "emailDomain").lower()
        if email_domain and not DOMAIN.match(email_domain):
            raise ConfigError(f"context emailDomain: {email_domain!r} is not a domain name")
        sweep_seconds = _number(node, "sweepSeconds", default.sweep_seconds, 1)
        if sweep_seconds not in SWEEP_SECONDS:
            raise ConfigError(
                f"context sweepSeconds: {sweep_seconds} is not one of {SWEEP_SECONDS} "
                "(10 to 60 seconds, dividing the minute)"
            )
        return cls(
            email_domain=email_domain,
            sweep_seconds=sweep_seconds,
            sweep_fan_out_checks=_number(
                node, "sweepFanOutChecks", default.sweep_fan_out_checks, 0
            ),
            sweep_checks_per_segment=_number(
                node, "sweepChecksPerSegment", default.sweep_checks_per_segment, 1
            ),
            alert_emails=_list(node, "alertEmail", EMAIL, "an email address"),
            alert_phones=_list(node, "alertSms", E164, "an E.164 phone number like +15555550100"),
            tracing=_flag(node, "tracing"),
            log_level=log_level,
            log_retention=RETENTION_DAYS[retention_days],
            throttle_rate_per_s=_number(node, "throttleRate", default.throttle_rate_per_s, 1),
            throttle_burst=_number(node, "throttleBurst", default.throttle_burst, 1),
            scan_segments=_number(node, "scanSegments", default.scan_segments, 1),
            min_period_s=_number(node, "minPeriod", default.min_period_s, 1),
        )
