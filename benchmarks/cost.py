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
    "dynamodb_pitr_per_gb_month": 0.20,
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
    # https://healthchecks.io/pricing/ (Hobbyist free up to 20 checks, Business $20 up to 100,
    # Business Plus $80 up to 1,000; no public plan beyond that)
    "Healthchecks.io": lambda checks: (
        0.0 if checks <= 20 else 20.0 if checks <= 100 else 80.0 if checks <= 1000 else None
    ),
    # https://cronitor.io/pricing (Business, $2 per monitor a month)
    "Cronitor": lambda checks: 2.0 * checks,
    # https://sentry.io/pricing/ (Crons add-on, $0.78 per monitor a month)
    "Sentry Crons": lambda checks: 0.78 * checks,
}
MONTH_S = 30 * 86_400
KB = 1024
GB = 1024**3
LAMBDA_MEMORY_MB = 256
"""The ping, scanner, notifier and deliverer functions (`infra/function.py`'s default)."""
FULL_VCPU_MB = 1769
"""Lambda gives a function one full vCPU at 1,769 MB and a share in proportion below it."""
CPU_SHARE = LAMBDA_MEMORY_MB / FULL_VCPU_MB
LAMBDA_GB = LAMBDA_MEMORY_MB / 1024
DYNAMODB_ROUND_TRIP_MS = 8
"""Assumed in-region DynamoDB latency per call: a ping waits for two of them."""
LAMBDA_PLATFORM_LOG_BYTES = 330
"""Lambda's own START, END and REPORT lines per invocation (about 70 + 50 + 210 bytes)."""
ACCESS_LOG_LINE = (
    '{"requestId":"CZbq5gKqIAMEVDw=","time":"1795435200123","method":"GET",'
    '"route":"ANY /ping/{proxy+}","status":"200","ip":"203.0.113.7","latencyMs":"31",'
    '"error":"-"}'
)
"""The HTTP API's access log line for a ping (`infra/api.py`'s format, filled in as for a ping)."""
ALARMS = 6
CUSTOM_METRIC_STREAMS = 3
"""Streams that publish in a month where anything fails or flips: FailurePings, Flips and
DetectionLag. Each one that publishes at all costs a full $0.30."""
SQS_REQUESTS_PER_DELIVERY = 3
"""Its share of the fan-out's SendMessageBatch (counted as a whole request), the event source's
ReceiveMessage and its DeleteMessage; a retry adds a ChangeMessageVisibility and a receive."""
WRITE_UNITS_PER_DELIVERY = 3
"""The delivery record: opened by the fan-out, claimed, then recorded (each under 1 KB)."""
DELIVERY_MS = 150
"""A worker invocation to a receiver that answers promptly (the deadline caps it at 10 s)."""
IDLE_POLLS_MONTH = 5 * 3 * 60 * 24 * 30
"""Lambda's SQS event source long-polls an empty queue with about 5 pollers, each a 20 s wait."""
FLIPS_PER_CHECK_MONTH = 2
"""Assumed: each check goes down and comes back once a month."""
ALERT_TARGETS = 2
"""The alerts topic and one channel."""
OUTBOX_ITEM_BYTES = 1024
"""A flip's outbox item: at most one write unit (assumed, as its text is capped)."""
PING_RETENTION_DAYS = 30
STORAGE_OVERHEAD_BYTES = 100
"""DynamoDB bills 100 bytes of indexing overhead per stored item."""
DEFAULT_SWEEP_S = 60


@dataclass(frozen=True)
class Measured:
    ping_cpu_us: float
    log_bytes_per_ping: float
    check_item_bytes: int
    ping_item_bytes: int
    ping_item_bytes_with_output: int
    sweep_read_units_per_check: float
    sweep_cpu_us_per_check: float


def write_units(item_bytes: int) -> int:
    return max(1, math.ceil(item_bytes / KB))


def _lambda_call(cpu_ms: float, waits_ms: float = 0.0) -> float:
    """One invocation: the request and its billed duration, CPU stretched by the share."""
    billed_ms = math.ceil(cpu_ms / CPU_SHARE + waits_ms)
    return (
        PRICES["lambda_per_request"] + billed_ms / 1000 * LAMBDA_GB * PRICES["lambda_per_gb_second"]
    )


def per_ping(m: Measured, history_item_bytes: int | None = None) -> float:
    """HTTP API request, the Lambda call, the check's update and the history item, its logs."""
    history = m.ping_item_bytes if history_item_bytes is None else history_item_bytes
    log_bytes = m.log_bytes_per_ping + LAMBDA_PLATFORM_LOG_BYTES + len(ACCESS_LOG_LINE) + 1
    return (
        PRICES["http_api_per_request"]
        + _lambda_call(m.ping_cpu_us / 1000, 2 * DYNAMODB_ROUND_TRIP_MS)
        + (write_units(m.check_item_bytes) + write_units(history))
        * PRICES["dynamodb_per_write_unit"]
        + log_bytes / GB * PRICES["cloudwatch_logs_ingest_per_gb"]
    )


