"""The scanner's schedule in local mode: EventBridge's `rate(...)` rule, as a timer thread."""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from typing import Any

from cronbeat.local.console import Console
from cronbeat.local.functions import ACCOUNT_ID, REGION, SCANNER, Invocable

RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/cronbeat-sweep"


def scheduled_event(at_s: float) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's target: `time` is whole seconds, UTC."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at_s)),
        "region": REGION,
        "resources": [RULE_ARN],
        "detail": {},
    }


def sweep_forever(
    stop: threading.Event,
    every_s: float,
    console: Console,
    scanner: Invocable = SCANNER,
) -> None:
    """Invoke the scanner every `every_s` seconds until `stop` is set; sweeps never overlap."""
    next_at = time.monotonic() + every_s
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        next_at += every_s
        try:
            scanner.invoke(scheduled_event(time.time()))
        except ImportError:
            pass  # reported once at start-up
        except Exception:
            console.error(traceback.format_exc().rstrip())
        # A sweep slower than the rate starts the next one at once, not a backlog of them.
        next_at = max(next_at, time.monotonic())
