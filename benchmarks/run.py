"""`make bench`: every budget measured in one run; a table, then one JSON line of every figure."""

from __future__ import annotations

import json
import platform
import time
from typing import Any

from benchmarks import cost
from benchmarks.harness import run_module

BUDGETS: list[tuple[str, str, str, float]] = [
    # (figure, how to read it, "≤" or "≥", bound)
    ("ping_cpu_ratio", "ping handler CPU ÷ bare boto3 calls", "≤", 1.5),
    ("cold_start_ratio", "cold start to 1st reply ÷ bare boto3's", "≤", 1.3),
    ("sweep_cpu_us_per_check.100000", "sweep CPU µs/check, 100,000 (1% due)", "≤", 10),
    ("check_item_bytes.typical_max", "typical check item, bytes", "≤", 600),
    ("check_item_bytes.typical_full_window_max", "typical item, full duration window", "≤", 600),
    ("scan_rru_per_sweep.ratio", "sweep read units ÷ ideal (bytes / 8 KB)", "≤", 1.05),
    ("detection_lag_s.max", "detection lag max, s (sweep 1 s)", "≤", 2.0),
    ("alert_isolation_s", "healthy alert behind bad channels, worst s", "≤", 2.0),
    ("log_bytes_per_ping", "bytes logged per common ping (INFO)", "≤", 150),
    ("state_journal_ratio", "local pings/s with --state ÷ without", "≥", 0.5),
    ("flip_ping_ratio", "local pings/s, every ping a flip ÷ plain", "≥", 0.15),
    ("mass_flip_seconds", "10,000 flips written, s (stub)", "≤", 15),
    ("sweep_seconds_1m", "1,000,000 checks swept, fanned out, s", "≤", 20),
]


def _get(figures: dict[str, Any], dotted: str) -> Any:
    value: Any = figures
    for part in dotted.split("."):
        value = value[part]
    return value


def main() -> None:
    started = time.monotonic()
    figures: dict[str, Any] = {"machine": f"{platform.machine()}, {platform.python_version()}"}
    for module in (
        "benchmarks.cold_start",
        "benchmarks.ping_cpu",
        "benchmarks.hc_ping",
        "benchmarks.sweep_cpu",
        "benchmarks.sizes",
        "benchmarks.detection_lag",
        "benchmarks.alert_isolation",
        "benchmarks.local_throughput",
        "benchmarks.mass_flip",
        "benchmarks.sweep_fanout",
    ):
        figures.update(run_module(module))
    figures["calls_per_ping_ok"] = figures["calls_per_ping"] == {"UpdateItem": 1, "PutItem": 1}
    if figures["hc_ping_cpu_us"] is None:
        figures["hc_ping_cpu_ratio"] = None
    else:
        figures["hc_ping_cpu_ratio"] = round(figures["ping_cpu_us"] / figures["hc_ping_cpu_us"], 3)
        figures["hc_ping_cpu_ratio_reason"] = None
    figures["sweep_read_units_per_check"] = (
        figures["scan_rru_per_sweep"]["read_units"] / figures["scan_rru_per_sweep"]["checks"]
    )
    figures["cost"] = cost.build(figures)
    figures["bench_seconds"] = round(time.monotonic() - started, 1)

    print(f"{'figure':<44} {'value':>12} {'budget':>8}  ok")
    for name, label, direction, bound in BUDGETS:
        value = _get(figures, name)
        within = value <= bound if direction == "≤" else value >= bound
        figures.setdefault("within_budget", {})[name] = within
        limit = f"{direction} {bound}"
        print(f"{label:<44} {value:>12} {limit:>8}  {'yes' if within else 'NO'}")
    print(f"{'DynamoDB calls per common ping':<44} {json.dumps(figures['calls_per_ping']):>12}")
    for name in ("ping_cpu_us", "bare_boto3_cpu_us", "hc_ping_cpu_us", "hc_ping_cpu_ratio"):
        print(f"{name:<44} {figures[name]!s:>12}")
    if figures["hc_ping_cpu_ratio"] is None:
        print(f"{'  why no hc_ping_cpu_ratio':<44} {figures['hc_ping_cpu_ratio_reason']}")
    cold = figures["cold_start_ms"]
    print(
        f"{'cold start CPU ms: ping 1st reply / boto3 1st':<44} {cold['ping_first_reply']:>5} / "
        f"{cold['boto3_first_call']}"
    )
    for name in ("boto3", "ping", "api", "scanner", "notifier", "deliverer"):
        print(f"{name + '_import_ms':<44} {figures[name + '_import_ms']:>12}")
    sweep = figures["sweep_cpu_us_per_check"]
    print(f"{'sweep CPU µs/check at 10,000 / 100,000':<44} {sweep['10000']:>5} / {sweep['100000']}")
    local = figures["local_pings_per_s"]
    print(
        f"{'local pings/s, 8 clients: plain / --state / flips':<44} {local['plain']:>5} / "
        f"{local['with_state']} / {local['every_ping_a_flip']}"
    )
    lag = figures["detection_lag_s"]
    print(f"{'detection_lag_s p50 / max':<44} {lag['p50']:>5} / {lag['max']}")
    print(
        f"{'  to the sweep p50; sweep to webhook p50 / max':<44} {lag['to_sweep_p50']:>5}; "
        f"{lag['sweep_to_webhook_p50']} / {lag['sweep_to_webhook_max']}"
    )
    print()
    print(cost.render(figures["cost"]))
    print()
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
