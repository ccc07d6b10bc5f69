"""The parsers and handlers of the commands that run the monitor: `checks`, `channels`, `sync`,
`apply`, `export` and `import-hc` (the work itself is in `manage`)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
from typing import Any

from cronbeat.cli import manage, query, systemd
from cronbeat.cli.api import ManagementApi
from cronbeat.cli.options import (
    Parser,
    UsageError,
    api_client,
    base_url,
    count,
    duration,
    maintenance_window,
    secret,
)


def check_flags(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    """The check settings `checks add` and `checks edit` take (edit changes only those given)."""
    group = parser.add_argument_group("the check")
    if not creating:
        group.add_argument("--name", help="a new name")
    when = group.add_mutually_exclusive_group()
    when.add_argument("--period", type=duration, metavar="DURATION", help="expected every (1h)")
    when.add_argument(
        "--schedule", metavar="CRON", help='a cron or OnCalendar schedule ("0 3 * * *")'
    )
    group.add_argument("--tz", metavar="ZONE", help="the schedule's time zone (Europe/Riga)")
    group.add_argument("--grace", type=duration, metavar="DURATION", help="grace period (10m)")
    group.add_argument("--slug", help="the slug for ping URLs by name")
    group.add_argument("--tags", help='space-separated tags ("prod db")')
    group.add_argument("--desc", help="a description")
    group.add_argument("--channels", help='channel ids or names, comma-separated; "*" for all')
    group.add_argument("--max-runtime", type=duration, metavar="DURATION", help="run time limit")
    group.add_argument(
        "--min-duration", type=duration, metavar="DURATION", help="a faster run is a failure"
    )
    group.add_argument(
        "--max-duration", type=duration, metavar="DURATION", help="a slower run is a failure"
    )
    group.add_argument(
        "--slow-factor",
        type=float,
        metavar="X",
        help="a run slower than X times its usual p95 is a failure (1.5)",
    )
    group.add_argument(
        "--slow-window", type=count, metavar="N", help="how many recent runs make the p95 (20)"
    )
    group.add_argument(
        "--min-count", type=count, metavar="N", help="a finish reporting count < N is a failure"
    )
    group.add_argument(
        "--stuck-after",
        type=duration,
        metavar="DURATION",
        help="an open run with no ping for this long is down",
    )
    group.add_argument(
        "--realert", type=duration, metavar="DURATION", help="remind this often while down"
    )
    group.add_argument(
        "--maintenance",
        action="append",
        type=maintenance_window,
        metavar="CRON/DURATION",
        help="a maintenance window that mutes alerts ('0 2 * * 0/1h'); repeat for more",
    )
    if creating:
        group.add_argument("--uuid", help="create it with this UUID (to keep old ping URLs)")
    else:
        group.add_argument(
            "--no-maintenance", action="store_true", help="remove every maintenance window"
        )


CHECK_FLAG_FIELDS = {
    "name": "name",
    "period": "timeout",
    "schedule": "schedule",
    "tz": "tz",
    "grace": "grace",
    "slug": "slug",
    "tags": "tags",
    "desc": "desc",
    "channels": "channels",
    "max_runtime": "max_runtime",
    "min_duration": "min_duration",
    "max_duration": "max_duration",
    "slow_factor": "slow_factor",
    "slow_window": "slow_window",
    "min_count": "min_count",
    "stuck_after": "stuck_after",
    "realert": "realert_every",
    "maintenance": "maintenance",
    "uuid": "uuid",
}
"""Each check flag and the API field it sets."""


def _check_fields(options: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {}
    for flag, api_field in CHECK_FLAG_FIELDS.items():
        value = getattr(options, flag, None)
        if value is not None:
            whole = isinstance(value, float) and flag != "slow_factor"
            fields[api_field] = round(value) if whole else value
    if getattr(options, "no_maintenance", False):
        if "maintenance" in fields:
            raise UsageError("--no-maintenance and --maintenance do not go together")
        fields["maintenance"] = []
    if "tz" in fields and "schedule" not in fields and getattr(options, "period", None):
        raise UsageError("--tz goes with --schedule, not --period")
    return fields


def add_commands(commands: Any, api: argparse.ArgumentParser) -> None:
    """Add the management commands to `cronbeat`'s subcommands; `api` has the shared flags."""
    checks = commands.add_parser(
        "checks", help="list, add, show, edit, pause, resume, mute, unmute, rm checks"
    )
    each = checks.add_subparsers(title="checks commands", metavar="ACTION", required=True)
    each.add_parser("ls", parents=[api], help="every check").set_defaults(command=_checks_ls)
    add = each.add_parser("add", parents=[api], help="add a check; prints its ping URL")
    add.add_argument("check_name", metavar="NAME")
    check_flags(add, creating=True)
    add.set_defaults(command=_checks_add)
    show = each.add_parser("show", parents=[api], help="one check's settings and state")
    show.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    show.set_defaults(command=_checks_show)
    edit = each.add_parser("edit", parents=[api], help="change a check's settings")
    edit.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    check_flags(edit, creating=False)
    edit.set_defaults(command=_checks_change, action="edit")
    for action, words in (("pause", "pause a check"), ("resume", "resume a paused check")):
        one = each.add_parser(action, parents=[api], help=words)
        one.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
        one.set_defaults(command=_checks_change, action=action)
    mute = each.add_parser("mute", parents=[api], help="mute a check's alerts for a while")
    mute.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    mute.add_argument("mute_s", type=duration, metavar="DURATION", help="for how long (2h)")
    mute.set_defaults(command=_checks_change, action="mute")
    unmute = each.add_parser("unmute", parents=[api], help="end a check's mute")
    unmute.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    unmute.set_defaults(command=_checks_change, action="unmute")
    rm = each.add_parser("rm", parents=[api], help="delete a check")
    rm.add_argument("check", metavar="CHECK", help="uuid, slug or exact name")
    rm.add_argument("--yes", action="store_true", help="do not ask first")
    rm.set_defaults(command=_checks_change, action="rm")

    channels = commands.add_parser("channels", help="list, add, rm and test alert channels")
    kinds = channels.add_subparsers(title="channels commands", metavar="ACTION", required=True)
    kinds.add_parser("ls", parents=[api], help="every channel").set_defaults(command=_channels_ls)
    add_channel = kinds.add_parser(
        "add",
        parents=[api],
        help="add a channel: KIND then KEY=VALUE settings",
        description="Add a channel, e.g. `cronbeat channels add slack url=https://hooks...` or "
        "`cronbeat channels add email address=ops@example.com`. The README lists each kind's "
        "settings.",
    )
    add_channel.add_argument("kind", metavar="KIND")
    add_channel.add_argument("settings", nargs="*", metavar="KEY=VALUE")
    add_channel.add_argument("--name", default="", help="its name (unique)")
    add_channel.add_argument(
        "--no-attach", action="store_true", help="do not put it on every existing check"
    )
    add_channel.set_defaults(command=_channels_add)
    rm_channel = kinds.add_parser("rm", parents=[api], help="delete a channel")
    rm_channel.add_argument("channel", metavar="CHANNEL", help="id or exact name")
    rm_channel.add_argument("--yes", action="store_true", help="do not ask first")
    rm_channel.set_defaults(command=_channels_rm)
    test = kinds.add_parser("test", parents=[api], help="send a test alert")
    test.add_argument("channel", metavar="CHANNEL", help="id or exact name")
    test.set_defaults(command=_channels_test)

    sync = commands.add_parser("sync", help="make checks from a crontab or systemd timers")
    sources = sync.add_subparsers(title="sources", metavar="SOURCE", required=True)
    options = Parser(add_help=False)
    options.add_argument("--dry-run", action="store_true", help="change and write nothing")
    options.add_argument(
        "--ping-key", help="the project's ping key for the wrapped jobs [CRONBEAT_PING_KEY]"
    )
    options.add_argument("--channels", default="*", help='channels of new checks (default "*")')
    options.add_argument(
        "--cronbeat", metavar="PATH", help="the cronbeat command the jobs run (default: this one)"
    )
    crontab = sources.add_parser(
        "crontab", parents=[api, options], help="a crontab: one check per job, jobs wrapped"
    )
    crontab.add_argument(
        "file", nargs="?", metavar="FILE", help="a crontab file, or - (default: crontab -l)"
    )
    crontab.add_argument("--write", action="store_true", help="install the result with crontab -")
    crontab.set_defaults(command=_sync_crontab)
    timers = sources.add_parser(
        "systemd", parents=[api, options], help="systemd timers: one check per OnCalendar timer"
    )
    timers.add_argument(
        "units", nargs="*", metavar="UNIT", help="timer unit files (default: systemctl list-timers)"
    )
    timers.set_defaults(command=_sync_systemd)

    apply = commands.add_parser(
        "apply", parents=[api], help="make checks and channels match a TOML file"
    )
    apply.add_argument("file", metavar="FILE")
    apply.add_argument(
        "--prune", action="store_true", help="delete checks the file does not declare"
    )
    apply.add_argument(
        "--dry-run", action="store_true", help="say what would change, change nothing"
    )
    apply.add_argument(
        "--secrets", action="store_true", help="also send existing channels' URLs, keys, tokens"
    )
    apply.set_defaults(command=_apply)
    export = commands.add_parser("export", parents=[api], help="print checks and channels as TOML")
    export.set_defaults(command=_export)

    imported = commands.add_parser(
        "import-hc", parents=[api], help="copy a Healthchecks.io project's checks, UUIDs kept"
    )
    imported.add_argument(
        "--from", dest="source_url", required=True, metavar="URL", help="its base URL"
    )
    imported.add_argument(
        "--hc-api-key", required=True, metavar="KEY", help="the project's API key, or file:PATH"
    )
    imported.add_argument("--dry-run", action="store_true", help="say what would be made")
    imported.set_defaults(command=_import_hc)


