"""The ping URL rules: which paths the protocol refuses before anything is looked up.

That a refused path records nothing, and carries the ping headers, is tested against moto in
tests/integration/test_ping_bad_input.
"""

from __future__ import annotations

import pytest

from cronbeat.api.ping_protocol import Rejected, parse_target

CHECK_ID = "8f3c6f2e-4b7a-4d1e-9c55-2a7e0d3b9f61"
PING_KEY = "q8Xr2kLmN4pZ7tVb1cYw0A"
URL = f"/ping/{CHECK_ID}"

GARBAGE = [
    ("/ping", 404),
    ("/ping/", 404),
    ("/ping//", 404),
    ("/ping///", 404),
    ("/", 404),
    ("/ping/../../etc/passwd", 404),
    ("/ping/%00", 404),
    ("/ping/\x00/\x00", 404),
    ("/ping/" + "a" * 5000, 404),
    ("/ping/" + "a/" * 500, 404),
    (f"{URL}/start/extra", 404),
    (f"{URL}/fail/", 404),
    (f"{URL}/-1", 404),
    (f"{URL}/1e3", 404),
    (f"{URL}%2Ffail", 404),
    (f"{URL}/" + "9" * 5000, 400),
    (f"{URL}/99999999999999999999", 400),
    (f"/ping/{PING_KEY}/backup/finish", 404),
    (f"/ping/{PING_KEY}/backup/", 404),
    ("/ping/ключ/backup", 404),
    ("/ping/" + "k" * 3000 + "/backup", 404),
    (f"/ping/{PING_KEY}/" + "s" * 3000, 404),
    (f"/ping/{PING_KEY}/" + "s" * 3000 + "/fail", 404),
    (f"/ping/{PING_KEY}/слаг", 400),
    (f"/ping/{PING_KEY}/BACKUP", 400),
    (f"/ping/{PING_KEY}/back%20up", 400),
]
"""Paths and the status Healthchecks.io's URL rules give them."""

LOOKED_UP = {f"{URL}/-1", f"{URL}/1e3"}
"""Paths that read as a slug URL (under a ping key shaped like a UUID): the lookup says 404."""


@pytest.mark.parametrize(("path", "status"), [c for c in GARBAGE if c[0] not in LOOKED_UP])
def test_garbage_paths_are_refused_with_their_status(path: str, status: int) -> None:
    # Given a path no ping URL rule admits
    # When it is parsed
    with pytest.raises(Rejected) as refused:
        parse_target(path)
    # Then it is refused with the status the rules give
    assert refused.value.reply.status_code == status


@pytest.mark.parametrize("path", sorted(LOOKED_UP))
def test_a_slug_shaped_suffix_is_a_slug_url_to_look_up(path: str) -> None:
    # Given a UUID followed by a segment that is no suffix
    # When it is parsed
    target = parse_target(path)
    # Then it names a slug under a ping key, which no project has, so the lookup answers 404
    assert (target.check_id, target.ping_key, target.slug) == (None, CHECK_ID, path.split("/")[-1])
