"""Fixtures the management API tests share."""

from __future__ import annotations

import pytest

from tests.conftest import Aws
from tests.integration.api_requests import RO_KEY, Api, seed_keys


@pytest.fixture
def api(aws: Aws) -> Api:
    """A read-write client (both keys exist)."""
    seed_keys(aws)
    return Api()


@pytest.fixture
def readonly(api: Api) -> Api:
    """A read-only client (both keys exist)."""
    return Api(key=RO_KEY)
