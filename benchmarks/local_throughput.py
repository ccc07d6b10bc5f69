"""Ping throughput of `cronbeat dev`: plain, with `--state` journaling, and with every ping a flip.

Each figure is a fresh server on 127.0.0.1 taking the same load: 8 clients on keep-alive
connections, each sending the same number of pings to its own check (plain and `--state`), or
all to one check alternating success and failure, so every ping changes its status and writes
a flip in a transaction (flips). The server prints a line per request to a pipe read as it goes.

Left out: the scanner (every 10 s here) and the alerts that flips queue, which their workers
send while the load runs; Healthchecks.io's `runserver`, whose source the scale issue's HC_SRC
would point to, is not measured here.
"""

from __future__ import annotations

import http.client
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.devserver import DevServer, start

from benchmarks.harness import median, report

CLIENTS = 8
PINGS_PER_CLIENT = 40
ROUNDS = 2
"""Plain and `--state` alternate, twice; the flip load runs once (it is the slow one)."""


def _load(server: DevServer, paths: list[list[str]]) -> float:
    """Pings per second for clients each sending its own list of ping paths."""
    address = urlsplit(server.base_url)
    go = threading.Barrier(len(paths) + 1)
    failures: list[str] = []

    def client(mine: list[str]) -> None:
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        go.wait()
        for path in mine:
            connection.request("GET", path)
            reply = connection.getresponse()
            if reply.read() != b"OK":
                failures.append(f"{path}: {reply.status}")
        connection.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in paths]
    for thread in threads:
        thread.start()
    go.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not failures, failures[:5]
    return sum(len(mine) for mine in paths) / elapsed


def _checks(server: DevServer, count: int) -> list[str]:
    return [
        server.api("POST", "checks/", {"name": f"load {n}", "timeout": 3600}).json()["uuid"]
        for n in range(count)
    ]


def plain(*args: str) -> float:
    server = start(*args)
    try:
        ids = _checks(server, CLIENTS)
        return _load(server, [[f"/ping/{i}"] * PINGS_PER_CLIENT for i in ids])
    finally:
        server.stop()


def flipping() -> float:
    server = start()
    try:
        (check_id,) = _checks(server, 1)
        kinds = ["", "/fail"]
        paths = [
            [f"/ping/{check_id}{kinds[(c + n) % 2]}" for n in range(PINGS_PER_CLIENT)]
            for c in range(CLIENTS)
        ]
        return _load(server, paths)
    finally:
        server.stop()


def measure() -> dict[str, Any]:
    plain_rates, journaled_rates, flip_rates = [], [], []
    with tempfile.TemporaryDirectory() as directory:
        for round_number in range(ROUNDS):
            plain_rates.append(plain())
            state = Path(directory, f"state-{round_number}.json")
            journaled_rates.append(plain("--state", str(state)))
        flip_rates.append(flipping())
    plain_rate, journaled_rate, flip_rate = (
        median(plain_rates),
        median(journaled_rates),
        median(flip_rates),
    )
    return {
        "local_pings_per_s": {
            "clients": CLIENTS,
            "plain": round(plain_rate, 1),
            "with_state": round(journaled_rate, 1),
            "every_ping_a_flip": round(flip_rate, 1),
        },
        "state_journal_ratio": round(journaled_rate / plain_rate, 3),
        "flip_ping_ratio": round(flip_rate / plain_rate, 3),
    }


if __name__ == "__main__":
    report(measure())
