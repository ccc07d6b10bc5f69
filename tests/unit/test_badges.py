"""Badge states and signatures: the pure rules behind the public badge routes."""

from __future__ import annotations

from cronbeat.domain import badges
from cronbeat.domain.badges import Summary, read_signature, signature_for, summarise
from cronbeat.domain.model import DerivedStatus


def test_down_wins_then_late_only_in_three_state_mode() -> None:
    statuses: list[DerivedStatus] = ["up", "grace", "new", "paused"]
    assert summarise(statuses, with_late=False) == Summary("up", 4, 1, 0)
    assert summarise(statuses, with_late=True).state == "late"
    assert summarise([*statuses, "down"], with_late=True) == Summary("down", 5, 1, 1)
    assert summarise([], with_late=True) == Summary("up", 0, 0, 0)


def test_a_signature_reads_back_its_mode_and_nothing_else_passes() -> None:
    two = signature_for("secret", "key", "db", with_late=False)
    three = signature_for("secret", "key", "db", with_late=True)
    assert two == three + "-2"
    assert read_signature("secret", "key", "db", two) is False
    assert read_signature("secret", "key", "db", three) is True
    # Another tag, project key or secret, or a truncated signature, is refused
    assert read_signature("secret", "key", "web", three) is None
    assert read_signature("secret", "other", "db", three) is None
    assert read_signature("other", "key", "db", three) is None
    assert read_signature("secret", "key", "db", three[:7]) is None
    assert read_signature("secret", "key", "db", three + "-3") is None


def test_the_svg_escapes_its_label_and_grows_with_it() -> None:
    short = badges.svg("db", "up")
    drawn = badges.svg("<script>&", "down")
    assert "<script>" not in drawn
    assert "&lt;script&gt;&amp;" in drawn
    width = int(short.split('width="')[1].split('"')[0])
    assert width < int(badges.svg("a much longer tag", "up").split('width="')[1].split('"')[0])
