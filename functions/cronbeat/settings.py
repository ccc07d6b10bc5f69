"""Deployment settings, read once from the environment (set by the CDK stack or `cronbeat dev`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


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
    api_key_pepper: str = "cronbeat"
    """HMAC key for API key digests."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            checks_table=env.get("CRONBEAT_CHECKS_TABLE", default.checks_table),
            events_table=env.get("CRONBEAT_EVENTS_TABLE", default.events_table),
            alerts_topic_arn=env.get("CRONBEAT_ALERTS_TOPIC_ARN", default.alerts_topic_arn),
            base_url=env.get("CRONBEAT_BASE_URL", default.base_url).rstrip("/"),
            ping_body_limit_bytes=int(
                env.get("CRONBEAT_PING_BODY_LIMIT", default.ping_body_limit_bytes)
            ),
            ping_retention_days=int(
                env.get("CRONBEAT_PING_RETENTION_DAYS", default.ping_retention_days)
            ),
            flip_retention_days=int(
                env.get("CRONBEAT_FLIP_RETENTION_DAYS", default.flip_retention_days)
            ),
            min_period_s=int(env.get("CRONBEAT_MIN_PERIOD", default.min_period_s)),
            scan_segments=int(env.get("CRONBEAT_SCAN_SEGMENTS", default.scan_segments)),
            api_key_pepper=env.get("CRONBEAT_API_KEY_PEPPER", default.api_key_pepper),
        )
