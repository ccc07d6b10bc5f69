"""`cronbeat checks`, `channels`, `sync`, `apply`, `export` and `import-hc`: running the monitor
from a terminal, with the same API key and URL as the queries.

Each command prints a table or a line for people, or JSON with `--json`. What the server refuses
(a bad schedule, a taken slug) is one line and exit status 2, as a bad flag is.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from cronbeat.cli import crontab as cron
from cronbeat.cli import systemd
from cronbeat.cli.api import ApiError, JsonObject, ManagementApi, check_key
from cronbeat.cli.query import shown_status
from cronbeat.cli.table import NONE, duration_text, render_fields, render_table
from cronbeat.cli.timespec import parse_duration_s
from cronbeat.domain.channel import SECRET_FIELDS

SYNCED_FIELDS = ("name", "slug", "schedule", "tz", "grace")
"""What a sync owns on a check; everything else (channels, tags, thresholds) stays as set."""
CODE_FIELDS = (
    "name",
    "slug",
    "tags",
    "desc",
    "timeout",
    "schedule",
    "tz",
    "grace",
    "channels",
    "max_runtime",
    "realert_every",
    "min_duration",
    "max_duration",
    "slow_factor",
    "slow_window",
    "min_count",
    "stuck_after",
    "maintenance",
    "failure_threshold",
    "recovery_threshold",
    "manual_resume",
    "methods",
    "start_kw",
    "success_kw",
    "failure_kw",
)
"""The check fields `export` writes and `apply` sets, in the file's order."""
NULLABLE = frozenset(
    {
        "max_runtime",
        "realert_every",
        "min_duration",
        "max_duration",
        "slow_factor",
        "min_count",
        "stuck_after",
    }
)
DEFAULTS: dict[str, Any] = {
    "tags": "",
    "desc": "",
    "channels": [],
    "failure_threshold": 1,
    "recovery_threshold": 1,
    "manual_resume": False,
    "methods": "",
    "start_kw": "",
    "success_kw": "",
    "failure_kw": "",
    "slow_window": 20,
    "maintenance": [],
}
"""What a check has when the file leaves a field out, so leaving one out is not a change."""


class ManageError(ApiError):
    """A command that cannot go on, said in one line (exit status 2)."""


