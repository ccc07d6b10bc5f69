"""Deployment settings, read once from the environment (set by the CDK stack or `cronbeat dev`).

Every handler reads them at import, so a bad environment fails the function's init with one
line naming the variable, instead of the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cronbeat.service.cadence import SWEEP_SECONDS


class InvalidSettings(ValueError):
    """An environment variable holds a value cronbeat cannot run with."""


def _whole(env: Mapping[str, str], name: str, default: int, *, least: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSettings(f"{name}={raw!r} is not a whole number") from None
    if value < least:
        raise InvalidSettings(f"{name}={raw!r} is below {least}")
    return value


def _sweep_seconds(env: Mapping[str, str], default: int) -> int:
    value = _whole(env, "CRONBEAT_SWEEP_SECONDS", default, least=1)
    if value not in SWEEP_SECONDS:
        raise InvalidSettings(f"CRONBEAT_SWEEP_SECONDS={value} is not one of {SWEEP_SECONDS}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "false")
    if raw not in ("true", "false"):
        raise InvalidSettings(f"{name}={raw!r} is neither true nor false")
    return raw == "true"


@dataclass(frozen=True, slots=True)
class Settings:
    checks_table: str = "cronbeat-checks"
    events_table: str = "cronbeat-events"
    alerts_topic_arn: str = ""
    base_url: str = ""
    """Public base URL of the HTTP API, used in ping URLs and alert links."""
    ping_body_limit_bytes: int = 10_000
    ping_retention_days: int = 30
    flip_retention_days: int = 400
    min_period_s: int = 60
    """Smallest timeout and grace the API accepts (1 s in local mode for demos)."""
    scan_segments: int = 4
    sweep_seconds: int = 60
    """Sweeps per scanner invocation: one every `sweep_seconds` inside its minute."""
    fan_out_checks: int = 0
    """From this many checks on, segment workers sweep the table (0: the scanner sweeps alone)."""
    checks_per_segment: int = 25_000
    segment_function: str = ""
    """The segment worker's Lambda function; without one, segments are swept in this process."""
    deliveries_queue_url: str = ""
    """The delivery queue: one message per (alert, target), fed by the notifier."""
    dead_letter_queue_url: str = ""
    """Where a delivery goes when it gave up, next to the stream's failed batches."""
    delivery_deadline_s: int = 10
    """The one wall-clock limit of an attempt: connect, send and the whole reply."""
    allow_private_targets: bool = False
    """Let channels reach loopback and private addresses (local mode only: its receivers are
    on 127.0.0.1). On AWS such a URL could reach the instance metadata or a private service."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            checks_table=env.get("CRONBEAT_CHECKS_TABLE", default.checks_table),
            events_table=env.get("CRONBEAT_EVENTS_TABLE", default.events_table),
            alerts_topic_arn=env.get("CRONBEAT_ALERTS_TOPIC_ARN", default.alerts_topic_arn),
            base_url=env.get("CRONBEAT_BASE_URL", default.base_url).rstrip("/"),
            ping_body_limit_bytes=_whole(
                env, "CRONBEAT_PING_BODY_LIMIT", default.ping_body_limit_bytes, least=0
            ),
            ping_retention_days=_whole(
                env, "CRONBEAT_PING_RETENTION_DAYS", default.ping_retention_days, least=1
            ),
            flip_retention_days=_whole(
                env, "CRONBEAT_FLIP_RETENTION_DAYS", default.flip_retention_days, least=1
            ),
            min_period_s=_whole(env, "CRONBEAT_MIN_PERIOD", default.min_period_s, least=1),
            scan_segments=_whole(env, "CRONBEAT_SCAN_SEGMENTS", default.scan_segments, least=1),
            sweep_seconds=_sweep_seconds(env, default.sweep_seconds),
            fan_out_checks=_whole(env, "CRONBEAT_FAN_OUT_CHECKS", default.fan_out_checks, least=0),
            checks_per_segment=_whole(
                env, "CRONBEAT_CHECKS_PER_SEGMENT", default.checks_per_segment, least=1
            ),
            segment_function=env.get("CRONBEAT_SEGMENT_FUNCTION", ""),
            deliveries_queue_url=env.get("CRONBEAT_DELIVERIES_QUEUE_URL", ""),
            dead_letter_queue_url=env.get("CRONBEAT_DEAD_LETTER_QUEUE_URL", ""),
            delivery_deadline_s=_whole(
                env, "CRONBEAT_DELIVERY_DEADLINE", default.delivery_deadline_s, least=1
            ),
            allow_private_targets=_flag(env, "CRONBEAT_ALLOW_PRIVATE_TARGETS"),
        )
