"""Generic webhook: a signed JSON POST (the payload is documented in docs/webhooks.md).

The signature is an HMAC-SHA256 of the exact body bytes, as GitHub signs its webhooks. The body
carries the same `timestamp` as the `X-Cronbeat-Timestamp` header, so the timestamp is signed too
and a receiver can reject replays without a second signing scheme.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cronbeat.channels import message
from cronbeat.channels.alert import Alert
from cronbeat.channels.transport import JSON_CONTENT_TYPE, HttpPost, require, require_url
from cronbeat.domain.channel import Channel

SIGNATURE_HEADER = "X-Cronbeat-Signature"
TIMESTAMP_HEADER = "X-Cronbeat-Timestamp"
EVENT_HEADER = "X-Cronbeat-Event"


def payload(alert: Alert, *, timestamp_s: int) -> dict[str, Any]:
    """The JSON document a webhook receives; every field is listed in docs/webhooks.md."""
    check, flip = alert.check, alert.flip
    down_since = alert.down_since_ms
    return {
        "kind": alert.kind,
        "alert_id": alert.alert_id,
        "timestamp": timestamp_s,
        "check_id": check.id,
        "name": check.name,
        "slug": check.slug,
        "tags": check.tag_list,
        "status": alert.status,
        "previous_status": flip.old if flip is not None else None,
        "reason": flip.reason if flip is not None else None,
        "flip_time": message.iso_utc(alert.at_ms),
        "down_since": message.iso_utc(down_since) if down_since is not None else None,
        "summary": message.what_happened(alert),
        "last_ping": message.iso_utc(check.last_ping_ms)
        if check.last_ping_ms is not None
        else None,
        "exit_status": check.last_exit,
        "duration_ms": check.last_duration_ms,
        "body_tail": message.output_tail(alert),
        "url": alert.dashboard_url or None,
    }


def signature(secret: str, body: bytes) -> str:
    """The `X-Cronbeat-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def build(channel: Channel, alert: Alert, *, sent_at_s: int) -> HttpPost:
    """The signed POST for one attempt at `sent_at_s` (epoch seconds)."""
    url = require_url(require(channel.config, "url", "webhook"), "webhook")
    secret = require(channel.config, "secret", "webhook")
    body = json.dumps(
        payload(alert, timestamp_s=sent_at_s), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        TIMESTAMP_HEADER: str(sent_at_s),
        SIGNATURE_HEADER: signature(secret, body),
        EVENT_HEADER: alert.kind,
    }
    return HttpPost(url, body, headers)
