"""Status badges, as Healthchecks.io draws them: what a badge says, and its SVG and JSON forms.

A badge sums up one check, or every check with a tag (`*` for all of them). It says `down` if any
is down; in three-state mode, `late` if any is in its grace period; `up` otherwise, new and paused
checks included. The public URL of a tag badge carries a signature, so only someone given the URL
can read it; `-2` at the end of the signature asks for the two-state badge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Literal

from cronbeat.domain.model import DerivedStatus

BadgeState = Literal["up", "late", "down"]
BadgeFormat = Literal["svg", "json", "shields"]
FORMATS: tuple[BadgeFormat, ...] = ("svg", "json", "shields")
ALL_TAGS = "*"
ALL_TAGS_LABEL = "cronbeat"
"""The label of the badge for every check (Healthchecks.io's is the site name)."""

SIGNATURE_CHARS = 8
TWO_STATE_SUFFIX = "-2"

COLOURS: dict[BadgeState, str] = {"up": "#4c1", "late": "#fe7d37", "down": "#e05d44"}
SHIELDS_COLOURS: dict[BadgeState, str] = {"up": "success", "late": "important", "down": "critical"}


def new_badge_key() -> str:
    """A check's badge key: random, so a public badge URL tells nothing about the check's id."""
    return str(uuid.uuid4())


def sign(secret: str, badge_key: str, tag: str) -> str:
    """The signature of a tag's badge URL: 8 URL-safe characters of an HMAC only we can make."""
    digest = hmac.new(secret.encode(), f"{badge_key}/{tag}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]


def signature_for(secret: str, badge_key: str, tag: str, *, with_late: bool) -> str:
    signature = sign(secret, badge_key, tag)
    return signature if with_late else signature + TWO_STATE_SUFFIX


def read_signature(secret: str, badge_key: str, tag: str, given: str) -> bool | None:
    """Whether a valid signature asks for the late state; None when it is not valid."""
    with_late = not (
        len(given) == SIGNATURE_CHARS + len(TWO_STATE_SUFFIX) and given.endswith(TWO_STATE_SUFFIX)
    )
    bare = given if with_late else given[:SIGNATURE_CHARS]
    if not hmac.compare_digest(bare.encode(), sign(secret, badge_key, tag).encode()):
        return None
    return with_late


@dataclass(frozen=True, slots=True)
class Summary:
    state: BadgeState
    total: int = 0
    grace: int = 0
    down: int = 0

    def as_json(self) -> dict[str, object]:
        return {"status": self.state, "total": self.total, "grace": self.grace, "down": self.down}


def summarise(statuses: Iterable[DerivedStatus], *, with_late: bool) -> Summary:
    """What a badge over checks with these statuses says."""
    total = grace = down = 0
    for status in statuses:
        total += 1
        grace += status == "grace"
        down += status == "down"
    state: BadgeState = "down" if down else "late" if grace and with_late else "up"
    return Summary(state, total, grace, down)


def shields_json(label: str, state: BadgeState) -> dict[str, object]:
    """The shields.io endpoint schema, so shields.io can restyle the badge."""
    return {"schemaVersion": 1, "label": label, "message": state, "color": SHIELDS_COLOURS[state]}


def _text_width(text: str) -> int:
    """The pixel width of `text` in 11 px Verdana, near enough to size the badge's boxes."""
    width = 0
    for char in text:
        if char in "fijlrtI!.,:;'|()[] ":
            width += 4
        elif char in "mwMW@%":
            width += 10
        elif char.isupper() or char.isdigit():
            width += 8 if char.isupper() else 7
        else:
            width += 7
    return width


def svg(label: str, state: BadgeState) -> str:
    """The flat two-part badge: the label on grey, the state on its colour."""
    left, right = _text_width(label) + 10, _text_width(state) + 10
    total = left + right
    label_x, state_x = left / 2, left + right / 2
    shown = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{shown}: {state}">'
        f"<title>{shown}: {state}</title>"
        '<linearGradient id="s" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>'
        "</linearGradient>"
        f'<mask id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></mask>'
        '<g mask="url(#r)">'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{COLOURS[state]}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/>'
        "</g>"
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'font-size="11">'
        f'<text x="{label_x}" y="15" fill="#010101" fill-opacity=".3">{shown}</text>'
        f'<text x="{label_x}" y="14">{shown}</text>'
        f'<text x="{state_x}" y="15" fill="#010101" fill-opacity=".3">{state}</text>'
        f'<text x="{state_x}" y="14">{state}</text>'
        "</g></svg>"
    )


def rendered(label: str, summary: Summary, fmt: BadgeFormat) -> tuple[str, str]:
    """The badge's content type and body in `fmt`."""
    if fmt == "svg":
        return "image/svg+xml", svg(label, summary.state)
    document = shields_json(label, summary.state) if fmt == "shields" else summary.as_json()
    return "application/json", json.dumps(document)
