"""Healthchecks.io's wording for every refused check field, from the check spec alone.

The management API turns the spec's first validation error into its 400 message; that the
handler refuses before it writes is tested against moto in tests/integration/test_api_validation.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cronbeat.api.errors import first_problem
from cronbeat.api.models import CheckSpec

CASES = [
    ({"name": 5}, "name is not a string"),
    ({"name": "x" * 101}, "name is too long"),
    ({"slug": "Not A Slug"}, "slug does not match pattern"),
    ({"tags": ["a"]}, "tags is not a string"),
    ({"desc": False}, "desc is not a string"),
    ({"timeout": "3600"}, "timeout is not a number"),
    ({"timeout": 60.5}, "timeout is not a number"),
    ({"timeout": True}, "timeout is not a number"),
    ({"timeout": 59}, "timeout is too small"),
    ({"timeout": 31_536_001}, "timeout is too large"),
    ({"grace": 0}, "grace is too small"),
    ({"grace": 31_536_001}, "grace is too large"),
    ({"schedule": "* * *"}, "schedule is not a valid cron or OnCalendar expression"),
    ({"schedule": "Mon..Fry 09:00"}, "schedule is not a valid cron or OnCalendar expression"),
    ({"schedule": "0 0 30 2 *"}, "schedule is not a valid cron or OnCalendar expression"),
    ({"schedule": "61 * * * *"}, "schedule is not a valid cron or OnCalendar expression"),
    ({"schedule": 5}, "schedule is not a string"),
    ({"tz": "Mars/Olympus_Mons"}, "tz is not a valid timezone"),
    ({"manual_resume": "yes"}, "manual_resume is not a boolean"),
    ({"manual_resume": 1}, "manual_resume is not a boolean"),
    ({"methods": "GET"}, "methods has unexpected value"),
    ({"start_kw": "k" * 201}, "start_kw is too long"),
    ({"success_kw": "k" * 201}, "success_kw is too long"),
    ({"failure_kw": "k" * 201}, "failure_kw is too long"),
    ({"filter_http_body": "true"}, "filter_http_body is not a boolean"),
    ({"channels": 1}, "channels is not a string"),
    ({"unique": "name"}, "unique is not an array"),
    ({"unique": ["name", "desc"]}, "an item in 'unique' has unexpected value"),
    ({"name": None}, "name is not a string"),
    ({"timeout": None}, "timeout is not a number"),
    ({"manual_resume": None}, "manual_resume is not a boolean"),
    ({"failure_threshold": 0}, "failure_threshold is too small"),
    ({"recovery_threshold": 1001}, "recovery_threshold is too large"),
    ({"max_runtime": 30}, "max_runtime is too small"),
    ({"realert_every": "1h"}, "realert_every is not a number"),
    ({"subject": None}, "subject is not a string"),
    ({"subject": 5}, "subject is not a string"),
    ({"subject": "s" * 201}, "subject is too long"),
    ({"subject_fail": None}, "subject_fail is not a string"),
    ({"subject_fail": "s" * 201}, "subject_fail is too long"),
    ({"filter_subject": "yes"}, "filter_subject is not a boolean"),
    ({"filter_body": None}, "filter_body is not a boolean"),
]


@pytest.mark.parametrize(("body", "problem"), CASES, ids=[p for _, p in CASES])
def test_bad_field_gets_healthchecks_wording(body: dict[str, object], problem: str) -> None:
    # Given a check body with one bad field
    # When the spec validates it
    with pytest.raises(ValidationError) as refused:
        CheckSpec.model_validate(body)
    # Then the first problem is worded as Healthchecks.io words it
    assert first_problem(refused.value.errors()) == f"json validation error: {problem}"


def test_a_valid_body_is_accepted() -> None:
    # Given a body using every kind of field the matrix above refuses
    body = {
        "name": "n",
        "slug": "n",
        "tags": "a b",
        "timeout": 60,
        "grace": 60,
        "manual_resume": False,
        "methods": "POST",
        "unique": ["name"],
    }
    # When the spec validates it, Then it holds the values
    assert CheckSpec.model_validate(body).timeout == 60
