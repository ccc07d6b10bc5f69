"""The default `cronbeat dev` for an end-to-end test; modules needing other flags override `dev`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.devserver import DevServer, start


@pytest.fixture
def dev() -> Iterator[DevServer]:
    """`cronbeat dev` with its default flags, stopped after the test."""
    server = start()
    try:
        yield server
    finally:
        server.stop()
