"""`cronbeat keys create|list|revoke`: manage management API keys of a deployed stack.

It runs with the caller's AWS credentials and writes straight to the stack's events table, which
is how the first key of a new deployment is made (the API cannot make a key without a key).
The events table comes from `--table`, or from the stack's `EventsTableName` output (`--stack`,
default `Cronbeat`). A new key is printed once, alone on stdout, so `$(cronbeat keys create)`
captures it; only its digest is stored.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from cronbeat.settings import Settings
from cronbeat.store.keys import ApiKeyStore, KeyConflict
from cronbeat.stores import Stores, build_stores

DEFAULT_STACK = "Cronbeat"
TABLE_OUTPUT = "EventsTableName"
USAGE_ERROR = 2


class AdminError(Exception):
    """Something the operator must fix, said in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise AdminError(f"{message} (see {self.prog} -h)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cronbeat keys", description="Manage management API keys.")
    where = _Parser(add_help=False)
    target = where.add_mutually_exclusive_group()
    target.add_argument("--stack", help=f"CloudFormation stack name (default {DEFAULT_STACK})")
    target.add_argument("--table", help="events table name (instead of reading the stack)")
    where.add_argument("--region", help="AWS region (default: your AWS configuration's)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    create = commands.add_parser(
        "create", parents=[where], help="make a key and print it once", prog="cronbeat keys create"
    )
    create.add_argument("--read-only", action="store_true", help="a key that cannot write")
    create.add_argument("--name", default="", help="a label to recognise the key by")
    commands.add_parser("list", parents=[where], help="list keys", prog="cronbeat keys list")
    revoke = commands.add_parser(
        "revoke", parents=[where], help="delete a key", prog="cronbeat keys revoke"
    )
    revoke.add_argument("prefix", metavar="PREFIX", help="the key's first 8 characters")
    commands.add_parser(
        "ping-key",
        parents=[where],
        help="print the ping key of slug URLs (/ping/<ping-key>/<slug>), making it if need be",
        prog="cronbeat keys ping-key",
    )
    return parser


def _session(region: str | None) -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


def _stack_table(session: Any, stack: str) -> str:
    """The stack's events table: its output, or its one events table resource."""
    cloudformation = session.client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as error:  # botocore's ClientError and credential errors alike
        raise AdminError(f"cannot read stack {stack!r}: {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if TABLE_OUTPUT in outputs:
        return str(outputs[TABLE_OUTPUT])
    resources = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    tables = [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::DynamoDB::Table" and "Events" in r["LogicalResourceId"]
    ]
    if len(tables) != 1:
        raise AdminError(f"stack {stack!r} has no {TABLE_OUTPUT} output: use --table")
    return str(tables[0])


def _stores(options: argparse.Namespace) -> tuple[Stores, str]:
    """The stores of the events table the options point at, and that table's name."""
    session = _session(options.region)
    table = options.table or _stack_table(session, options.stack or DEFAULT_STACK)
    return build_stores(Settings(events_table=table), session.client("dynamodb")), table


def _store(options: argparse.Namespace) -> tuple[ApiKeyStore, str]:
    stores, table = _stores(options)
    return stores.keys, table


def _when(at_ms: int | None) -> str:
    if at_ms is None:
        return "-"
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _create(options: argparse.Namespace) -> int:
    store, table = _store(options)
    try:
        key = store.create(
            read_only=options.read_only, name=options.name, at_ms=time.time_ns() // 1_000_000
        )
    except KeyConflict as error:
        raise AdminError(str(error)) from None
    access = "read-only" if options.read_only else "read-write"
    print(key)
    print(
        f"{access} key {key[:8]} stored in {table}; this is the only time it is shown",
        file=sys.stderr,
    )
    return 0


def _list(options: argparse.Namespace) -> int:
    store, _ = _store(options)
    records = sorted(store.all(), key=lambda r: (r.created_ms or 0, r.prefix))
    rows = [("PREFIX", "ACCESS", "CREATED", "NAME")]
    rows += [
        (r.prefix, "read-only" if r.read_only else "read-write", _when(r.created_ms), r.name)
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), end=""
        )
        print(f"  {row[3]}".rstrip())
    return 0


def _revoke(options: argparse.Namespace) -> int:
    store, table = _store(options)
    if not store.revoke(options.prefix):
        raise AdminError(f"no key with prefix {options.prefix!r} in {table}")
    print(f"revoked key {options.prefix}", file=sys.stderr)
    return 0


def _ping_key(options: argparse.Namespace) -> int:
    stores, _ = _stores(options)
    print(stores.project.ensure_ping_key())
    return 0


COMMANDS = {"create": _create, "list": _list, "revoke": _revoke, "ping-key": _ping_key}


def main(argv: Sequence[str]) -> int:
    try:
        options = _parser().parse_args(list(argv))
        return COMMANDS[options.command](options)
    except AdminError as error:
        print(f"cronbeat keys: {error}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else USAGE_ERROR
    except Exception as error:  # no credentials, no table, throttling: one line, not a traceback
        print(f"cronbeat keys: {type(error).__name__}: {error}", file=sys.stderr)
        return USAGE_ERROR
