"""`cronbeat dev`: the whole monitor on one machine, running the same handlers as Lambda.

HTTP requests become API Gateway events for the ping and API handlers, the scanner runs on a
timer, the notifier gets each flip in the stream's record shape, and moto stands in for
DynamoDB, SNS and SQS. No AWS account and no Docker.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import secrets
import signal
import string
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from cronbeat.cli.signals import SignalEvent
from cronbeat.local import state as saved_state
from cronbeat.local.console import Console
from cronbeat.local.functions import API, DELIVERER, NOTIFIER, PING, REGION, SCANNER
from cronbeat.local.gateway import GatewayServer
from cronbeat.local.journal import Journal, journal_path, replay

PROG = "cronbeat dev"
_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")
_KEY_ALPHABET = string.ascii_letters + string.digits
_DRAIN_TIMEOUT_S = 10.0
_STOP_POLL_S = 0.05
"""How often the HTTP loop looks for a stop request: Ctrl-C is not kept waiting on it."""


class UsageError(Exception):
    """A bad flag or value: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _number(text: str, kind: type[int] | type[float], low: float, high: float, what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def _sweep_seconds(text: str) -> float:
    return float(_number(text, float, 0.1, 86400, "a number of seconds from 0.1 to 86400"))


def _min_period(text: str) -> int:
    return int(_number(text, int, 1, 31_536_000, "a whole number of seconds, at least 1"))


def _port(text: str) -> int:
    return int(_number(text, int, 0, 65535, "a port number from 0 to 65535"))


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Run cronbeat on this machine: the real handlers on moto's in-memory AWS.",
        epilog="Handler logs are Powertools JSON at --log-level (POWERTOOLS_LOG_LEVEL also works).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to listen on, 0 for any free one (default 8000)",
    )
    p.add_argument(
        "--sweep-seconds",
        type=_sweep_seconds,
        default=10.0,
        metavar="S",
        help="run the scanner every S seconds (default 10; the stack runs it every minute)",
    )
    p.add_argument(
        "--min-period",
        type=_min_period,
        default=1,
        metavar="S",
        help="smallest timeout and grace the API accepts, in seconds (default 1; deployed: 60)",
    )
    p.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get("CRONBEAT_API_KEY"),
        help="the read-write API key, 32 characters (default: $CRONBEAT_API_KEY, else random)",
    )
    p.add_argument(
        "--read-only-key",
        metavar="KEY",
        default=os.environ.get("CRONBEAT_READ_ONLY_KEY"),
        help="the read-only API key (default: $CRONBEAT_READ_ONLY_KEY, else random)",
    )
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep the tables in FILE: loaded at start, every write journaled before its reply",
    )
    p.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING").upper(),
        help="level of the handlers' JSON logs (default WARNING)",
    )
    return p


def parse(argv: list[str]) -> argparse.Namespace:
    options = parser().parse_args(argv)
    for flag, key in (("--api-key", options.api_key), ("--read-only-key", options.read_only_key)):
        if key is not None and not _KEY.match(key):
            raise UsageError(f"{flag} must be exactly 32 letters, digits, '-' or '_'")
    if (
        options.api_key
        and options.read_only_key
        and options.api_key[:8] == options.read_only_key[:8]
    ):
        # Keys are looked up by their first 8 characters, which therefore name one key.
        raise UsageError("--api-key and --read-only-key must differ in their first 8 characters")
    return options


def new_key() -> str:
    """32 letters and digits: no leading '-' to be mistaken for a flag when passed back in."""
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


@dataclass(frozen=True, slots=True)
class Keys:
    read_write: str
    read_only: str
    ping: str


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM; return the exit status."""
    console = Console()
    try:
        options = parse(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        console.error(f"{PROG}: {error} (see {PROG} --help)")
        return 2
    except SystemExit as done:  # --help
        return int(done.code or 0)

    state_path: Path | None = options.state
    restored: saved_state.State | None = None
    if state_path:
        try:
            restored = _read_state(state_path, console)
        except saved_state.StateError as error:
            console.error(f"{PROG}: {error}")
            return 2

    try:
        gateway = GatewayServer((options.host, options.port), console)
    except OSError as error:
        console.error(f"{PROG}: {_listen_error(options.host, options.port, error)}")
        return 1
    base_url = _base_url(options.host, gateway.server_address[1])
    _configure_environment(base_url, options.min_period, options.log_level)
    try:
        return Local(console, gateway, base_url, options, state_path, restored).run()
    except KeyboardInterrupt:  # Ctrl-C before start-up finished: nothing to save yet
        return 130


def _read_state(path: Path, console: Console) -> saved_state.State | None:
    """The snapshot with the journal's writes applied; None when neither exists yet."""
    restored = saved_state.read(path)
    saved_state.check_writable(path)
    if saved_state.remove_partial_saves(path):
        console.say(f"removed the partial file of a save that was interrupted, beside {path}")
    journal_file = journal_path(path)
    if restored is None and not journal_file.exists():
        return None
    state = restored or saved_state.State()
    replayed = replay(journal_file, state)
    damage = replayed.report(journal_file)
    if damage:
        console.error(f"{PROG}: {damage}")
    return state