def per_run_with_output(m: Measured) -> float:
    """The README's pattern: a start ping, then a finish with a 10 KB output tail."""
    return per_ping(m) + per_ping(m, m.ping_item_bytes_with_output)


def write_units_per_run_with_output(m: Measured) -> int:
    return (
        2 * write_units(m.check_item_bytes)
        + write_units(m.ping_item_bytes)
        + write_units(m.ping_item_bytes_with_output)
    )


def write_units_per_flip(m: Measured, targets: int = ALERT_TARGETS) -> int:
    """The sweep's transaction (check + outbox item, transactional writes count double), then the
    delivery records of each target."""
    transaction = 2 * (write_units(m.check_item_bytes) + write_units(OUTBOX_ITEM_BYTES))
    return transaction + targets * WRITE_UNITS_PER_DELIVERY


def per_alert(m: Measured, targets: int = ALERT_TARGETS) -> float:
    """One flip or reminder written and delivered to `targets`, first try."""
    delivery = SQS_REQUESTS_PER_DELIVERY * PRICES["sqs_per_request"] + _lambda_call(
        0.0, DELIVERY_MS
    )
    return (
        write_units_per_flip(m, targets) * PRICES["dynamodb_per_write_unit"]
        + _lambda_call(0.0, 100)  # the notifier
        + PRICES["sns_per_publish"]
        + targets * delivery
    )


def sweeps_per_minute(sweep_s: int) -> int:
    return 60 // sweep_s


def scanner_month(m: Measured, checks: int, sweep_s: int = DEFAULT_SWEEP_S) -> float:
    """One invocation a minute sweeping every `sweep_s`: below 60 s it runs for its whole minute;
    each sweep pays the read units of the whole Scan (DynamoDB bills the scanned bytes)."""
    minutes = MONTH_S / 60
    sweeps = sweeps_per_minute(sweep_s)
    sweep_cpu_ms = 100 + checks * m.sweep_cpu_us_per_check / 1000
    if sweep_s < 60:
        duration = PRICES["lambda_per_request"] + 60 * LAMBDA_GB * PRICES["lambda_per_gb_second"]
    else:
        duration = _lambda_call(sweep_cpu_ms)
    read_units = sweeps * max(0.5, checks * m.sweep_read_units_per_check)
    return minutes * (duration + read_units * PRICES["dynamodb_per_read_unit"])


def storage_month(m: Measured, checks: int, period_s: int, with_output: bool) -> float:
    """The check items and the retained history, with point-in-time recovery on both tables."""
    pings = PING_RETENTION_DAYS * 86_400 / period_s
    history = pings * (m.ping_item_bytes + STORAGE_OVERHEAD_BYTES)
    if with_output:
        history += pings * (m.ping_item_bytes_with_output + STORAGE_OVERHEAD_BYTES)
    stored_gb = checks * (m.check_item_bytes + STORAGE_OVERHEAD_BYTES + history) / GB
    rate = PRICES["dynamodb_storage_per_gb_month"] + PRICES["dynamodb_pitr_per_gb_month"]
    return stored_gb * rate


def fixed_month(m: Measured) -> dict[str, float]:
    return {
        f"delivery queue polling ({IDLE_POLLS_MONTH / 1e6:.2f} M requests)": IDLE_POLLS_MONTH
        * PRICES["sqs_per_request"],
        "KMS key for the alerts topic": PRICES["kms_key_month"],
        f"{ALARMS} CloudWatch alarms": ALARMS * PRICES["cloudwatch_alarm_month"],
        f"{CUSTOM_METRIC_STREAMS} custom metric streams that publish": CUSTOM_METRIC_STREAMS
        * PRICES["cloudwatch_custom_metric_month"],
        "scanner logs, one line a sweep (~0.1 GB)": 0.1 * PRICES["cloudwatch_logs_ingest_per_gb"],
        "dashboard (within CloudWatch's free three)": 0.0,
    }


def month(
    m: Measured, checks: int, period_s: int, *, with_output: bool = False, sweep_s: int = 60
) -> float:
    """The whole stack for `checks` checks each run every `period_s`."""
    runs = MONTH_S / period_s
    per_run = per_run_with_output(m) if with_output else per_ping(m)
    return (
        sum(fixed_month(m).values())
        + scanner_month(m, checks, sweep_s)
        + checks * runs * per_run
        + checks * FLIPS_PER_CHECK_MONTH * per_alert(m)
        + storage_month(m, checks, period_s, with_output)
    )


def _round(usd: float | None) -> float | None:
    return None if usd is None else round(usd, 2)


def _usd(usd: float | None) -> str:
    return "n/a" if usd is None else f"${usd:,.2f}"


