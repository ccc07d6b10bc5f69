"""`--state FILE` between saves: every DynamoDB write, appended to `FILE.journal` before its reply.

moto keeps the tables in memory, so a killed process would lose everything since the last save.
The journal closes that gap. Inside moto's request lock, after each write that succeeded and
before its reply leaves, the new image of every item the write named (or its absence) is
appended as one line. Lines are flushed to the operating system, which keeps them when the
process is killed (a power cut can still lose what the disk had not written).

Each line is `<crc32 hex> <json>`, so replay spots a line that a kill cut short, or one damaged
on disk. It keeps the records before that line and says where it stopped. A record holds a
whole item, so replaying it twice gives the same table. Compaction writes the snapshot, then
empties the journal, and a crash between the two steps therefore loses and repeats nothing.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cronbeat.local.backend import item_image, item_key
from cronbeat.local.dynamodb_json import Item, load_item
from cronbeat.local.state import State
from cronbeat.store.tables import ALL_TABLES, TableSpec

_SPECS = {spec.logical_name: spec for spec in ALL_TABLES}


def journal_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".journal")


class Journal:
    """Appends each write's items; a `WriteObserver` for `atomic_dynamodb_requests`."""

    def __init__(self, path: Path, table_names: dict[str, str]) -> None:
        self.path = path
        self._logical_names = {name: logical for logical, name in table_names.items()}
        self._out: IO[bytes] | None = None

    def truncate(self) -> None:
        """Empty the journal and record on: everything before is in the snapshot now."""
        self.close()
        self._out = self.path.open("wb")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def __call__(self, operation: str, backend: Any, request: dict[str, Any]) -> None:
        if self._out is None:
            return
        lines = []
        for table_name, key in _written_keys(operation, backend, request):
            logical = self._logical_names.get(table_name)
            if logical is None:
                continue
            item = item_image(backend, table_name, key)
            lines.append(encode_record({"table": logical, "key": key, "item": item}))
        self._out.write(b"".join(lines))
        self._out.flush()


def encode_record(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, separators=(",", ":"), sort_keys=True, default=_base64)
    return f"{zlib.crc32(text.encode()):08x} {text}\n".encode()


@dataclass(frozen=True, slots=True)
class Replayed:
    records: int
    damaged_line: int | None = None
    """The first line that could not be read, where replay stopped; None when all were read."""

    def report(self, path: Path) -> str | None:
        """One line for the console when the journal's tail was lost; None when it was whole."""
        if self.damaged_line is None:
            return None
        return (
            f"state journal {path}: line {self.damaged_line} is cut short or damaged; "
            f"kept the {self.records} records before it and dropped the rest"
        )


def replay(path: Path, state: State) -> Replayed:
    """Apply the journal's records to `state` in order, up to the first damaged line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Replayed(0)
    tables = {name: _by_key(_SPECS[name], state.tables.get(name, [])) for name in _SPECS}
    applied = 0
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        record = _decode(line)
        if record is None:
            _store(state, tables)
            return Replayed(applied, number)
        spec = _SPECS[record["table"]]
        identity = _identity(spec, record["key"])
        if record["item"] is None:
            tables[spec.logical_name].pop(identity, None)
        else:
            tables[spec.logical_name][identity] = load_item(record["item"])
        applied += 1
    _store(state, tables)
    return Replayed(applied)


def _decode(line: bytes) -> dict[str, Any] | None:
    """The record on one line, or None when the line is cut short, damaged or unknown."""
    if not line.endswith(b"\n"):
        return None
    checksum, _, text = line.rstrip(b"\n").partition(b" ")
    try:
        if int(checksum, 16) != zlib.crc32(text):
            return None
        record = json.loads(text)
        if record["table"] not in _SPECS or not isinstance(record["key"], dict):
            return None
        _identity(_SPECS[record["table"]], record["key"])
    except (ValueError, KeyError, TypeError):
        return None
    return record if isinstance(record, dict) else None


def _written_keys(
    operation: str, backend: Any, request: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    if operation == "BatchWriteItem":
        for table_name, writes in request["RequestItems"].items():
            for write in writes:
                ((_, body),) = write.items()  # PutRequest {Item} or DeleteRequest {Key}
                yield table_name, item_key(backend, table_name, body)
    elif operation == "TransactWriteItems":
        for part in request["TransactItems"]:
            ((kind, body),) = part.items()
            if kind != "ConditionCheck":
                yield body["TableName"], item_key(backend, body["TableName"], body)
    else:
        yield request["TableName"], item_key(backend, request["TableName"], request)


def _by_key(spec: TableSpec, items: list[Item]) -> dict[str, Item]:
    return {_identity(spec, item): item for item in items}


def _identity(spec: TableSpec, key: dict[str, Any]) -> str:
    """The primary key as one string (the tables' keys are strings, alike in both formats)."""
    names = [spec.key.partition[0]] + ([spec.key.sort[0]] if spec.key.sort else [])
    return json.dumps([key[name]["S"] for name in names])


def _store(state: State, tables: dict[str, dict[str, Item]]) -> None:
    state.tables = {name: list(items.values()) for name, items in tables.items()}


def _base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot journal a {type(value).__name__}")
