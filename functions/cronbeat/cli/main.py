"""`cronbeat`: wrap a job (`run`), ask about past runs (`ls`, `history`, `stats`, `last-failure`),
and run the monitor (`checks`, `channels`, `sync`, `apply`, `export`, `import-hc`).

`dev` and `keys` belong to the server side: they are imported only when asked for, so a job host
with the plain `pip install cronbeat` never loads boto3. Every usage error is one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cronbeat.cli import manage_cli, query
from cronbeat.cli.api import ApiError
from cronbeat.cli.count import COUNT_VARIABLE
from cronbeat.cli.options import (
    Parser,
    UsageError,
    api_client,
    base_url,
    count,
    duration,
    secret,
)
from cronbeat.cli.ping import Pinger, PingTarget
from cronbeat.cli.progress import MIN_STUCK_AFTER_S
from cronbeat.cli.table import duration_text
from cronbeat.cli.timespec import parse_since
from cronbeat.cli.wrap import DEFAULT_OUTPUT_LIMIT_BYTES, DEFAULT_RETRY_DELAY_S, Wrapping, wrap

USAGE_ERROR = 2
SERVER_COMMANDS = {"dev": "cronbeat.local.server", "keys": "cronbeat.admin.keys"}
# The `server` extras' top-level modules: checked for before a server command is imported.
SERVER_EXTRAS = ("boto3", "aws_lambda_powertools", "pydantic", "cronsim", "oncalendar")
# Each server command's extra, and the top-level modules it brings.
COMMAND_EXTRAS = {"dev": ("local", (*SERVER_EXTRAS, "moto")), "keys": ("server", SERVER_EXTRAS)}


RUN_EPILOG = f"""\
count:
  A line {COUNT_VARIABLE}=N on its own in the job's output (stdout or stderr; the last one wins;
  N a whole number, 0 or more) sends count=N with the finish ping, for the check's min_count.
  A bad value is left out, and the ping body says why. Or: --count-from FILE.

retries:
  --retries-job 3 runs a failing job at most 4 times, waiting between half and all of 10s,
  20s, 40s (--retry-delay 10s). One start ping and one finish ping cover all attempts: the last
  decides success or failure and the exit status, the body lists each attempt, and the finish
  carries attempt=N&attempts=M. SIGINT, SIGTERM or SIGHUP stops the retries.

stuck runs:
  --stuck-after 30m sends /progress when the job prints (the first output at once, then at most
  once a minute). The check's own stuck_after field (seconds) decides when a silent run is
  down: pings cannot change it, so set it to the same value on the check (through the API).
