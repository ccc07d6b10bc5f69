"""The output tail: the last bytes of a job's output, and the ping body made from them."""

from __future__ import annotations

from cronbeat.cli.job import OutputTail


def test_short_output_is_sent_whole() -> None:
    # Given a job that printed less than the limit
    tail = OutputTail(100)
    tail.append(b"one\n")
    tail.append(b"two\n")
    # When the body is made / Then it is the output, unchanged
    assert tail.body(100) == b"one\ntwo\n"


def test_long_output_keeps_its_end_behind_a_truncation_notice() -> None:
    # Given 2,000 bytes of numbered lines and a 300-byte limit
    tail = OutputTail(300)
    lines = b"".join(b"line %04d\n" % n for n in range(200))
    for start in range(0, len(lines), 7):
        tail.append(lines[start : start + 7])
    # When the body is made
    body = tail.body(300)
    # Then it fits, says what was cut, and ends with the last line
    assert len(body) <= 300
    notice, _, kept = body.partition(b"\n")
    assert notice == b"[cronbeat: output truncated: the last %d of 2,000 bytes]" % len(kept)
    assert lines.endswith(kept)
    assert kept.endswith(b"line 0199\n")


def test_the_server_limit_lowers_the_body_below_what_was_kept() -> None:
    # Given a tail that kept 1,000 bytes
    tail = OutputTail(1000)
    tail.append(b"x" * 1000)
    # When the server allows only 120 bytes / Then the body fits those
    body = tail.body(120)
    assert len(body) <= 120
    assert body.startswith(b"[cronbeat: output truncated: the last ")
    assert body.endswith(b"xxxx")


def test_notes_come_last_and_whole() -> None:
    # Given a job that printed a lot, and was then killed
    tail = OutputTail(200)
    tail.append(b"y" * 500)
    # When the body is made with cronbeat's note
    body = tail.body(200, ["killed: timed out after 2 s (SIGTERM)"])
    # Then the note is whole at the end, and the body still fits
    assert body.endswith(b"y\n[cronbeat: killed: timed out after 2 s (SIGTERM)]\n")
    assert len(body) <= 200


def test_a_cut_never_starts_inside_a_character() -> None:
    # Given output of two-byte characters, cut at an odd place
    tail = OutputTail(101)
    tail.append("é".encode() * 100)
    # When the body is made
    body = tail.body(101)
    # Then it decodes cleanly as UTF-8
    assert body.decode("utf-8").endswith("éé")


def test_nothing_is_kept_with_a_zero_limit_but_notes_still_go() -> None:
    # Given a tail that keeps nothing (`--no-output`)
    tail = OutputTail(0)
    tail.append(b"secret\n")
    # When the body is made with a note / Then no output is in it, only the note
    assert tail.body(0) == b""
    assert b"secret" not in tail.body(500, ["note"])
