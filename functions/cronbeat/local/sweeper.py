"""The scanner's schedule in local mode: EventBridge's `rate(...)` rule, as a timer thread."""

from __future__ import annotations

import math
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


def next_sweep_s(now_s: float, every_s: float) -> float:
    """The next wall-clock multiple of `every_s`: sweeps land on whole seconds, as EventBridge's do.

    The scheduled event's `time` has whole seconds, so a sweep run mid-second would be evaluated
    up to a second in the past, and alerts would leave up to a second late.
    """
    return (math.floor(now_s / every_s) + 1) * every_s


def sweep_forever(
    stop: threading.Event,
    every_s: float,
    console: Console,
    scanner: Invocable = SCANNER,
) -> None:
    """Invoke the scanner every `every_s` seconds until `stop` is set; sweeps never overlap."""
    while True:
        at_s = next_sweep_s(time.time(), every_s)
        if stop.wait(max(0.0, at_s - time.time())):
            return
        try:
            scanner.invoke(scheduled_event(at_s))
        except ImportError:
            pass  # reported once at start-up
        except Exception:
            console.error(traceback.format_exc().rstrip())
        # A sweep slower than the rate starts the next at the following boundary, not a backlog.