def _checks_ls(options: argparse.Namespace) -> int:
    query.list_checks(api_client(options), sys.stdout, as_json=options.json)
    return 0


def _checks_add(options: argparse.Namespace) -> int:
    fields = {"name": options.check_name, **_check_fields(options)}
    manage.add_check(api_client(options), fields, sys.stdout, as_json=options.json)
    return 0


def _checks_show(options: argparse.Namespace) -> int:
    manage.show_check(api_client(options), options.check, sys.stdout, as_json=options.json)
    return 0


def _confirm(question: str, options: argparse.Namespace, command: str) -> None:
    """Ask on a terminal; without one, only `--yes` deletes."""
    if options.yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{command}: pass --yes to delete without a terminal to ask on")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError(f"{command}: not deleted")


def _checks_change(options: argparse.Namespace) -> int:
    api = api_client(options)
    fields = _check_fields(options) if options.action == "edit" else None
    if options.action == "mute":
        fields = {"seconds": round(options.mute_s)}
    if options.action == "rm":
        check = api.find_check(options.check)
        _confirm(f"delete the check {check.get('name') or options.check!r}?", options, "checks rm")
    manage.change_check(
        api, options.check, options.action, sys.stdout, as_json=options.json, fields=fields
    )
    return 0


def _channels_ls(options: argparse.Namespace) -> int:
    manage.list_channels(api_client(options), sys.stdout, as_json=options.json)
    return 0


