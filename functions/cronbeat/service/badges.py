"""What the badge endpoints do: list a project's badge URLs, and answer the public badges.

A tag badge's URL is checked against its signature before anything is read, so a made-up URL
costs one read of the project item. A check's badge is found through the badge index.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from cronbeat.api.errors import NotFound
from cronbeat.domain import badges
from cronbeat.domain.badges import ALL_TAGS, BadgeFormat, Summary
from cronbeat.domain.machine import evaluate
from cronbeat.domain.model import Check
from cronbeat.stores import Stores

URL_FORMATS: dict[str, tuple[BadgeFormat, bool]] = {
    "svg": ("svg", False),
    "svg3": ("svg", True),
    "json": ("json", False),
    "json3": ("json", True),
    "shields": ("shields", False),
    "shields3": ("shields", True),
}
"""Healthchecks.io's names for each badge URL: the format, and whether it shows `late`."""


@dataclass(frozen=True, slots=True)
class Badge:
    content_type: str
    body: str


def split_file(file: str) -> tuple[str, str]:
    """A badge URL's last segment, "<name>.<format>", as (name, format); 404 without a dot."""
    name, dot, fmt = file.rpartition(".")
    if not dot or not name:
        raise NotFound()
    return name, fmt


def _format(fmt: str) -> BadgeFormat:
    for known in badges.FORMATS:
        if fmt == known:
            return known
    raise NotFound()


class BadgeService:
    def __init__(self, stores: Stores, *, now_ms: int) -> None:
        self._stores = stores
        self._now_ms = now_ms

    def urls(self, base_url: str) -> dict[str, dict[str, str]]:
        """Every tag's badge URLs (and `*` for all checks), in each of Healthchecks.io's forms."""
        keys = self._stores.project.badge_keys()
        tags = {ALL_TAGS}
        for entry in self._stores.checks.all():
            tags.update(entry.check.tag_list)

        def url(tag: str, fmt: str, with_late: bool) -> str:
            signature = badges.signature_for(keys.secret, keys.key, tag, with_late=with_late)
            where = f"{keys.key}/{signature}"
            named = where if tag == ALL_TAGS else f"{where}/{quote(tag, safe='')}"
            return f"{base_url}/badge/{named}.{fmt}"

        return {
            tag: {name: url(tag, fmt, late) for name, (fmt, late) in URL_FORMATS.items()}
            for tag in sorted(tags)
        }

    def for_tag(self, badge_key: str, signature: str, tag: str | None, fmt: str) -> Badge:
        """The badge of every check with `tag` (None: every check); 404 unless signed by us."""
        wanted = _format(fmt)
        keys = self._stores.project.badge_keys()
        named = ALL_TAGS if tag is None else unquote(tag)
        with_late = badges.read_signature(keys.secret, keys.key, named, signature)
        if badge_key != keys.key or with_late is None:
            raise NotFound()
        checks = [
            entry.check
            for entry in self._stores.checks.all()
            if named == ALL_TAGS or named in entry.check.tag_list
        ]
        summary = self._summary(checks, with_late=with_late)
        label = badges.ALL_TAGS_LABEL if named == ALL_TAGS else named
        return Badge(*badges.rendered(label, summary, wanted))

    def for_check(self, states: str, badge_key: str, fmt: str) -> Badge:
        """One check's badge: `states` 3 shows `late`, any other number does not."""
        wanted = _format(fmt)
        if not states.isascii() or not states.isdigit() or len(states) > 3:
            raise NotFound()
        stored = self._stores.checks.by_badge_key(badge_key) if badge_key else None
        if stored is None:
            raise NotFound()
        summary = self._summary([stored.check], with_late=states == "3")
        # Healthchecks.io falls back to the check's uuid, which would publish its ping URL.
        label = stored.check.name or "unnamed check"
        return Badge(*badges.rendered(label, summary, wanted))

    def _summary(self, checks: list[Check], *, with_late: bool) -> Summary:
        statuses = (evaluate(check, self._now_ms).status for check in checks)
        return badges.summarise(statuses, with_late=with_late)
