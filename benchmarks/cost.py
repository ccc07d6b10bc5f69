"""What running cronbeat costs, from the measured figures and AWS list prices.

Prices: us-east-1, on-demand list prices as of 2026-11 (sources below). Hosted prices are each
vendor's public pricing page on the same date. Change them here, in one place.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from typing import Any

PRICES_AS_OF = "2026-11"
PRICES = {
    # https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 M requests)
    "http_api_per_request": 1.00 / 1e6,
    # https://aws.amazon.com/lambda/pricing/ (arm64)
    "lambda_per_request": 0.20 / 1e6,
    "lambda_per_gb_second": 0.0000133334,
    # https://aws.amazon.com/dynamodb/pricing/on-demand/
    "dynamodb_per_write_unit": 0.625 / 1e6,
    "dynamodb_per_read_unit": 0.125 / 1e6,
    "dynamodb_storage_per_gb_month": 0.25,
    # https://aws.amazon.com/sns/pricing/
    "sns_per_publish": 0.50 / 1e6,
    # https://aws.amazon.com/sqs/pricing/ (standard queue, per 64 KB request)
    "sqs_per_request": 0.40 / 1e6,
    # https://aws.amazon.com/cloudwatch/pricing/
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_dashboard_month": 3.00,
    "cloudwatch_logs_ingest_per_gb": 0.50,
    "cloudwatch_logs_storage_per_gb_month": 0.03,
    "cloudwatch_custom_metric_month": 0.30,
    # https://aws.amazon.com/kms/pricing/
    "kms_key_month": 1.00,
}
HOSTED = {
    # https://healthchecks.io/pricing/
    # (free up to 20 checks, $20 up to 100, $80 up to 1,000; no public plan beyond that)
    "Healthchecks.io": lambda checks: (
        0.0 if checks <= 20 else 20.0 if checks <= 100 else 80.0 if checks <= 1000 else None
    ),
    # https://cronitor.io/pricing
    "Cronitor": lambda checks: 2.0 * checks,
    # https://sentry.io/pricing/ (Crons, per monitor)
    "Sentry Crons": lambda checks: 0.78 * checks,
}
MONTH_S = 30 * 86_400
LAMBDA_MEMORY_GB = 256 / 1024
DYNAMODB_ROUND_TRIP_MS = 8
"""Assumed in-region DynamoDB latency per call: a ping waits for two of them."""
ALARMS = 5
FREE_DASHBOARDS = 3
"""CloudWatch's free tier covers three dashboards, so the stack's one costs nothing there."""
CUSTOM_METRIC_STREAMS = 5
SQS_REQUESTS_PER_DELIVERY = 3
"""Its share of the fan-out's SendMessageBatch (counted as a whole request), the event source's
ReceiveMessage and its DeleteMessage; a retry adds a ChangeMessageVisibility and a receive."""
WRITE_UNITS_PER_DELIVERY = 3
"""The delivery record: opened by the fan-out, claimed, then recorded (each under 1 KB)."""
DELIVERY_MS = 150
"""A worker invocation to a receiver that answers promptly (the deadline caps it at 10 s)."""
IDLE_POLLS_MONTH = 5 * 3 * 60 * 24 * 30
"""Lambda's SQS event source long-polls an empty queue with about 5 pollers, each a 20 s wait:
about 650,000 ReceiveMessage requests a month, inside SQS's free million."""


@dataclass(frozen=True)
class Measured:
    ping_cpu_us: float
    write_units_per_ping: int
    sweep_read_units_per_check: float
    scanner_ms_per_check: float


def per_ping(m: Measured) -> float:
    billed_ms = math.ceil(m.ping_cpu_us / 1000 + 2 * DYNAMODB_ROUND_TRIP_MS)
    return (
        PRICES["http_api_per_request"]
        + PRICES["lambda_per_request"]
        + billed_ms / 1000 * LAMBDA_MEMORY_GB * PRICES["lambda_per_gb_second"]
        + m.write_units_per_ping * PRICES["dynamodb_per_write_unit"]
    )


def scanner_month(m: Measured, checks: int) -> float:
    """One sweep a minute: a Lambda request, its duration, and the read units of the Scan."""
    sweeps = MONTH_S / 60
    duration_s = 0.1 + checks * m.scanner_ms_per_check / 1000
    return sweeps * (
        PRICES["lambda_per_request"]
        + duration_s * LAMBDA_MEMORY_GB * PRICES["lambda_per_gb_second"]
        + max(0.5, checks * m.sweep_read_units_per_check) * PRICES["dynamodb_per_read_unit"]
    )


