"""`cronbeat dev`'s API keys: a flag, else the environment, else random."""

from __future__ import annotations

import pytest

from cronbeat.local.server import parse

RW_KEY = "envReadWriteKey0123456789abcdefg"
RO_KEY = "envReadOnlyKey0123456789abcdefgh"
FLAG_KEY = "flagReadWriteKey0123456789abcdef"


def test_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given both keys in the environment
    monkeypatch.setenv("CRONBEAT_API_KEY", RW_KEY)
    monkeypatch.setenv("CRONBEAT_READ_ONLY_KEY", RO_KEY)
    # When cronbeat dev starts without key flags
    options = parse([])
    # Then it uses them
    assert (options.api_key, options.read_only_key) == (RW_KEY, RO_KEY)


def test_a_flag_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a read-write key in the environment
    monkeypatch.setenv("CRONBEAT_API_KEY", RW_KEY)
    monkeypatch.delenv("CRONBEAT_READ_ONLY_KEY", raising=False)
    # When --api-key names another
    options = parse(["--api-key", FLAG_KEY])
    # Then the flag wins, and the read-only key is left to be made at random
    assert (options.api_key, options.read_only_key) == (FLAG_KEY, None)


def test_without_flag_or_environment_the_keys_are_made_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given neither key in the environment
    monkeypatch.delenv("CRONBEAT_API_KEY", raising=False)
    monkeypatch.delenv("CRONBEAT_READ_ONLY_KEY", raising=False)
    # When cronbeat dev starts without key flags
    options = parse([])
    # Then no key is fixed: start-up makes random ones
    assert (options.api_key, options.read_only_key) == (None, None)
