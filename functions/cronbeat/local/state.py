"""`cronbeat dev --state FILE`: every table item in one JSON file, so a restart loses nothing.

The file holds DynamoDB JSON (binary values in base64) per table, by the logical names of the
store's table definition, plus the API keys local mode printed, so a restart prints the same
ones. It is written atomically at start and on a clean shutdown; between the two, the journal
(`cronbeat.local.journal`) keeps every write. Items past their TTL are left out, as DynamoDB's
TTL would have removed them.
"""

from __future__ import annotations

import binascii
import glob
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cronbeat.local.dynamodb_json import Item, dump_item, load_item
from cronbeat.store.pages import items
from cronbeat.store.tables import ALL_TABLES, TableSpec

FORMAT = "cronbeat-dev-state"
VERSION = 1
_BATCH = 25
_PARTIAL_SUFFIX = ".partial"


class StateError(Exception):
    """The state file cannot be used; the message is one line for the person at the terminal."""


@dataclass
class State:
    tables: dict[str, list[Item]] = field(default_factory=dict)
    """Logical table name → items in the low-level client's format."""
    keys: dict[str, str] = field(default_factory=dict)
    """`read_write` and `read_only` → the API keys local mode printed."""


def read(path: Path) -> State | None:
    """The saved state, or None when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StateError(f"cannot read state file {path}: {_reason(error)}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise StateError(f"state file {path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateError(f"{path} is not a cronbeat dev state file")
    if document.get("version") != VERSION:
        raise StateError(f"state file {path} has unsupported version {document.get('version')!r}")
    try:
        tables = {
            name: [load_item(item) for item in items]
            for name, items in document.get("tables", {}).items()
        }
        keys = {str(k): str(v) for k, v in document.get("keys", {}).items()}
    except (AttributeError, TypeError, ValueError, binascii.Error) as error:
        raise StateError(f"state file {path} is malformed: {_reason(error)}") from None
    unknown = set(tables) - {spec.logical_name for spec in ALL_TABLES}
    if unknown:
        raise StateError(f"state file {path} names unknown tables: {', '.join(sorted(unknown))}")
    return State(tables, keys)


def check_writable(path: Path) -> None:
    """Fail at start, not at shutdown, when the state could not be saved."""
    if path.exists() and (not path.is_file() or not os.access(path, os.W_OK)):
        raise StateError(f"cannot write state file {path}: not a writable file")
    directory = path.parent
    if not directory.is_dir():
        raise StateError(f"cannot write state file {path}: no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StateError(f"cannot write state file {path}: directory {directory} is not writable")


def write(path: Path, state: State) -> None:
    """Replace `path` atomically: an interrupted save leaves the previous file intact."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "keys": state.keys,
        "tables": {
            name: [dump_item(item) for item in items] for name, items in state.tables.items()
        },
    }
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=_PARTIAL_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_partial_saves(path: Path) -> int:
    """Delete what saves killed half-way left beside `path`; return how many there were."""
    removed = 0
    for partial in path.parent.glob(f".{glob.escape(path.name)}.*{_PARTIAL_SUFFIX}"):
        partial.unlink(missing_ok=True)
        removed += 1
    return removed


def dump_tables(dynamodb: Any, table_names: dict[str, str], now_s: int) -> dict[str, list[Item]]:
    """Every live item of every table, by logical name (consistent reads)."""
    tables: dict[str, list[Item]] = {}
    for spec in ALL_TABLES:
        request = {"TableName": table_names[spec.logical_name], "ConsistentRead": True}
        tables[spec.logical_name] = [
            item for item in items(dynamodb.scan, request) if _alive(item, spec, now_s)
        ]
    return tables


def load_tables(dynamodb: Any, table_names: dict[str, str], state: State, now_s: int) -> int:
    """Write the saved items into the (empty) tables; return how many were loaded."""
    loaded = 0
    for spec in ALL_TABLES:
        table = table_names[spec.logical_name]
        items = [i for i in state.tables.get(spec.logical_name, []) if _alive(i, spec, now_s)]
        for start in range(0, len(items), _BATCH):
            requests: dict[str, Any] = {
                table: [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH]]
            }
            while requests:
                try:
                    reply = dynamodb.batch_write_item(RequestItems=requests)
                except Exception as error:
                    raise StateError(
                        f"cannot load the state into {spec.logical_name}: {error}"
                    ) from None
                requests = reply.get("UnprocessedItems") or {}
        loaded += len(items)
    return loaded


def _alive(item: Item, spec: TableSpec, now_s: int) -> bool:
    attribute = spec.ttl_attribute
    if attribute is None or attribute not in item or "N" not in item[attribute]:
        return True
    return int(item[attribute]["N"]) > now_s


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)
