"""Alert isolation in local mode: how late a healthy alert is while bad channels misbehave.

`cronbeat dev` (1 s sweep) has check C with three bad channels: one that never answers, one that
trickles its reply, one that always answers 500. C fails once, so each of them holds or fails
its attempts and is retried on the queue. Check A, with one healthy webhook, then flips down and
up 10 times; each flip's latency is from the moment its ping was *sent* to the webhook's
arrival. The figure is the worst of the 10.

Left out: SNS email and SMS delivery past the topic, and Lambda's cold starts and SQS polling on
AWS, neither of which exists locally. Also left out: enough bad deliveries at once to occupy the
whole worker pool (8 locally, 10 on the stack), which would delay alerts behind them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.e2e.devserver import BadReceiver, Receiver, start

from benchmarks.harness import report

FLIPS = 10


def measure() -> dict[str, Any]:
    healthy = Receiver()
    servers = [healthy.serve()]
    bad = [BadReceiver(kind) for kind in ("never", "trickle", "500")]
    servers += [receiver.serve() for receiver in bad]
    dev = start("--sweep-seconds", "1", "--min-period", "1")
    try:

        def channel(name: str, url: str) -> str:
            body = {"kind": "webhook", "name": name, "url": url, "attach_all": False}
            reply = dev.api("POST", "channels/", body)
            assert reply.status == 201, reply.text
            return str(reply.json()["id"])

        def check(name: str, channels: list[str]) -> str:
            spec = {"name": name, "timeout": 3600, "grace": 60, "channels": ",".join(channels)}
            reply = dev.api("POST", "checks/", spec)
            assert reply.status == 201, reply.text
            return str(reply.json()["uuid"])

        c = check("bad channels", [channel(r.behaviour, r.url) for r in bad])
        a = check("healthy", [channel("healthy", healthy.url)])
        for check_id in (c, a):
            assert dev.ping(check_id).text == "OK"
        assert dev.ping(f"{c}/fail").text == "OK"
        for receiver in bad:
            receiver.wait_until(lambda r=receiver: r.requests > 0, 10, "alert")
        latencies = []
        for flip in range(FLIPS):
            sent_s = time.time()
            assert dev.ping(f"{a}/fail" if flip % 2 == 0 else a).text == "OK"
            delivery = healthy.wait_for(flip + 1, 30, dev.stdout.text)[flip]
            assert json.loads(delivery.body)["status"] == ("down" if flip % 2 == 0 else "up")
            latencies.append(delivery.received_s - sent_s)
    finally:
        dev.stop()
        for server in servers:
            server.shutdown()
    return {
        "alert_isolation_s": round(max(latencies), 3),
        "alert_isolation_p50_s": round(sorted(latencies)[len(latencies) // 2], 3),
    }


if __name__ == "__main__":
    report(measure())
