"""The run's count: a `CRONBEAT_COUNT=N` line in the job's output, or a file the job wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbeat.cli.count import CountLine, count_from_file, parse_count

STDOUT, STDERR = 1, 2


def fed(*chunks: tuple[int, bytes]) -> CountLine:
    found = CountLine()
    for stream, chunk in chunks:
        found.feed(stream, chunk)
    found.close()
    return found


def test_the_last_count_line_wins_across_both_streams() -> None:
    # Given a count on stdout, then a later one on stderr
    found = fed((STDOUT, b"CRONBEAT_COUNT=3\n"), (STDERR, b"  CRONBEAT_COUNT=41 \r\n"))
    # Then the later one is the count, and nothing was malformed
    assert (found.count, found.malformed) == (41, None)


def test_a_count_line_split_across_chunks_and_streams_is_read_whole() -> None:
    # Given a count line cut in three, with stderr output arriving between its pieces
    found = fed(
        (STDOUT, b"rows done\nCRONBEAT_CO"),
        (STDERR, b"warning: slow disk\n"),
        (STDOUT, b"UNT=12"),
        (STDOUT, b"07\nbye\n"),
    )
    # Then the pieces of each stream join, and stderr's line did not break stdout's
    assert found.count == 1207


def test_a_count_in_the_middle_of_huge_output_is_found() -> None:
    # Given 8 MB of output in 64 KiB chunks, with the count line in the middle, cut by a chunk
    filler = b"".join(b"line %07d of the export\n" % n for n in range(170_000))
    output = filler + b"CRONBEAT_COUNT=987654\n" + filler
    found = CountLine()
    for start in range(0, len(output), 65536):
        found.feed(STDOUT, output[start : start + 65536])
    found.close()
    # Then the count is the one line that said it
    assert len(output) > 8_000_000
    assert found.count == 987654


def test_a_last_line_without_a_newline_counts() -> None:
    # Given a job whose last line has no newline / Then it is read when the output ends
    assert fed((STDOUT, b"done\nCRONBEAT_COUNT=5")).count == 5


@pytest.mark.parametrize(
    "line",
    [
        b"echo CRONBEAT_COUNT=5\n",  # not a line on its own
        b"cronbeat_count=5\n",  # another variable
        b"CRONBEAT_COUNTS=5\n",
        b"x" * 300 + b"CRONBEAT_COUNT=5\n",  # the end of a long line, not a line of its own
    ],
)
def test_only_a_line_of_its_own_is_a_count(line: bytes) -> None:
    # Given output where the words appear, but not as a count line / Then there is no count
    found = fed((STDOUT, line[:150]), (STDOUT, line[150:]))
    assert (found.count, found.malformed) == (None, None)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (b"-1", "not a whole number of 0 or more: '-1'"),
        (b"12abc", "not a whole number of 0 or more: '12abc'"),
        (b"", "not a whole number of 0 or more: ''"),
        (b"1.5", "not a whole number of 0 or more: '1.5'"),
        ("\u0663".encode(), "not a whole number of 0 or more: '\u0663'"),  # an Arabic-Indic 3
        (b"9" * 19, "too large: '9999999999999999999'"),
    ],
)
def test_a_malformed_count_is_ignored_with_a_reason(value: bytes, says: str) -> None:
    # Given a good count, then a malformed one
    found = fed((STDOUT, b"CRONBEAT_COUNT=7\nCRONBEAT_COUNT=" + value + b"\n"))
    # Then the good one stands, and the reason names the bad value
    assert found.count == 7
    assert found.malformed == f"CRONBEAT_COUNT ignored: {says}"


def test_a_long_malformed_value_is_shortened_in_the_reason() -> None:
    # Given a count line with a 200-character value
    found = fed((STDOUT, b"CRONBEAT_COUNT=" + b"z" * 200 + b"\n"))
    # Then the reason shows its start only
    assert found.malformed is not None
    assert found.malformed.endswith("'" + "z" * 40 + "...'")


def test_a_count_file_holds_the_number(tmp_path: Path) -> None:
    # Given files a job wrote
    good, bad = tmp_path / "count", tmp_path / "bad"
    good.write_text("1500\n")
    bad.write_text("many")
    # Then the good one is read, and the others say why not
    assert count_from_file(good) == 1500
    with pytest.raises(ValueError, match=r"bad: not a whole number of 0 or more: 'many'$"):
        count_from_file(bad)
    with pytest.raises(ValueError, match=r"^cannot read .*missing: No such file"):
        count_from_file(tmp_path / "missing")


def test_parse_count_takes_zero() -> None:
    # Given the count of a run that did nothing / Then it is a count, not an error
    assert parse_count(" 0 ") == 0