class Local:
    """The running server: start-up, the background loops, and a clean shutdown."""

    def __init__(
        self,
        console: Console,
        gateway: GatewayServer,
        base_url: str,
        options: argparse.Namespace,
        state_path: Path | None,
        restored: saved_state.State | None,
    ) -> None:
        self.console = console
        self.gateway = gateway
        self.base_url = base_url
        self.options = options
        self.state_path = state_path
        self.restored = restored
        self.stop = threading.Event()
        self.stop_requested = SignalEvent()
        """Set by SIGINT and SIGTERM; the main thread then sets `stop` for the loops."""
        self.threads: list[threading.Thread] = []
        self.keys: dict[str, str] = {}
        self.journal: Journal | None = None
        self._previous_handlers: dict[int, Any] = {}

    def run(self) -> int:
        # Catch SIGINT and SIGTERM from the first moment: a stop asked for during start-up
        # still ends in a clean shutdown (and a saved state) once start-up is done.
        self._previous_handlers = {
            signum: signal.signal(signum, self._request_stop)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            return self._run()
        finally:
            self._restore_signal_handlers()
            self.stop_requested.release()

    def _run(self) -> int:
        self.console.say("starting AWS emulation (moto on 127.0.0.1)")
        import boto3

        from cronbeat.local.backend import TABLE_NAMES, LocalAws
        from cronbeat.local.stream import EventsStream
        from cronbeat.local.sweeper import sweep_forever
        from cronbeat.local.topic import drain
        from cronbeat.local.workers import QueueWorkers

        if self.state_path is not None:
            self.journal = Journal(journal_path(self.state_path), TABLE_NAMES)
        self.aws = LocalAws.start(progress=self.console.say, after_write=self.journal)
        # Handlers build their clients from boto3's default session: watch it before they do.
        boto3.setup_default_session(region_name=REGION)
        assert boto3.DEFAULT_SESSION is not None
        self.stream = EventsStream(self.aws.events_table, self.console)
        self.stream.observe(boto3.DEFAULT_SESSION.events)
        try:
            loaded = self._restore()
            keys = self._seed_keys()
        except saved_state.StateError as error:
            self.console.error(f"{PROG}: {error}")
            self._stop_backend()
            return 2
        if self.state_path is not None and self._save(quiet=True) != 0:
            self._stop_backend()
            return 1
        self._report_missing_handlers()

        self._start("http", self.gateway.serve_forever, _STOP_POLL_S)
        self._start("sweeper", sweep_forever, self.stop, self.options.sweep_seconds, self.console)
        self._start("stream", self.stream.run, self.stop)
        self.workers = QueueWorkers(self.aws.sqs, self.aws.deliveries_queue_url, self.console)
        for number in range(self.workers.size):
            self._start(f"deliverer-{number}", self.workers.run, self.stop)
        self._start(
            "alerts", drain, self.aws.sqs, self.aws.alerts_queue_url, self.console, self.stop
        )
        self.console.write(banner(self.base_url, keys, self.options, self.state_path, loaded))

        self.stop_requested.wait()
        self.stop.set()
        # A second Ctrl-C during shutdown ends the process at once.
        self._restore_signal_handlers()
        return self._shut_down()

    def _start(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"cronbeat-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _restore(self) -> int | None:
        """Load the saved items; None when there was no state to load."""
        if self.restored is None:
            return None
        self.console.say(f"loading the saved state from {self.state_path}")
        return saved_state.load_tables(
            self.aws.dynamodb, self.aws.table_names, self.restored, int(time.time())
        )

    def _seed_keys(self) -> Keys:
        """Create the read-write and read-only keys, and the project's ping key."""
        from cronbeat import runtime
        from cronbeat.clock import now_ms
        from cronbeat.store.keys import KeyConflict

        saved = self.restored.keys if self.restored else {}
        stores = runtime.stores()  # the functions' own: the environment names local tables
        store = stores.keys
        wanted = {
            "read_write": self.options.api_key or saved.get("read_write") or new_key(),
            "read_only": self.options.read_only_key or saved.get("read_only") or new_key(),
        }
        made: dict[str, str] = {}
        for role, key in wanted.items():
            try:
                made[role] = store.create(
                    read_only=role == "read_only",
                    name=f"cronbeat dev ({role.replace('_', '-')})",
                    key=key,
                    at_ms=now_ms(),
                )
            except KeyConflict:
                flag = "--api-key" if role == "read_write" else "--read-only-key"
                raise saved_state.StateError(
                    f"{flag}: the state holds a different key with the same first 8 characters"
                ) from None
        self.keys = made
        ping_key = stores.project.ensure_ping_key()
        return Keys(made["read_write"], made["read_only"], ping_key)

    def _report_missing_handlers(self) -> None:
        for function in (PING, API, SCANNER, NOTIFIER, DELIVERER):
            try:
                function.load()
            except ImportError as error:
                self.console.error(f"{PROG}: {function.module_name} is not available: {error}")

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested.set()  # never `self.stop.set()` here: see SignalEvent

    def _restore_signal_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)

    def _shut_down(self) -> int:
        self.console.say("stopping")
        self.gateway.shutdown()
        if not self.gateway.in_flight.wait_idle(_DRAIN_TIMEOUT_S):
            self.console.say("requests still running after 10 s; stopping anyway")
        # One deadline for all the loops, not one each: eight workers each waiting out a long poll
        # must not add up to minutes (daemon threads left then end with the process).
        deadline = time.monotonic() + _DRAIN_TIMEOUT_S
        for thread in self.threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.0))
        status = 0
        if self.state_path is not None:
            status = self._save()
        self._stop_backend()
        self.gateway.server_close()
        return status

    def _save(self, *, quiet: bool = False) -> int:
        """Compact: the whole tables into the snapshot, then an empty journal.

        Done at start (after loading, so the journal only ever holds writes since then) and on
        a clean shutdown. The journal records on: a write is never left out of both.
        """
        assert self.state_path is not None
        assert self.journal is not None
        try:
            tables = saved_state.dump_tables(
                self.aws.dynamodb, self.aws.table_names, int(time.time())
            )
            saved_state.write(self.state_path, saved_state.State(tables, dict(self.keys)))
            self.journal.truncate()
        except OSError as error:
            self.console.error(f"{PROG}: cannot save state to {self.state_path}: {error.strerror}")
            return 1
        if not quiet:
            count = sum(len(items) for items in tables.values())
            self.console.say(f"saved {count} items to {self.state_path}")
        return 0

    def _stop_backend(self) -> None:
        self.stop.set()
        self.aws.stop()
        if self.journal is not None:
            self.journal.close()


