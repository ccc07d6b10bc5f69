"""The slug API v1 and v2 derive from a check's name, by Healthchecks.io's rule."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbeat.domain.model import slug_from_name


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Nightly DB Backup", "nightly-db-backup"),
        ("Café déjà-vu", "cafe-deja-vu"),
        ("  --Hello__ World--  ", "hello__-world"),
        ("a  -  b", "a-b"),
        ("100% done!", "100-done"),
        ("日本語", ""),
        ("㍱" * 40, "hpa" * 33 + "h"),
    ],
)
def test_a_name_becomes_the_slug_healthchecks_io_gives_it(name: str, slug: str) -> None:
    # Given a check name / When its slug is derived / Then it is Healthchecks.io's slug for it
    assert slug_from_name(name) == slug


@given(st.text(max_size=100))
def test_every_derived_slug_is_one_the_api_and_the_ping_route_accept(name: str) -> None:
    # Given any name up to the API's limit / When its slug is derived
    slug = slug_from_name(name)
    # Then it fits the slug pattern and length, with no hyphen or underscore at either end
    assert re.fullmatch(r"[a-z0-9_-]*", slug)
    assert len(slug) <= 100
    assert not slug.startswith(("-", "_"))
    assert not slug.endswith(("-", "_"))