def _channels_add(options: argparse.Namespace) -> int:
    fields: dict[str, object] = {"kind": options.kind, "name": options.name}
    fields.update(manage.setting_pairs(options.settings))
    if options.no_attach:
        fields["attach_all"] = False
    manage.add_channel(api_client(options), fields, sys.stdout, as_json=options.json)
    return 0


def _channels_rm(options: argparse.Namespace) -> int:
    api = api_client(options)
    channel = api.find_channel(options.channel)
    _confirm(
        f"delete the channel {channel.get('name') or channel['id']!r}?", options, "channels rm"
    )
    manage.remove_channel(api, str(channel["id"]), sys.stdout, as_json=options.json)
    return 0


def _channels_test(options: argparse.Namespace) -> int:
    manage.test_channel(api_client(options), options.channel, sys.stdout, as_json=options.json)
    return 0


def _sync_settings(options: argparse.Namespace, *, write: bool = False) -> manage.SyncSettings:
    environment = {"CRONBEAT_URL": base_url(options.url)}
    ping_key = options.ping_key or os.environ.get("CRONBEAT_PING_KEY")
    if ping_key:
        environment["CRONBEAT_PING_KEY"] = secret(ping_key, "--ping-key")
    cronbeat = options.cronbeat or shutil.which("cronbeat") or "cronbeat"
    return manage.SyncSettings(
        dry_run=options.dry_run,
        write=write,
        as_json=options.json,
        channels=options.channels,
        environment=environment,
        cronbeat=cronbeat,
    )