def per_alert(targets: int) -> float:
    """One flip or reminder delivered to `targets` (the topic and each channel), first try."""
    notifier = (
        PRICES["lambda_per_request"] + 0.1 * LAMBDA_MEMORY_GB * PRICES["lambda_per_gb_second"]
    )
    delivery = (
        SQS_REQUESTS_PER_DELIVERY * PRICES["sqs_per_request"]
        + WRITE_UNITS_PER_DELIVERY * PRICES["dynamodb_per_write_unit"]
        + PRICES["lambda_per_request"]
        + DELIVERY_MS / 1000 * LAMBDA_MEMORY_GB * PRICES["lambda_per_gb_second"]
    )
    return notifier + targets * delivery + PRICES["sns_per_publish"]


def idle_stack_month(m: Measured) -> dict[str, float]:
    return {
        f"delivery queue polling ({IDLE_POLLS_MONTH / 1e6:.2f} M requests, free tier)": 0.0,
        "KMS key for the alerts topic": PRICES["kms_key_month"],
        f"{ALARMS} CloudWatch alarms": ALARMS * PRICES["cloudwatch_alarm_month"],
        "scanner, once a minute": scanner_month(m, 0),
        "dashboard (within the free three)": 0.0,
        "scanner logs, one line a sweep (~0.1 GB)": 0.1 * PRICES["cloudwatch_logs_ingest_per_gb"],
    }


def check_month(m: Measured, period_s: int) -> float:
    """A check pinged every `period_s`: its pings plus its share of the sweeps."""
    pings = MONTH_S / period_s
    return pings * per_ping(m) + scanner_month(m, 1) - scanner_month(m, 0)


def _round(usd: float | None) -> float | None:
    return None if usd is None else round(usd, 2)


def _usd(usd: float | None) -> str:
    return "n/a" if usd is None else f"${usd:,.2f}"


def build(measured: dict[str, Any]) -> dict[str, Any]:
    m = Measured(
        ping_cpu_us=float(measured.get("ping_cpu_us", 2000.0)),
        write_units_per_ping=2,
        sweep_read_units_per_check=float(measured.get("sweep_read_units_per_check", 0.045)),
        scanner_ms_per_check=float(measured.get("scan_cpu_us_per_check_cron", 50.0)) / 1000,
    )
    idle = idle_stack_month(m)
    fixed = sum(idle.values())
    totals = {}
    for checks in (10, 100, 1_000, 100_000):
        ours = fixed + checks * check_month(m, 3600)
        totals[str(checks)] = {
            "cronbeat": round(ours, 2),
            **{name: _round(price(checks)) for name, price in HOSTED.items()},
        }
    return {
        "prices_as_of": PRICES_AS_OF,
        "usd_per_million_pings": round(per_ping(m) * 1e6, 3),
        "usd_per_check_month": {
            "every_minute": round(check_month(m, 60), 4),
            "hourly": round(check_month(m, 3600), 5),
            "daily": round(check_month(m, 86_400), 6),
        },
        "usd_per_thousand_alerts": {
            "topic_only": round(per_alert(1) * 1000, 4),
            "topic_and_two_channels": round(per_alert(3) * 1000, 4),
        },
        "idle_stack_month": {k: round(v, 3) for k, v in idle.items()},
        "idle_stack_month_total": round(fixed, 2),
        "hourly_checks_month_total": totals,
    }


def render(cost: dict[str, Any]) -> str:
    lines = [
        f"Cost model (us-east-1 list prices, {cost['prices_as_of']})",
        f"  per million pings: ${cost['usd_per_million_pings']}",
    ]
    for cadence, usd in cost["usd_per_check_month"].items():
        lines.append(f"  one check pinged {cadence.replace('_', ' ')}: ${usd:.6f}/month")
    for targets, usd in cost["usd_per_thousand_alerts"].items():
        lines.append(f"  1,000 alerts to the {targets.replace('_', ' ')}: ${usd}")
    lines.append(f"  idle stack: ${cost['idle_stack_month_total']}/month")
    for item, usd in cost["idle_stack_month"].items():
        lines.append(f"    {item}: ${usd}")
    header = f"  {'hourly checks':>14} {'cronbeat':>10}" + "".join(f" {n:>16}" for n in HOSTED)
    lines.append(header)
    for checks, row in cost["hourly_checks_month_total"].items():
        hosted = "".join(f" {_usd(row[n]):>16}" for n in HOSTED)
        lines.append(f"  {int(checks):>14,} {_usd(row['cronbeat']):>10}{hosted}")
    return "\n".join(lines)


if __name__ == "__main__":
    figures = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(render(build(figures)))
