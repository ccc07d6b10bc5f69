"""The PyPI `healthchecks-io` client, unchanged, against `cronbeat dev` over HTTP.

The client defaults to API v1, where Healthchecks.io makes a check's slug from its name; a job
that then pings by slug only works if cronbeat does the same.
"""

from __future__ import annotations

from healthchecks_io import CheckCreate, CheckUpdate, Client

from tests.e2e.devserver import DevServer


def client_of(dev: DevServer) -> Client:
    """The client as its users run it: on API v1, its default."""
    return Client(
        api_key=dev.api_key,
        ping_key=dev.ping_key,
        api_url=f"{dev.base_url}/api/",
        ping_url=f"{dev.base_url}/ping/",
        api_version=1,
    )


def test_a_check_the_client_creates_on_v1_answers_pings_by_its_slug(dev: DevServer) -> None:
    # Given the client as its users run it: API v1, with the project's ping key
    with client_of(dev) as client:
        # When it creates a check by name and pings it by the slug Healthchecks.io would give it
        created = client.create_check(CheckCreate(name="Nightly Backup", timeout=3600, grace=60))
        started = client.start_ping(slug="nightly-backup")
        finished = client.success_ping(slug="nightly-backup", data="42 files")
        # Then the check has that slug, both pings were taken, and v1 reads the check as up
        assert created.slug == "nightly-backup"
        assert started == (True, "OK")
        assert finished == (True, "OK")
        assert created.uuid is not None
        check = client.get_check(created.uuid)
        assert (check.status, check.n_pings) == ("up", 2)
        # And the ping history reads back with the run's duration on the finish
        pings = client.get_check_pings(created.uuid)
        assert [p.type for p in pings] == ["success", "start"]
        assert pings[0].duration is not None


def test_the_client_lists_renames_pauses_and_deletes_checks(dev: DevServer) -> None:
    # Given two checks the client made, one tagged
    with client_of(dev) as client:
        tagged = client.create_check(CheckCreate(name="etl", tags="prod", timeout=3600))
        client.create_check(CheckCreate(name="other", timeout=3600))
        assert tagged.uuid is not None
        # When it lists by tag, renames, pauses and then deletes the tagged one
        listed = client.get_checks(tags=["prod"])
        renamed = client.update_check(tagged.uuid, CheckUpdate(name="ETL Daily"))
        paused = client.pause_check(tagged.uuid)
        deleted = client.delete_check(tagged.uuid)
        remaining = client.get_checks()
        # Then each call answers as Healthchecks.io's would
        assert [c.name for c in listed] == ["etl"]
        assert (renamed.name, renamed.slug) == ("ETL Daily", "etl-daily")
        assert paused.status == "paused"
        assert deleted.name == "ETL Daily"
        assert [c.name for c in remaining] == ["other"]
        # And the channel list reads, empty on a fresh server
        assert client.get_integrations() == []
