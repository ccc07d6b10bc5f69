"""Legacy zone names, read from tzdata's tables."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from cronbeat.api.timezones import current_name, legacy_names


def test_every_legacy_name_points_at_a_current_zone() -> None:
    # Given the legacy names read from tzdata
    renamed = legacy_names()
    # Then there are many, each target is itself a current name, and both load as zones
    assert len(renamed) > 100
    for old, new in renamed.items():
        assert current_name(new) == new, old
        assert ZoneInfo(old).key == old
        assert ZoneInfo(new).key == new


def test_renamed_and_alias_names_convert_and_universal_names_stay() -> None:
    assert current_name("Europe/Kiev") == "Europe/Kyiv"
    assert current_name("Asia/Calcutta") == "Asia/Kolkata"
    assert current_name("US/Eastern") == "America/New_York"
    assert [current_name(z) for z in ("UTC", "GMT", "Etc/UTC", "Europe/Oslo")] == [
        "UTC",
        "GMT",
        "Etc/UTC",
        "Europe/Oslo",
    ]