def _read_source(path: str | None, command: list[str], what: str) -> str:
    """The text of `path` (`-` is stdin), or what `command` prints."""
    if path == "-":
        return sys.stdin.read()
    if path:
        try:
            with open(path, encoding="utf-8") as source:
                return source.read()
        except OSError as error:
            raise UsageError(f"cannot read {what} {path}: {error.strerror or error}") from None
    try:
        done = subprocess.run(  # noqa: S603 (crontab and systemctl, with fixed arguments)
            command, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"cannot run {' '.join(command)}: {error}") from None
    if done.returncode != 0:
        if command[:2] == ["crontab", "-l"] and "no crontab" in done.stderr:
            return ""
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise UsageError(f"{' '.join(command)} failed: {reason[0]}")
    return done.stdout


def _sync_crontab(options: argparse.Namespace) -> int:
    settings = _sync_settings(options, write=options.write)
    text = _read_source(options.file, ["crontab", "-l"], "the crontab")
    if "CRONBEAT_PING_KEY" not in settings.environment and "CRONBEAT_PING_KEY=" not in text:
        raise UsageError("sync crontab: the wrapped jobs need the ping key: pass --ping-key")
    new = manage.sync_crontab(api_client(options), text, settings, sys.stdout, sys.stderr)
    if options.write and not options.dry_run and new != text:
        # crontab(1) is how a user's table is installed; its path is the system's to choose.
        installed = subprocess.run(
            ["crontab", "-"],  # noqa: S607
            input=new,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if installed.returncode != 0:
            raise UsageError(
                f"crontab - failed: {installed.stderr.strip() or installed.returncode}"
            )
        print("installed the new crontab", file=sys.stderr)
    return 0


def _sync_systemd(options: argparse.Namespace) -> int:
    settings = _sync_settings(options)
    units: list[tuple[str, str, str | None]] = []
    service_text: str | None
    if options.units:
        for path in options.units:
            text = _read_source(path, [], "the unit file")
            name = os.path.basename(path)
            service = os.path.join(os.path.dirname(path), _service_name(name, text))
            service_text = (
                _read_source(service, [], "the service") if os.path.exists(service) else None
            )
            units.append((name, text, service_text))
    else:
        listed = _read_source(None, ["systemctl", "list-timers", "--all", "--no-legend"], "timers")
        for name in systemd.timer_names(listed):
            text = _read_source(None, ["systemctl", "cat", name], name)
            service = _service_name(name, text)
            try:
                service_text = _read_source(None, ["systemctl", "cat", service], service)
            except UsageError:
                service_text = None
            units.append((name, text, service_text))
    manage.sync_timers(api_client(options), units, settings, sys.stdout, sys.stderr)
    return 0


def _service_name(timer_name: str, text: str) -> str:
    try:
        found = systemd.timer(timer_name, text)
    except systemd.UnitError as error:
        raise UsageError(f"sync systemd: {error}") from None
    return (
        found.service
        if isinstance(found, systemd.Timer)
        else timer_name.removesuffix(".timer") + ".service"
    )


def _apply(options: argparse.Namespace) -> int:
    text = _read_source(options.file, [], "the file")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"apply: {options.file} is not TOML: {error}") from None
    outcomes = manage.apply_document(
        api_client(options),
        document,
        prune=options.prune,
        dry_run=options.dry_run,
        secrets=options.secrets,
    )
    if options.json:
        manage.dump({"changes": [o.as_json() for o in outcomes]}, sys.stdout)
    else:
        manage.report(outcomes, sys.stderr, dry_run=options.dry_run)
    return 0


def _export(options: argparse.Namespace) -> int:
    api = api_client(options)
    if options.json:
        manage.dump({"channels": api.channels(), "checks": api.checks()}, sys.stdout)
    else:
        sys.stdout.write(manage.export_document(api))
    return 0


def _import_hc(options: argparse.Namespace) -> int:
    source = ManagementApi(base_url(options.source_url), secret(options.hc_api_key, "--hc-api-key"))
    outcomes, integrations = manage.import_checks(
        api_client(options), source, dry_run=options.dry_run
    )
    if options.json:
        document = {"checks": [o.as_json() for o in outcomes], "integrations": integrations}
        manage.dump(document, sys.stdout)
        return 0
    manage.report(outcomes, sys.stderr, dry_run=options.dry_run)
    if integrations:
        print("integrations to recreate on cronbeat (`cronbeat channels add`):", file=sys.stderr)
        for integration in integrations:
            print(f"  {integration}", file=sys.stderr)
    return 0
