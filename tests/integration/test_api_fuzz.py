"""Generated requests never get a 5xx: schemathesis drives the handler in-process from the
committed `openapi.json`, and hypothesis throws arbitrary paths, methods and bodies at it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet

from tests.conftest import Aws
from tests.integration.api_requests import RW_KEY, api_event, seed_keys, send

ROOT = Path(__file__).resolve().parents[2]
schema = schemathesis.openapi.from_path(str(ROOT / "openapi.json"))
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.fixture
def seeded(aws: Aws) -> Aws:
    """Keys, a check and a channel to find, so generated requests reach past the 404s."""
    seed_keys(aws)
    reply = send(
        api_event(
            "POST",
            "/api/v3/checks/",
            body=json.dumps({"name": "seed", "slug": "seed", "tags": "a b"}),
            headers={"x-api-key": RW_KEY},
        )
    )
    assert reply.status == 201
    return aws


def _query(case: Any) -> dict[str, str | list[str]]:
    return {
        str(k): [str(x) for x in v] if isinstance(v, list) else str(v)
        for k, v in (case.query or {}).items()
    }


@schema.parametrize()
@FUZZ
def test_generated_requests_never_get_a_5xx(seeded: Aws, case: Any) -> None:
    # Given a request schemathesis generated from the spec (valid or not)
    path = case.path.format(**{k: quote(str(v), safe="") for k, v in case.path_parameters.items()})
    headers = {k: str(v) for k, v in (case.headers or {}).items()}
    headers.setdefault("x-api-key", RW_KEY)
    body: str | bytes | None = None
    if isinstance(case.body, bytes | str):
        body = case.body
    elif case.body is not None and not isinstance(case.body, NotSet):
        body = json.dumps(case.body)
    # When the handler answers it
    reply = send(
        api_event(case.method.upper(), path, query=_query(case), body=body, headers=headers)
    )
    # Then it is not a server error, and an error reply is Healthchecks.io's JSON shape
    assert reply.status < 500, (case.method, path, body, reply.status, reply.text)
    if reply.status >= 400 and reply.headers.get("content-type") == "application/json":
        assert isinstance(reply.json()["error"], str)


METHODS = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"])
SEGMENT = st.one_of(
    st.sampled_from(["checks", "channels", "pings", "flips", "body", "pause", "resume", "1"]),
    st.text(min_size=1, max_size=12).map(lambda s: quote(s, safe="")),
)
PATHS = st.lists(SEGMENT, max_size=5).map(lambda parts: "/api/v3/" + "/".join(parts))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    ["name", "slug", "tags", "timeout", "grace", "schedule", "tz", "channels", "unique",
     "methods", "manual_resume", "max_runtime", "kind", "url", "api_key"]
)  # fmt: skip
BODIES = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.dictionaries(FIELDS, JSON_VALUES, max_size=4).map(json.dumps),
    JSON_VALUES.map(json.dumps),
)


@given(method=METHODS, path=PATHS, body=BODIES, with_key=st.booleans())
@FUZZ
def test_arbitrary_requests_never_get_a_5xx(
    seeded: Aws, method: str, path: str, body: str | bytes | None, with_key: bool
) -> None:
    # Given any method, path and body, with or without a key
    headers = {"x-api-key": RW_KEY} if with_key else {}
    # When the handler answers
    reply = send(api_event(method, path, body=body, headers=headers))
    # Then it is a 2xx, 3xx or 4xx
    assert reply.status < 500, (method, path, body, reply.status, reply.text)
