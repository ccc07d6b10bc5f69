"""Legacy time-zone names become the zone they now stand for, as Healthchecks.io stores them.

A check created with `Europe/Kiev` is stored as `Europe/Kyiv`, `UCT` as `Etc/UTC`. The names come
from the tzdata package: a link that zone.tab (the zones people choose by country) does not list
is an old or alias name, and it is replaced by the zone it links to. `UTC`, `GMT` and the `Etc/`
names are links too, but they are not legacy, so they stay as given.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


def _universal(name: str) -> bool:
    return name in ("UTC", "GMT") or name.startswith("Etc/")


@lru_cache(maxsize=1)
def legacy_names() -> dict[str, str]:
    """Each legacy name and the zone it links to, read once from tzdata's own tables."""
    data = files("tzdata") / "zoneinfo"
    by_country = {
        line.split("\t")[2]
        for line in (data / "zone.tab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    renamed: dict[str, str] = {}
    for line in (data / "tzdata.zi").read_text(encoding="utf-8").splitlines():
        if line.startswith("L "):
            _, target, name = line.split()
            if name not in by_country and not _universal(name):
                renamed[name] = target
    return renamed


def current_name(tz: str) -> str:
    """`tz`, or the zone it now links to when it is a legacy name."""
    return legacy_names().get(tz, tz)