def dump(document: Any, out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


# --- checks ---------------------------------------------------------------------------------


def ping_url(check: JsonObject) -> str:
    return str(check.get("ping_url") or "")


def run_line(api: ManagementApi, check: JsonObject) -> str:
    """A ready `cronbeat run` line for the check."""
    return f"cronbeat run --url {shlex.quote(api.base_url)} --uuid {check.get('uuid')} -- COMMAND"


def check_summary(check: JsonObject) -> list[tuple[str, str]]:
    """The fields `checks show` prints, in the order a person reads them."""
    rows = [
        ("name", str(check.get("name") or NONE)),
        ("slug", str(check.get("slug") or NONE)),
        ("uuid", str(check.get("uuid") or check.get("unique_key") or NONE)),
        ("status", shown_status(check)),
    ]
    if check.get("schedule"):
        rows.append(("schedule", f"{check['schedule']} ({check.get('tz') or 'UTC'})"))
    else:
        rows.append(("period", duration_text(check.get("timeout"))))
    rows.append(("grace", duration_text(check.get("grace"))))
    for name in ("max_runtime", "min_duration", "max_duration", "realert_every"):
        if check.get(name) is not None:
            rows.append((name.replace("_", " "), duration_text(check[name])))
    for window in check.get("maintenance") or []:
        length = duration_text(window.get("duration"))
        rows.append(("maintenance", f"{window.get('schedule')} for {length}"))
    if check.get("muted"):
        rows.append(("muted until", str(check.get("muted_until") or NONE)))
    for name in ("tags", "desc", "channels", "last_ping", "next_ping", "ping_url"):
        if check.get(name):
            rows.append((name.replace("_", " "), str(check[name])))
    return rows


def add_check(api: ManagementApi, fields: JsonObject, out: TextIO, *, as_json: bool) -> None:
    created = api.create_check(fields)
    if as_json:
        dump(created, out)
        return
    out.write(f"created {created.get('name') or created.get('uuid')}\n")
    out.write(f"ping URL: {ping_url(created)}\n")
    out.write(f"run a job under it: {run_line(api, created)}\n")


def show_check(api: ManagementApi, reference: str, out: TextIO, *, as_json: bool) -> None:
    check = api.check(check_key(api.find_check(reference)))
    if as_json:
        dump(check, out)
    else:
        out.write(render_fields(check_summary(check)))


def change_check(
    api: ManagementApi, reference: str, action: str, out: TextIO, *, as_json: bool,
    fields: JsonObject | None = None,
) -> None:  # fmt: skip
    """Edit, pause, resume, mute (`fields` has its seconds), unmute or delete the check."""
    key = check_key(api.find_check(reference))
    if action == "edit":
        if not fields:
            raise ManageError("checks edit: nothing to change (give at least one flag)")
        changed = api.update_check(key, fields)
    elif action == "pause":
        changed = api.pause_check(key)
    elif action == "resume":
        changed = api.resume_check(key)
    elif action == "mute":
        changed = api.mute_check(key, int((fields or {})["seconds"]))
    elif action == "unmute":
        changed = api.unmute_check(key)
    else:
        changed = api.delete_check(key)
    if as_json:
        dump(changed, out)
        return
    done = {
        "edit": "updated", "pause": "paused", "resume": "resumed", "rm": "deleted",
        "mute": "muted", "unmute": "unmuted",
    }[action]  # fmt: skip
    until = f" until {changed['muted_until']}" if action == "mute" else ""
    out.write(f"{done} {changed.get('name') or key}{until}\n")


# --- channels -------------------------------------------------------------------------------


def list_channels(api: ManagementApi, out: TextIO, *, as_json: bool) -> None:
    channels = api.channels()
    if as_json:
        dump({"channels": channels}, out)
        return
    rows = []
    for channel in channels:
        last = channel.get("last_delivery") or {}
        state = str(last.get("state") or NONE)
        if last.get("error"):
            state += f" ({last['error']})"
        rows.append(
            (
                str(channel.get("id")),
                str(channel.get("name") or NONE),
                str(channel.get("kind")),
                str(channel.get("subscription") or NONE),
                state,
            )
        )
    out.write(render_table(("ID", "NAME", "KIND", "SUBSCRIPTION", "LAST DELIVERY"), rows))


def setting_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` arguments as channel settings: whole numbers as numbers, the rest as text."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise ManageError(f"channels add: settings are KEY=VALUE, not {pair!r}")
        settings[key] = int(value) if value.lstrip("-").isdigit() else value
    return settings


def add_channel(api: ManagementApi, fields: JsonObject, out: TextIO, *, as_json: bool) -> None:
    created = api.create_channel(fields)
    if as_json:
        dump(created, out)
        return
    name = created.get("name") or created["id"]
    out.write(f"created {created.get('kind')} channel {name} ({created['id']})\n")
    if created.get("secret"):
        out.write(f"signing secret (shown once): {created['secret']}\n")
    if created.get("subscription") == "pending_confirmation":
        out.write("SNS sent a confirmation message: nothing arrives until it is confirmed\n")


def remove_channel(api: ManagementApi, reference: str, out: TextIO, *, as_json: bool) -> None:
    deleted = api.delete_channel(str(api.find_channel(reference)["id"]))
    if as_json:
        dump(deleted, out)
    else:
        out.write(f"deleted {deleted.get('kind')} channel {deleted.get('name') or deleted['id']}\n")


def test_channel(api: ManagementApi, reference: str, out: TextIO, *, as_json: bool) -> None:
    channel = api.find_channel(reference)
    queued = api.test_channel(str(channel["id"]))
    if as_json:
        dump(queued, out)
    else:
        out.write(
            f"test alert queued for {channel.get('name') or channel['id']}; "
            f"see `cronbeat channels ls` for how it went\n"
        )


# --- upserting by slug ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What a sync or an apply did (or, in a dry run, would do) to one check."""

    action: str
    """created, updated, unchanged, deleted, skipped."""
    slug: str
    detail: str = ""

    def as_json(self) -> JsonObject:
        return {"action": self.action, "slug": self.slug, "detail": self.detail}


def differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The wanted fields whose value the check does not have already."""
    return {key: value for key, value in wanted.items() if current.get(key) != value}


def upsert(
    api: ManagementApi,
    by_slug: dict[str, JsonObject],
    wanted: JsonObject,
    *,
    create_extra: JsonObject,
    dry_run: bool,
) -> Outcome:
    """Create the check with `wanted`'s slug, or update the fields that differ; nothing when
    none does."""
    slug = str(wanted["slug"])
    existing = by_slug.get(slug)
    if existing is None:
        if not dry_run:
            by_slug[slug] = api.create_check({**create_extra, **wanted})
        return Outcome("created", slug)
    changes = differences(existing, wanted)
    if not changes:
        return Outcome("unchanged", slug)
    if not dry_run:
        by_slug[slug] = api.update_check(check_key(existing), changes)
    return Outcome("updated", slug, ", ".join(sorted(changes)))


def checks_by_slug(api: ManagementApi) -> dict[str, JsonObject]:
    return {str(check["slug"]): check for check in api.checks() if check.get("slug")}


def report(outcomes: Iterable[Outcome], err: TextIO, *, dry_run: bool) -> None:
    verb = "would be " if dry_run else ""
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        if outcome.action == "skipped":
            err.write(f"skipped {outcome.slug}{detail}\n")
        else:
            err.write(f"{outcome.slug}: {verb}{outcome.action}{detail}\n")


# --- sync -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncSettings:
    dry_run: bool
    write: bool
    as_json: bool
    channels: str
    environment: dict[str, str]
    """CRONBEAT_URL and CRONBEAT_PING_KEY, for the wrapped jobs."""
    cronbeat: str
    """The `cronbeat` command as cron or systemd will run it (an absolute path)."""


def _sync_check(
    api: ManagementApi,
    by_slug: dict[str, JsonObject],
    settings: SyncSettings,
    synced: tuple[str, str, str, str, int],
    detail: str,
) -> Outcome:
    """Create or update one synced check: `synced` holds its SYNCED_FIELDS, in that order."""
    wanted = dict(zip(SYNCED_FIELDS, synced, strict=True))
    outcome = upsert(
        api, by_slug, wanted, create_extra={"channels": settings.channels}, dry_run=settings.dry_run
    )
    outcome.detail = outcome.detail or detail
    return outcome


def sync_crontab(
    api: ManagementApi, text: str, settings: SyncSettings, out: TextIO, err: TextIO
) -> str:
    """Create or update a check per job of the crontab `text`; the crontab with each job wrapped
    (returned, and printed unless it is written)."""
    try:
        table = cron.parse(text)
    except cron.CrontabError as error:
        raise ManageError(f"sync crontab: {error}") from None
    by_slug = checks_by_slug(api)
    outcomes: list[Outcome] = []
    for job in table.jobs:
        synced = (job.name, job.slug, job.schedule, job.tz, job.grace_s)
        detail = f"{job.schedule}, {job.tz}, grace {job.grace_s} s"
        outcomes.append(_sync_check(api, by_slug, settings, synced, detail))
    outcomes += [
        Outcome("skipped", f"line {s.line_number}", f"{s.why}: {s.line.strip()}")
        for s in table.skipped
    ]
    environment = {
        key: value for key, value in settings.environment.items() if key not in table.environment
    }
    wrapped = cron.wrapped(text, table, environment, settings.cronbeat)
    if settings.as_json:
        dump({"checks": [o.as_json() for o in outcomes], "crontab": wrapped}, out)
    else:
        report(outcomes, err, dry_run=settings.dry_run)
        if not settings.write:
            out.write(wrapped)
    return wrapped


def sync_timers(
    api: ManagementApi,
    units: Sequence[tuple[str, str, str | None]],
    settings: SyncSettings,
    out: TextIO,
    err: TextIO,
) -> None:
    """Create or update a check per timer; print each service's drop-in.

    `units` holds (the timer's name, its text, its service's text or None when unknown).
    """
    by_slug = checks_by_slug(api)
    outcomes: list[Outcome] = []
    drop_ins: dict[str, str] = {}
    for name, text, service_text in units:
        try:
            found = systemd.timer(name, text)
        except systemd.UnitError as error:
            raise ManageError(f"sync systemd: {error}") from None
        if isinstance(found, str):
            outcomes.append(Outcome("skipped", name, found))
            continue
        synced = (found.slug, found.slug, found.on_calendar, "UTC", found.grace_s)
        outcomes.append(
            _sync_check(api, by_slug, settings, synced, f"OnCalendar={found.on_calendar}")
        )
        if service_text is None:
            outcomes.append(Outcome("skipped", found.service, "its unit file was not found"))
            continue
        try:
            command = systemd.exec_start(service_text)
        except systemd.UnitError as error:
            outcomes.append(Outcome("skipped", found.service, str(error)))
            continue
        if cron.is_wrapped(command.lstrip(systemd.EXEC_PREFIXES)):
            continue  # already runs under cronbeat
        drop_ins[f"{found.service}.d/cronbeat.conf"] = systemd.drop_in(
            command, found.slug, settings.environment, settings.cronbeat
        )
    if settings.as_json:
        dump({"checks": [o.as_json() for o in outcomes], "drop_ins": drop_ins}, out)
        return
    report(outcomes, err, dry_run=settings.dry_run)
    for path, text in drop_ins.items():
        out.write(f"# /etc/systemd/system/{path}\n{text}\n")


# --- checks as code -------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # a float keeps its point: 2.0, never 2
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table, such as a maintenance window
        pairs = (f"{key} = {_toml_value(item)}" for key, item in value.items())
        return "{ " + ", ".join(pairs) + " }"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is JSON's


def export_document(api: ManagementApi) -> str:
    """The monitor's channels and checks in the `apply` format, so export → apply is a no-op.

    Channel secrets never come back from the API, so a channel is written with the settings it
    shows; apply leaves the secrets of an existing channel as they are.
    """
    channels = api.channels()
    names = {str(c["id"]): str(c.get("name") or c["id"]) for c in channels}
    lines = ["# cronbeat checks and channels: `cronbeat apply FILE` makes the monitor match."]
    for channel in channels:
        lines += ["", "[[channel]]", f"name = {_toml_value(names[str(channel['id'])])}"]
        lines.append(f"kind = {_toml_value(channel['kind'])}")
        for key, value in sorted((channel.get("settings") or {}).items()):
            lines.append(
                f"{key} = {_toml_value(int(value) if value.lstrip('-').isdigit() else value)}"
            )
    for check in api.checks():
        if not check.get("slug"):
            continue  # apply matches checks by slug: one without cannot round-trip
        lines += ["", "[[check]]"]
        for key in CODE_FIELDS:
            value = check.get(key)
            if key == "channels":
                value = [names.get(cid, cid) for cid in str(value or "").split(",") if cid]
            if value is None or value == DEFAULTS.get(key):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


DURATION_FIELDS = frozenset(
    {
        "timeout",
        "grace",
        "max_runtime",
        "realert_every",
        "min_duration",
        "max_duration",
        "stuck_after",
    }
)


def _seconds(value: Any, key: str, index: int) -> Any:
    """A duration field as whole seconds: a number as it is, a text such as `1h` parsed."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        try:
            return round(parse_duration_s(value))
        except ValueError as error:
            raise ManageError(f"apply: check {index}: {key}: {error}") from None
    raise ManageError(f"apply: check {index}: {key} is not a duration")


def _windows_wanted(windows: Any, index: int) -> list[JsonObject]:
    """Maintenance windows as the API shows them: a schedule and whole seconds, in that order.

    The server judges the schedule and the length; only the shape is the file's to get right.
    """
    if not isinstance(windows, list):
        raise ManageError(f"apply: check {index}: maintenance is a list of windows")
    shown: list[JsonObject] = []
    for window in windows:
        if not isinstance(window, dict) or set(window) != {"schedule", "duration"}:
            raise ManageError(
                f"apply: check {index}: a maintenance window is {{ schedule = CRON, "
                "duration = SECONDS }"
            )
        length = _seconds(window["duration"], "maintenance duration", index)
        shown.append({"schedule": window["schedule"], "duration": length})
    return shown


def _check_wanted(entry: Mapping[str, Any], index: int) -> JsonObject:
    """A declared check with every field the file may leave out filled in, to compare."""
    unknown = set(entry) - set(CODE_FIELDS)
    if unknown:
        raise ManageError(f"apply: check {index}: unknown field {sorted(unknown)[0]!r}")
    if not isinstance(entry.get("slug"), str) or not entry["slug"]:
        raise ManageError(f"apply: check {index} has no slug (checks are matched by slug)")
    wanted: JsonObject = {**DEFAULTS, **dict(entry)}
    for key in NULLABLE:
        wanted.setdefault(key, None)
    for key in DURATION_FIELDS & set(wanted):
        wanted[key] = _seconds(wanted[key], key, index)
    wanted["maintenance"] = _windows_wanted(wanted["maintenance"], index)
    if "schedule" in wanted:
        wanted.setdefault("tz", "UTC")
    channels = wanted["channels"]
    if isinstance(channels, str):
        channels = [c for c in channels.replace(",", " ").split() if c]
    if not isinstance(channels, list):
        raise ManageError(f"apply: check {index}: channels is a list of channel names")
    wanted["channels"] = sorted(str(c) for c in channels)
    return wanted


def _as_sent(wanted: JsonObject) -> JsonObject:
    """Fields as the API takes them: channels as one comma-separated text of names."""
    sent = dict(wanted)
    if isinstance(sent.get("channels"), list):
        sent["channels"] = ",".join(sent["channels"])
    return sent


def _as_shown(check: JsonObject, names: Mapping[str, str]) -> JsonObject:
    """A check as the file would declare it, to compare: channels as sorted names."""
    shown = dict(check)
    ids = [c for c in str(check.get("channels") or "").split(",") if c]
    shown["channels"] = sorted(names.get(c, c) for c in ids)
    return shown


def _apply_channels(
    api: ManagementApi, declared: Sequence[Any], *, dry_run: bool, secrets: bool
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    existing = {str(c.get("name")): c for c in api.channels()}
    for index, entry in enumerate(declared, start=1):
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("kind"):
            raise ManageError(f"apply: channel {index} needs a name and a kind")
        label = f"channel {entry['name']}"
        settings = {k: v for k, v in entry.items() if k not in ("name", "kind")}
        current = existing.get(str(entry["name"]))
        if current is None:
            if not dry_run:
                fields = {"kind": entry["kind"], "name": entry["name"], **settings}
                api.create_channel({**fields, "attach_all": False})
            outcomes.append(Outcome("created", label))
            continue
        if current.get("kind") != entry["kind"]:
            kind = current.get("kind")
            raise ManageError(f"apply: {label} is a {kind} channel, not {entry['kind']}")
        shown = {k: str(v) for k, v in (current.get("settings") or {}).items()}
        # The API never reads secrets back, so they cannot be compared: sent only when asked.
        changed = {
            k: v
            for k, v in settings.items()
            if (secrets if k in SECRET_FIELDS else shown.get(k) != str(v))
        }
        if changed and not dry_run:
            api.update_channel(str(current["id"]), changed)
        action = "updated" if changed else "unchanged"
        outcomes.append(Outcome(action, label, ", ".join(sorted(changed))))
    return outcomes


def apply_document(
    api: ManagementApi,
    document: Mapping[str, Any],
    *,
    prune: bool,
    dry_run: bool,
    secrets: bool = False,
) -> list[Outcome]:
    """Make the monitor's channels and checks what `document` declares; delete undeclared
    checks only with `prune`. An existing channel's secrets (its URL, keys and tokens) are sent
    only with `secrets`: the API never shows them, so they cannot be compared."""
    channels, checks = document.get("channel", []), document.get("check", [])
    if not isinstance(channels, list) or not isinstance(checks, list):
        raise ManageError("apply: use [[channel]] and [[check]] tables")
    outcomes = _apply_channels(api, channels, dry_run=dry_run, secrets=secrets)
    names = {str(c["id"]): str(c.get("name") or c["id"]) for c in api.channels()}
    by_slug = checks_by_slug(api)
    declared: set[str] = set()
    for index, entry in enumerate(checks, start=1):
        if not isinstance(entry, dict):
            raise ManageError(f"apply: check {index} is not a table")
        wanted = _check_wanted(entry, index)
        slug = str(wanted["slug"])
        if slug in declared:
            raise ManageError(f"apply: check {index}: the slug {slug!r} is declared twice")
        declared.add(slug)
        current = by_slug.get(slug)
        if current is None:
            if not dry_run:
                api.create_check(_as_sent(wanted))
            outcomes.append(Outcome("created", slug))
            continue
        changes = differences(_as_shown(current, names), wanted)
        if changes and not dry_run:
            api.update_check(check_key(current), _as_sent(changes))
        action = "updated" if changes else "unchanged"
        outcomes.append(Outcome(action, slug, ", ".join(sorted(changes))))
    for slug, check in by_slug.items():
        if slug in declared:
            continue
        if prune:
            if not dry_run:
                api.delete_check(check_key(check))
            outcomes.append(Outcome("deleted", slug))
        else:
            outcomes.append(Outcome("skipped", slug, "not in the file; --prune deletes it"))
    return outcomes


# --- import from Healthchecks.io ------------------------------------------------------------

HC_FIELDS = (
    "name",
    "slug",
    "tags",
    "desc",
    "grace",
    "timeout",
    "schedule",
    "tz",
    "manual_resume",
    "methods",
    "start_kw",
    "success_kw",
    "failure_kw",
    "filter_subject",
    "filter_body",
    "filter_http_body",
    "filter_default_fail",
)
"""What the import carries over of each check, besides its UUID."""


def import_checks(
    api: ManagementApi, source: ManagementApi, *, dry_run: bool
) -> tuple[list[Outcome], list[str]]:
    """Create each of the source project's checks on cronbeat under its own UUID; skip those
    already here. Returns the outcomes and the integrations to recreate by hand."""
    theirs = source.checks()
    ours = {str(check.get("uuid")) for check in api.checks()}
    outcomes: list[Outcome] = []
    channel_ids: dict[str, None] = {}
    for check in theirs:
        uuid = str(check.get("uuid") or "")
        label = str(check.get("slug") or check.get("name") or uuid)
        if not uuid:
            outcomes.append(
                Outcome("skipped", label, "the source shows no uuid: use a read-write key")
            )
            continue
        for channel_id in str(check.get("channels") or "").split(","):
            if channel_id:
                channel_ids[channel_id] = None
        if uuid in ours:
            outcomes.append(Outcome("unchanged", label, f"{uuid} is already here"))
            continue
        fields = {key: check[key] for key in HC_FIELDS if check.get(key) is not None}
        if fields.get("schedule"):
            fields.pop("timeout", None)
        else:
            fields.pop("schedule", None)
            fields.pop("tz", None)
        if not dry_run:
            api.create_check({**fields, "uuid": uuid})
        outcomes.append(Outcome("created", label, uuid))
    integrations: list[str] = []
    try:
        listed = {str(c.get("id")): c for c in source.channels()}
    except ApiError:
        listed = {}
    for channel_id in channel_ids:
        channel = listed.get(channel_id, {})
        kind = channel.get("kind", "unknown kind")
        integrations.append(f"{channel.get('name') or channel_id} ({kind})")
    return outcomes, integrations
