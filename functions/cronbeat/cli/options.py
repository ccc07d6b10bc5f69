"""What every `cronbeat` command shares: the one-line usage error, the parser that raises it,
and reading the monitor's URL, the API key and durations from flags and the environment."""

from __future__ import annotations

import argparse
import os
import urllib.parse
from typing import NoReturn

from cronbeat.cli.api import ManagementApi
from cronbeat.cli.timespec import parse_duration_s

FROM_FILE = "file:"


class UsageError(Exception):
    """Wrong flags or settings: said in one line, exit status 2, and the job is not run."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("cronbeat").strip()
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message} (see {self.prog} -h)")


def api_client(options: argparse.Namespace) -> ManagementApi:
    key = options.api_key or os.environ.get("CRONBEAT_API_KEY")
    if not key:
        raise UsageError("no API key: pass --api-key or set CRONBEAT_API_KEY")
    return ManagementApi(base_url(options.url), secret(key, "--api-key"))


def base_url(flag: str | None) -> str:
    url = secret(flag or os.environ.get("CRONBEAT_URL") or "", "--url")
    if not url:
        raise UsageError("no monitor URL: pass --url or set CRONBEAT_URL")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url must be an http:// or https:// URL, not {url!r}")
    try:
        _ = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise UsageError(f"--url has a bad port: {url!r}") from None
    return url.rstrip("/")


def secret(value: str, what: str) -> str:
    """The value itself, or with `file:PATH` the file's first line, so it stays out of `ps`."""
    if not value.startswith(FROM_FILE):
        return value
    path = value.removeprefix(FROM_FILE)
    try:
        with open(path, encoding="utf-8") as secret_file:
            secret = secret_file.readline().strip()
    except OSError as error:
        raise UsageError(f"cannot read {what} from {path}: {error.strerror or error}") from None
    if not secret:
        raise UsageError(f"{what} file {path} is empty")
    return secret


def duration(text: str) -> float:
    try:
        seconds = parse_duration_s(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be more than zero: {text!r}")
    return seconds


def maintenance_window(text: str) -> dict[str, object]:
    """`CRON/DURATION`, as `0 2 * * 0/1h`: split at the last slash, since cron steps use them."""
    schedule, slash, length = text.rpartition("/")
    if not slash or not schedule.strip():
        raise argparse.ArgumentTypeError(f"not CRON/DURATION: {text!r} (try '0 2 * * 0/1h')")
    return {"schedule": schedule.strip(), "duration": round(duration(length))}


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value