"""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in SERVER_COMMANDS:
        return _server_command(arguments[0], arguments[1:])
    try:
        options = _parser().parse_args(arguments)
        command: Callable[[argparse.Namespace], int] = options.command
        return command(options)
    except (UsageError, ApiError) as error:
        print(f"cronbeat: {error}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else USAGE_ERROR
    except KeyboardInterrupt:
        return 130


def _server_command(name: str, rest: list[str]) -> int:
    """Import and run a server-side command, or say in one line what it lacks."""
    extra, modules = COMMAND_EXTRAS[name]
    missing = next((m for m in modules if importlib.util.find_spec(m) is None), None)
    if missing is None:
        try:
            status = importlib.import_module(SERVER_COMMANDS[name]).main(rest)
        except ModuleNotFoundError as absent:  # also raised by the imports a command makes late
            missing = (absent.name or "").partition(".")[0]
        else:
            return status if isinstance(status, int) else 0
    if missing in modules:
        lacks = f"needs the {extra} extras: pip install 'cronbeat[{extra}]'"
    elif missing == "cronbeat":
        lacks = "is not part of this installation"
    else:
        lacks = f"needs the Python package {missing!r}"
    print(f"cronbeat {name} {lacks}", file=sys.stderr)
    return USAGE_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cronbeat",
        description="Heartbeat monitoring for cron jobs: wrap a job, ask how its runs went.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run a job and report its start, exit status, duration and output",
        description="Run COMMAND (no shell) and ping the monitor at its start and at its end.",
        usage="cronbeat run [options] -- COMMAND [ARGS...]",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    identity = run.add_argument_group("the check (each may be file:PATH)")
    identity.add_argument("--url", help="the monitor's base URL [CRONBEAT_URL]")
    identity.add_argument("--uuid", help="the check's ping UUID [CRONBEAT_CHECK_UUID]")
    identity.add_argument("--slug", help="the check's slug, with --ping-key [CRONBEAT_CHECK_SLUG]")
    identity.add_argument(
        "--ping-key", metavar="KEY", help="the project's ping key [CRONBEAT_PING_KEY]"
    )
    identity.add_argument("--create", action="store_true", help="create the slug's check if new")
    job = run.add_argument_group("the job")
    job.add_argument(
        "--timeout",
        type=duration,
        metavar="DURATION",
        help="kill the job after this long (90s, 2h)",
    )
    job.add_argument(
        "--kill-after",
        type=duration,
        default=10.0,
        metavar="DURATION",
        help="SIGKILL this long after the timeout's SIGTERM (default 10s)",
    )
    job.add_argument(
        "--output-limit",
        type=count,
        default=DEFAULT_OUTPUT_LIMIT_BYTES,
        metavar="BYTES",
        help="send at most the last BYTES of output (default 10000, or the server's limit)",
    )
    job.add_argument("--no-output", action="store_true", help="send none of the job's output")
    job.add_argument(
        "--retries-job",
        type=count,
        default=0,
        metavar="N",
        help="run a failing job again, up to N more times (N + 1 attempts in all) in one run",
    )
    job.add_argument(
        "--retry-delay",
        type=duration,
        default=DEFAULT_RETRY_DELAY_S,
        metavar="DURATION",
        help="wait before the first retry, doubling for each next one, with jitter (default 10s)",
    )
    job.add_argument(
        "--stuck-after",
        type=duration,
        metavar="DURATION",
        help="report new output as progress (at most one /progress ping a minute); "
        "give the check the same stuck_after",
    )
    job.add_argument(
        "--count-from",
        type=Path,
        metavar="FILE",
        help=f"read the count from FILE when the job ends, instead of a {COUNT_VARIABLE}= line",
    )
    pings = run.add_argument_group("the pings")
    pings.add_argument("--no-start-ping", action="store_true", help="send only the finish ping")
    pings.add_argument(
        "--retries",
        type=count,
        default=3,
        metavar="N",
        help="retries of a failed ping (default 3)",
    )
    pings.add_argument(
        "--ping-timeout",
        type=duration,
        default=5.0,
        metavar="DURATION",
        help="time allowed for each try (default 5s)",
    )
    run.add_argument(
        "job_command", nargs=argparse.REMAINDER, metavar="COMMAND", help=argparse.SUPPRESS
    )
    run.set_defaults(command=_run)

    api = Parser(add_help=False)
    api.add_argument("--url", help="the monitor's base URL [CRONBEAT_URL]")
    api.add_argument(
        "--api-key", help="a read-only or read-write API key, or file:PATH [CRONBEAT_API_KEY]"
    )
    api.add_argument("--json", action="store_true", help="print JSON instead of a table")

    ls = commands.add_parser("ls", parents=[api], help="every check, or every run since a time")
    ls.add_argument("--since", help="list the runs of all checks since then (24h, 2026-03-01)")
    ls.set_defaults(command=_ls)
    history = commands.add_parser("history", parents=[api], help="a check's last runs")
    history.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    history.add_argument("-n", type=count, default=20, dest="limit", help="runs (default 20)")
    history.set_defaults(command=_history)
    stats = commands.add_parser("stats", parents=[api], help="success rate and durations")
    stats.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    stats.add_argument("--since", default="7d", help="window start (default 7d)")
    stats.set_defaults(command=_stats)
    failure = commands.add_parser(
        "last-failure", parents=[api], help="the output of the most recent failed run"
    )
    failure.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    failure.set_defaults(command=_last_failure)

    manage_cli.add_commands(commands, api)

    commands.add_parser("dev", help="run the whole monitor locally (server extras)", add_help=False)
    commands.add_parser("keys", help="manage API keys (server extras)", add_help=False)
    return parser


def _run(options: argparse.Namespace) -> int:
    command = list(options.job_command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise UsageError("run: no COMMAND to run (cronbeat run [options] -- COMMAND [ARGS...])")
    if options.stuck_after is not None:
        if options.no_start_ping:
            raise UsageError("run: --stuck-after needs the start ping: only a started run sticks")
        if options.stuck_after < MIN_STUCK_AFTER_S:
            raise UsageError(
                f"run: --stuck-after must be at least {duration_text(MIN_STUCK_AFTER_S)}: "
                "progress reaches the monitor up to a minute late"
            )
    wrapping = Wrapping(
        target=_ping_target(options),
        command=command,
        pinger=Pinger(retries=options.retries, timeout_s=options.ping_timeout),
        timeout_s=options.timeout,
        kill_after_s=options.kill_after,
        output_limit_bytes=options.output_limit,
        send_output=not options.no_output,
        start_ping=not options.no_start_ping,
        job_retries=options.retries_job,
        retry_delay_s=options.retry_delay,
        stuck_after_s=options.stuck_after,
        count_from=options.count_from,
    )
    return wrap(wrapping)


def _ping_target(options: argparse.Namespace) -> PingTarget:
    url = base_url(options.url)
    if options.uuid and options.slug:
        raise UsageError("run: give --uuid or --slug, not both")
    uuid, slug = options.uuid, options.slug
    if not uuid and not slug:
        uuid = os.environ.get("CRONBEAT_CHECK_UUID") or None
        slug = None if uuid else os.environ.get("CRONBEAT_CHECK_SLUG") or None
    if uuid:
        if options.create:
            raise UsageError("run: --create works with --slug only")
        return PingTarget.for_uuid(url, secret(uuid, "--uuid"))
    if not slug:
        raise UsageError(
            "run: which check? pass --uuid, or --slug with --ping-key "
            "(or set CRONBEAT_CHECK_UUID, or CRONBEAT_CHECK_SLUG and CRONBEAT_PING_KEY)"
        )
    ping_key = options.ping_key or os.environ.get("CRONBEAT_PING_KEY")
    if not ping_key:
        raise UsageError("run: --slug needs --ping-key (or CRONBEAT_PING_KEY)")
    return PingTarget.for_slug(
        url, secret(ping_key, "--ping-key"), secret(slug, "--slug"), create=options.create
    )


def _ls(options: argparse.Namespace) -> int:
    api = api_client(options)
    if options.since is None:
        query.list_checks(api, sys.stdout, as_json=options.json)
    else:
        query.list_runs(api, _since(options.since), sys.stdout, as_json=options.json)
    return 0


def _history(options: argparse.Namespace) -> int:
    query.history(
        api_client(options), options.check, options.limit, sys.stdout, as_json=options.json
    )
    return 0


def _stats(options: argparse.Namespace) -> int:
    since = _since(options.since)
    query.stats(api_client(options), options.check, since, sys.stdout, as_json=options.json)
    return 0


def _last_failure(options: argparse.Namespace) -> int:
    query.last_failure(api_client(options), options.check, sys.stdout, as_json=options.json)
    return 0


def _since(text: str) -> datetime:
    try:
        return parse_since(text, datetime.now(UTC))
    except ValueError as error:
        raise UsageError(f"--since: {error}") from None


def _version() -> str:
    from cronbeat.cli.ping import user_agent

    return user_agent().replace("/", " ")