def banner(
    base_url: str,
    keys: Keys,
    options: argparse.Namespace,
    state_path: Path | None,
    loaded: int | None,
) -> str:
    """What a new user needs to start: where it runs, the keys, and three commands to paste."""
    if state_path is None:
        storage = (
            "Data lives in memory only: it is gone when this server stops.\n"
            "Start with --state FILE to keep it across restarts."
        )
    else:
        found = "new" if loaded is None else f"loaded {loaded} items"
        storage = (
            f"State: {state_path} ({found}). Every write is journaled beside it before its\n"
            "reply, so even a killed server loses nothing; a clean exit compacts the two."
        )
    key_header = f'-H "X-Api-Key: {keys.read_write}"'
    return f"""
cronbeat dev is running: the real handlers on moto's in-memory AWS.

  Base URL       {base_url}
  API key        {keys.read_write}   (read-write)
  Read-only key  {keys.read_only}
  Ping key       {keys.ping}   (slug pings: {base_url}/ping/{keys.ping}/<slug>)
  Scanner        every {options.sweep_seconds:g} s; timeout and grace may be as short as \
{options.min_period} s

{storage}

Try it:
  # 1. create a check that expects a ping every 60 s (the reply holds its ping_url)
  curl -s {base_url}/api/v3/checks/ {key_header} \\
    -d '{{"name": "backup", "slug": "backup", "timeout": 60, "grace": 10}}'
  # 2. ping it
  curl -fsS {base_url}/ping/{keys.ping}/backup
  # 3. list checks
  curl -s {base_url}/api/v3/checks/ {key_header}

Press Ctrl-C to stop.
"""


def _configure_environment(base_url: str, min_period_s: int, log_level: str) -> None:
    """Settings the handlers read, set before any of them is imported or builds a client."""
    os.environ["CRONBEAT_BASE_URL"] = base_url
    os.environ["CRONBEAT_MIN_PERIOD"] = str(min_period_s)
    # The local timer invokes the scanner every --sweep-seconds: one sweep per invocation.
    os.environ["CRONBEAT_SWEEP_SECONDS"] = "60"
    os.environ["POWERTOOLS_LOG_LEVEL"] = log_level
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "cronbeat")
    from cronbeat.runtime import METRICS_NAMESPACE

    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)
    # EMF metrics are CloudWatch's business; locally they would only flood the console.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _base_url(host: str, port: int) -> str:
    # Listening on every interface: show the loopback address, which is among them.
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


_PORT_HINT = '--port N, or make dev ARGS="--port N"'


def _listen_error(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (pick another: {_PORT_HINT})"
    if error.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (pick one above 1023: {_PORT_HINT})"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


if __name__ == "__main__":
    sys.exit(main())
