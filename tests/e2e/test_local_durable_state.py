"""`cronbeat dev --state` killed with SIGKILL mid-load keeps every acknowledged write."""

from __future__ import annotations

import http.client
import random
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e.devserver import DevServer, start

ROUNDS = 5
CLIENTS = 4
MAX_PINGS_PER_CLIENT = 200
"""A bound on each client's loop, so a round ends by itself even if the kill never comes."""


@dataclass
class Load:
    """Clients pinging one check, each ping told apart by its User-Agent."""

    server: DevServer
    check_id: str
    round_number: int
    acknowledged: set[str] = field(default_factory=set)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def run_client(self, client: int) -> None:
        address = urlsplit(self.server.base_url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        try:
            for number in range(MAX_PINGS_PER_CLIENT):
                agent = f"round{self.round_number}-client{client}-ping{number}"
                connection.request("GET", f"/ping/{self.check_id}", headers={"User-Agent": agent})
                reply = connection.getresponse()
                if reply.read() != b"OK" or reply.status != 200:
                    return
                with self.changed:
                    self.acknowledged.add(agent)
                    self.changed.notify_all()
        except (OSError, http.client.HTTPException):
            return  # the server was killed under this client, maybe mid-reply: not acknowledged
        finally:
            connection.close()

    def wait_for_acknowledged(self, count: int) -> None:
        with self.changed:
            self.changed.wait_for(lambda: len(self.acknowledged) >= count, timeout=30)


def pinged_agents(server: DevServer, check_id: str) -> list[str]:
    reply = server.api("GET", f"checks/{check_id}/pings/?limit=1000")
    assert reply.status == 200, reply.text
    return [ping["ua"] for ping in reply.json()["pings"]]


def test_sigkill_at_random_moments_loses_no_acknowledged_ping_and_repeats_none(
    tmp_path: Path,
) -> None:
    # Given a server keeping its state in a file, and a check
    state = tmp_path / "state.json"
    server = start("--state", str(state))
    check_id = server.api("POST", "checks/", {"name": "durable", "timeout": 3600}).json()["uuid"]
    chooser = random.Random(20261207)
    acknowledged: set[str] = set()
    for round_number in range(ROUNDS):
        # When pings flow from several clients and the server is killed at a random moment
        load = Load(server, check_id, round_number)
        clients = [
            threading.Thread(target=load.run_client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        load.wait_for_acknowledged(chooser.randint(1, 60))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        for client in clients:
            client.join(15)
        with load.changed:
            acknowledged |= load.acknowledged
        # And started again on the same file
        server = start("--state", str(state))

    # Then every acknowledged ping is there, and none is there twice
    try:
        agents = pinged_agents(server, check_id)
        assert acknowledged - set(agents) == set()
        assert len(agents) == len(set(agents))
        assert len(acknowledged) >= ROUNDS
        check = server.api("GET", f"checks/{check_id}").json()
        # (a ping killed between its two writes has counted without being listed, as a
        # Lambda that dies between them would: at most one per client per round)
        assert len(agents) <= check["n_pings"] <= len(agents) + ROUNDS * CLIENTS
        assert "damaged" not in server.stderr.text()
    finally:
        assert server.stop() == 0
    # And a clean exit leaves the snapshot and an empty journal, with no partial files beside
    assert (tmp_path / "state.json.journal").read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.journal"]


def test_a_damaged_journal_tail_is_reported_and_its_valid_prefix_kept(tmp_path: Path) -> None:
    # Given a server killed after a check was created and pinged
    state = tmp_path / "state.json"
    server = start("--state", str(state))
    check_id = server.api("POST", "checks/", {"name": "kept", "timeout": 3600}).json()["uuid"]
    assert server.ping(check_id).text == "OK"
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    # And a journal whose last line was cut short, and a save that was interrupted half-way
    journal = tmp_path / "state.json.journal"
    whole = journal.read_bytes()
    assert whole.endswith(b"\n")
    journal.write_bytes(whole + b'0badf00d {"table": "events", "ke')
    (tmp_path / ".state.json.x1y2z3.partial").write_text('{"format": "cronb')

    # When it is started again
    server = start("--state", str(state))
    try:
        # Then one line says what was dropped, and the writes before it are all there
        damage = [line for line in server.stderr.lines if "journal" in line]
        assert len(damage) == 1, server.stderr.text()
        assert f"line {len(whole.splitlines()) + 1} is cut short or damaged" in damage[0]
        assert server.api("GET", f"checks/{check_id}").json()["n_pings"] == 1
        assert "removed the partial file" in server.stdout.text()
        assert not (tmp_path / ".state.json.x1y2z3.partial").exists()
    finally:
        assert server.stop() == 0
