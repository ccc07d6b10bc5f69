"""Detection lag in local mode: from the moment a check is due to go down to its alert leaving.

`cronbeat dev` runs with a 1 s sweep and 1 s minimum period; 20 checks (timeout 1 s, grace 1 s)
are pinged once and left to go silent. Each check's deadline is taken from the moment its ping was
*sent* (the earliest the server can have recorded it), and the alert's moment is the webhook's
arrival, which comes after the SNS hand-off: both ends err towards a longer lag, never a shorter.

The lag is split at the webhook's `flip_time` (the sweep's instant): the wait for the next whole
second the sweeper runs on (0-1 s by design, as EventBridge's times are whole seconds), then the
sweep, the stream, the notifier, the queue and the deliverer up to the webhook's arrival. It
leaves out what local mode does not have: Lambda cold starts, SQS and SNS delivery on AWS, and a
network between the deliverer and the receiver.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import datetime
from typing import Any

from tests.e2e.devserver import Receiver, start

from benchmarks.harness import report

CHECKS = int(os.environ.get("BENCH_LAG_CHECKS", "20"))
SWEEP_S = 1
TIMEOUT_S = 1
GRACE_S = 1


def measure() -> dict[str, Any]:
    receiver = Receiver()
    http = receiver.serve()
    server = start("--sweep-seconds", str(SWEEP_S), "--min-period", "1")
    try:
        channel = server.api("POST", "channels/", {"kind": "webhook", "url": receiver.url})
        assert channel.status == 201, channel.text()
        ids = []
        for index in range(CHECKS):
            spec = {"name": f"lag {index}", "timeout": TIMEOUT_S, "grace": GRACE_S, "channels": "*"}
            reply = server.api("POST", "checks/", spec)
            ids.append(reply.json()["uuid"])
        deadlines: dict[str, float] = {}
        for check_id in ids:
            sent_s = time.time()
            assert server.ping(check_id).status == 200
            deadlines[check_id] = sent_s + TIMEOUT_S + GRACE_S
        deliveries = receiver.wait_for(CHECKS, 60, server.stderr.text)
    finally:
        server.stop()
        http.shutdown()
    lags, to_sweep, after_sweep = [], [], []
    for delivery in deliveries:
        payload = json.loads(delivery.body)
        if payload["status"] == "down" and payload["check_id"] in deadlines:
            deadline_s = deadlines.pop(payload["check_id"])
            swept_s = datetime.fromisoformat(payload["flip_time"]).timestamp()
            lags.append(delivery.received_s - deadline_s)
            to_sweep.append(swept_s - deadline_s)
            after_sweep.append(delivery.received_s - swept_s)
    assert len(lags) == CHECKS, f"{len(lags)} of {CHECKS} checks alerted"
    return {
        "detection_lag_s": {
            "checks": CHECKS,
            "sweep_s": SWEEP_S,
            "p50": round(statistics.median(lags), 3),
            "max": round(max(lags), 3),
            "to_sweep_p50": round(statistics.median(to_sweep), 3),
            "sweep_to_webhook_p50": round(statistics.median(after_sweep), 3),
            "sweep_to_webhook_max": round(max(after_sweep), 3),
        }
    }


if __name__ == "__main__":
    report(measure())