def measured(figures: dict[str, Any]) -> Measured:
    sweep = figures.get("sweep_cpu_us_per_check", {})
    sizes = figures.get("check_item_bytes", {})
    return Measured(
        ping_cpu_us=float(figures.get("ping_cpu_us", 2500.0)),
        log_bytes_per_ping=float(figures.get("log_bytes_per_ping", 121.0)),
        check_item_bytes=int(sizes.get("typical_median", 376)),
        ping_item_bytes=int(figures.get("ping_item_bytes", 143)),
        ping_item_bytes_with_output=int(figures.get("ping_item_bytes_with_output", 10_130)),
        sweep_read_units_per_check=float(figures.get("sweep_read_units_per_check", 0.045)),
        sweep_cpu_us_per_check=float(sweep.get("100000", 90.0)),
    )


CHECK_COUNTS = (10, 100, 1_000, 100_000)
CADENCES = {"hourly": 3600, "every_minute": 60}


def build(figures: dict[str, Any]) -> dict[str, Any]:
    m = measured(figures)
    fixed = fixed_month(m)
    totals: dict[str, Any] = {}
    for checks in CHECK_COUNTS:
        row: dict[str, float | None] = {}
        for cadence, period_s in CADENCES.items():
            row[f"cronbeat_{cadence}"] = round(month(m, checks, period_s), 2)
            row[f"cronbeat_{cadence}_with_output"] = round(
                month(m, checks, period_s, with_output=True), 2
            )
        row.update({name: _round(price(checks)) for name, price in HOSTED.items()})
        totals[str(checks)] = row
    sweep_10s = {
        str(checks): {
            "scanner_60s": round(scanner_month(m, checks, 60), 2),
            "scanner_10s": round(scanner_month(m, checks, 10), 2),
            "extra_per_month": round(
                scanner_month(m, checks, 10) - scanner_month(m, checks, 60), 2
            ),
        }
        for checks in (100, 1_000, 100_000)
    }
    return {
        "prices_as_of": PRICES_AS_OF,
        "inputs": {
            "ping_cpu_us": m.ping_cpu_us,
            "lambda_cpu_share": round(CPU_SHARE, 3),
            "log_bytes_per_ping": m.log_bytes_per_ping,
            "log_bytes_per_ping_with_platform_and_access_log": round(
                m.log_bytes_per_ping + LAMBDA_PLATFORM_LOG_BYTES + len(ACCESS_LOG_LINE) + 1
            ),
            "write_units_per_ping": write_units(m.check_item_bytes)
            + write_units(m.ping_item_bytes),
            "write_units_per_run_with_output": write_units_per_run_with_output(m),
            "write_units_per_flip": write_units_per_flip(m),
            "sweep_cpu_us_per_check": m.sweep_cpu_us_per_check,
            "sweep_read_units_per_check": m.sweep_read_units_per_check,
        },
        "usd_per_million_pings": round(per_ping(m) * 1e6, 3),
        "usd_per_million_runs_with_output": round(per_run_with_output(m) * 1e6, 3),
        "usd_per_thousand_alerts": round(per_alert(m) * 1000, 4),
        "fixed_month": {k: round(v, 3) for k, v in fixed.items()},
        "fixed_month_total": round(sum(fixed.values()), 2),
        "month_total": totals,
        "sweep_seconds_10": sweep_10s,
    }


def render(cost: dict[str, Any]) -> str:
    i = cost["inputs"]
    lines = [
        f"Cost model (us-east-1 list prices, {cost['prices_as_of']})",
        f"  inputs: ping {i['ping_cpu_us']} us CPU at a {i['lambda_cpu_share']} vCPU share, "
        f"{i['log_bytes_per_ping']} B logged; write units: ping {i['write_units_per_ping']}, "
        f"start+finish with 10 KB {i['write_units_per_run_with_output']}, "
        f"flip {i['write_units_per_flip']}; sweep {i['sweep_cpu_us_per_check']} us and "
        f"{i['sweep_read_units_per_check']} read units per check",
        f"  per million pings: ${cost['usd_per_million_pings']}; per million start+finish runs "
        f"with 10 KB output: ${cost['usd_per_million_runs_with_output']}",
        f"  per thousand alerts (topic and one channel): ${cost['usd_per_thousand_alerts']}",
        f"  fixed: ${cost['fixed_month_total']}/month",
    ]
    for item, usd in cost["fixed_month"].items():
        lines.append(f"    {item}: ${usd}")
    columns = ["hourly", "hourly+out", "minute", "minute+out", *HOSTED]
    keys = [
        "cronbeat_hourly",
        "cronbeat_hourly_with_output",
        "cronbeat_every_minute",
        "cronbeat_every_minute_with_output",
        *HOSTED,
    ]
    lines.append(f"  {'checks':>8}" + "".join(f" {c:>16}" for c in columns))
    for checks, row in cost["month_total"].items():
        lines.append(f"  {int(checks):>8,}" + "".join(f" {_usd(row[k]):>16}" for k in keys))
    for checks, s in cost["sweep_seconds_10"].items():
        lines.append(
            f"  sweepSeconds=10 at {int(checks):,} checks: scanner ${s['scanner_10s']}/month "
            f"(${s['extra_per_month']} more than at 60 s)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    figures = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(render(build(figures)))
