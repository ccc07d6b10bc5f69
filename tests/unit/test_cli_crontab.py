"""Reading a crontab: what each kind of line becomes, the grace rule, the slugs, and the lines a
sync must leave exactly as they are."""

from __future__ import annotations

import pytest

from cronbeat.cli import crontab as cron


def only_job(text: str) -> cron.Job:
    [job] = cron.parse(text).jobs
    return job


@pytest.mark.parametrize(
    ("schedule", "grace_s"),
    [
        ("* * * * *", 60),
        ("*/5 * * * *", 60),
        ("*/15 * * * *", 90),
        ("0,30 * * * *", 180),
        ("0 * * * *", 360),
        ("0 */6 * * *", 2160),
        ("30 3 * * *", 3600),
        ("0 9 * * mon-fri", 3600),
        ("0 0 1 * *", 3600),
        ("59 23 31 12 *", 3600),
    ],
)
def test_the_grace_is_a_tenth_of_the_shortest_interval_within_a_minute_and_an_hour(
    schedule: str, grace_s: int
) -> None:
    assert cron.grace_for(schedule) == grace_s


def test_macros_zones_names_and_comments() -> None:
    table = cron.parse(
        "SHELL=/bin/sh\n"
        "CRON_TZ=Asia/Tokyo\n"
        "# cronbeat: Weekly report\n"
        "@weekly /usr/bin/report\n"
        "\n"
        "# an ordinary comment\n"
        "@daily /usr/bin/prune  # trailing words belong to the command\n"
    )
    report, prune = table.jobs
    assert (report.schedule, report.tz, report.name, report.slug) == (
        "0 0 * * 0",
        "Asia/Tokyo",
        "Weekly report",
        "weekly-report",
    )
    assert (prune.schedule, prune.name) == ("0 0 * * *", prune.slug)
    assert table.environment == {"SHELL": "/bin/sh", "CRON_TZ": "Asia/Tokyo"}


def test_a_name_comment_names_only_the_job_right_below_it() -> None:
    first, second = cron.parse("# cronbeat: backup\n\n0 1 * * * /bin/a\n0 2 * * * /bin/b\n").jobs
    assert (first.slug, second.slug) == ("a", "b")


def test_two_jobs_with_the_same_command_get_distinct_slugs() -> None:
    first, second = cron.parse("0 1 * * * /bin/sync\n0 13 * * * /bin/sync\n").jobs
    assert (first.slug, second.slug) == ("sync", "sync-2")


@pytest.mark.parametrize(
    ("command", "slug"),
    [
        ("/usr/local/bin/backup.sh --full > /var/log/b.log 2>&1", "backup-sh-full"),
        ("pg_dump mydb | gzip > /backups/db.gz", "pg_dump-mydb"),
        ("'/opt/my tool/run' --x", "run-x"),
        ("echo 'unclosed", "echo-unclosed"),
        ("> /dev/null", "job"),
    ],
)
def test_a_slug_from_a_command(command: str, slug: str) -> None:
    assert cron.command_slug(command) == slug


def test_reboot_and_jobs_wrapped_by_uuid_are_reported_and_left_as_they_are() -> None:
    text = (
        "@reboot /bin/warm\n"
        "0 1 * * * /usr/bin/cronbeat run --uuid 7e57c0de-0000-4000-8000-000000000001 -- /bin/x\n"
    )
    table = cron.parse(text)
    assert table.jobs == []
    assert [s.line_number for s in table.skipped] == [1, 2]
    assert cron.wrapped(text, table, {}) == text


def test_wrapping_keeps_every_other_line_byte_for_byte_and_is_idempotent() -> None:
    text = 'MAILTO=""\n# keep me\n*/5 * * * * /bin/poll % with percent\n\n'
    table = cron.parse(text)
    once = cron.wrapped(text, table, {"CRONBEAT_URL": "http://x"}, "/opt/cronbeat")
    assert once == (
        'CRONBEAT_URL=http://x\nMAILTO=""\n# keep me\n'
        "*/5 * * * * /opt/cronbeat run --slug poll-with-percent -- /bin/poll % with percent\n\n"
    )
    again = cron.parse(once)
    assert [j.slug for j in again.jobs] == ["poll-with-percent"]
    assert cron.wrapped(once, again, {"CRONBEAT_URL": "http://x"}, "/opt/cronbeat") == once


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("61 * * * * /bin/x", "out of range"),
        ("* * * * /bin/x", "not a job"),
        ("*/0 * * * * /bin/x", "bad step"),
        ("@fortnightly /bin/x", "unknown macro"),
        ("just words", "not a job"),
        ("0 0 30-2 * * /bin/x", "out of range"),
    ],
)
def test_a_bad_line_names_its_number(line: str, says: str) -> None:
    with pytest.raises(cron.CrontabError, match=f"line 2: .*{says}"):
        cron.parse(f"# first\n{line}\n")
