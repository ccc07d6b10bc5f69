"""`cronbeat dev` overloaded: it answers 200 or 503, its memory stays flat, and it recovers."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from cronbeat.local.gateway import WORKERS
from tests.e2e.devserver import start

CLIENTS = 10 * WORKERS
REQUESTS_PER_CLIENT = 5
RSS_BUDGET_MB = 500


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_ten_times_the_pool_gets_only_200_or_503_in_bounded_memory() -> None:
    # Given a running server and a check
    server = start()
    try:
        check_id = server.api("POST", "checks/", {"name": "busy", "timeout": 3600}).json()["uuid"]
        address = urlsplit(server.base_url)
        statuses: Counter[int | str] = Counter()
        lock = threading.Lock()
        go = threading.Event()

        def client() -> None:
            go.wait(10)
            for _ in range(REQUESTS_PER_CLIENT):
                connection = http.client.HTTPConnection(
                    address.hostname or "", address.port, timeout=30
                )
                try:
                    connection.request("POST", f"/ping/{check_id}", body=b"x" * 2000)
                    reply = connection.getresponse()
                    reply.read()
                    outcome: int | str = reply.status
                except OSError as error:
                    outcome = type(error).__name__
                finally:
                    connection.close()
                with lock:
                    statuses[outcome] += 1

        # When ten times the pool's size of clients send at once
        clients = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        finished = threading.Event()
        peak_mb = [resident_mb(server.process.pid)]

        def sample_memory() -> None:
            while not finished.wait(0.05):
                peak_mb[0] = max(peak_mb[0], resident_mb(server.process.pid))

        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        go.set()
        for thread in clients:
            thread.join(60)
        finished.set()
        sampler.join(5)

        # Then every request got a 200 or a 503, and the server's memory stayed in bounds
        assert set(statuses) <= {200, 503}, statuses
        assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
        assert statuses[200] > 0
        assert statuses[503] > 0  # the load did reach past the pool and its queue
        assert peak_mb[0] < RSS_BUDGET_MB, f"{peak_mb[0]:.0f} MB"
        # And it answers its status within a second afterwards
        started = time.monotonic()
        assert server.api("GET", "status/").status == 200
        assert time.monotonic() - started < 1.0
        # And every ping it acknowledged was recorded
        check = server.api("GET", f"checks/{check_id}").json()
        assert check["n_pings"] == statuses[200]
    finally:
        assert server.stop() == 0
