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
    ("ping_import_ratio", "ping handler cold import ÷ import boto3", "≤", 1.5),
    ("check_item_bytes.typical_max", "typical check item, bytes", "≤", 600),
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
        "benchmarks.imports",
        "benchmarks.ping_cpu",
        "benchmarks.scan_cpu",
        "benchmarks.sizes",
        "benchmarks.detection_lag",
        "benchmarks.alert_isolation",
        "benchmarks.local_throughput",
        "benchmarks.mass_flip",
        "benchmarks.sweep_fanout",
    ):
        figures.update(run_module(module))
    figures["calls_per_ping_ok"] = figures["calls_per_ping"] == {"UpdateItem": 1, "PutItem": 1}
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
    for name in ("ping_cpu_us", "bare_boto3_cpu_us", "boto3_import_ms", "ping_import_ms"):
        print(f"{name:<44} {figures[name]:>12}")
    for name in ("api_import_ms", "scanner_import_ms", "notifier_import_ms", "deliverer_import_ms"):
        print(f"{name:<44} {figures[name]:>12}")
    for kind in ("simple", "cron"):
        name = f"scan_cpu_us_per_check_{kind}"
        print(f"{name:<44} {figures[name]:>12}")
    local = figures["local_pings_per_s"]
    print(
        f"{'local pings/s, 8 clients: plain / --state / flips':<44} {local['plain']:>5} / "
        f"{local['with_state']} / {local['every_ping_a_flip']}"
    )
    print(
        f"{'detection_lag_s p50 / max':<44} {figures['detection_lag_s']['p50']:>5} / "
        f"{figures['detection_lag_s']['max']}"
    )
    print()
    print(cost.render(figures["cost"]))
    print()
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
