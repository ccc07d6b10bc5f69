"""The output tail: the last bytes of a body, never starting inside a UTF-8 character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cronbeat.domain.text import utf8_tail


def test_a_body_within_the_limit_is_kept_whole() -> None:
    # Given a body that fits, even one starting with a continuation byte, Then it is unchanged
    assert utf8_tail(b"\x80abc", 10) == b"\x80abc"


def test_a_cut_inside_a_character_drops_its_pieces() -> None:
    # Given "aé€" cut so that the tail starts inside the 3-byte euro sign
    data = "aé€".encode()
    # When the last 2 bytes are kept, Then the stray piece of the euro sign goes
    assert utf8_tail(data, 2) == b""
    assert utf8_tail(data, 3) == "€".encode()
    assert utf8_tail(data, 4) == "€".encode()


@given(st.text(), st.integers(0, 50))
def test_the_tail_of_text_is_always_valid_utf8_and_a_suffix(text: str, limit: int) -> None:
    # Given any text cut at any limit
    data = text.encode()
    tail = utf8_tail(data, limit)
    # Then the tail is a suffix within the limit that decodes, losing under one character
    assert data.endswith(tail)
    assert len(tail) <= max(limit, 0)
    tail.decode("utf-8")
    assert len(data) <= limit or limit - len(tail) <= 3
