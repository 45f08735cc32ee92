"""Dates written in running text (workers.dates.find_dates), the parser page-date finding uses."""

from __future__ import annotations

from datetime import date

import pytest

from workers.dates import find_dates

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected", "has_day"),
    [
        ("Published March 5, 2024 by Jane", date(2024, 3, 5), True),
        ("Updated on: 5th of March, 2024", date(2024, 3, 5), True),
        ("Dec. 18, 2025 | 4 min read", date(2025, 12, 18), True),
        ("Friday, December 19, 2025", date(2025, 12, 19), True),
        ("2024-03-05T10:00:00Z", date(2024, 3, 5), True),
        ("Posted: 2024/3/5", date(2024, 3, 5), True),
        ("5. März 2024", date(2024, 3, 5), True),
        ("le 5 mars 2024", date(2024, 3, 5), True),
        ("5 de marzo de 2024", date(2024, 3, 5), True),
        ("13/05/2024", date(2024, 5, 13), True),  # day first: 13 is no month
        ("March 2024 issue", date(2024, 3, 1), False),
    ],
)
def test_find_dates_reads_common_forms(text: str, expected: date, has_day: bool) -> None:
    found = find_dates(text)
    assert [d.value for d in found] == [expected]
    assert found[0].has_day is has_day
    assert text[found[0].start:found[0].end].strip()


def test_numeric_dates_say_when_day_and_month_could_swap() -> None:
    us, eu = find_dates("03/05/2024 and 05.03.2024")
    assert us.value == date(2024, 3, 5) and us.ambiguous  # "/" reads month first
    assert eu.value == date(2024, 3, 5) and eu.ambiguous  # "." reads day first


@pytest.mark.parametrize("text", ["Top 10 of 2024", "version 1.2.2024b", "call 555-1234", "The Best of May", "2024"])
def test_find_dates_ignores_what_is_not_a_calendar_day(text: str) -> None:
    assert [d for d in find_dates(text) if d.has_day] == []


def test_find_dates_finds_every_date_in_order_and_stops_at_the_limit() -> None:
    text = " ".join(f"Comment posted January {day}, 2024." for day in range(1, 29))
    found = find_dates(text)
    assert [d.value.day for d in found] == list(range(1, 29))
    assert len(find_dates(text, limit=5)) == 5


def test_find_dates_reads_long_text_with_many_years_that_are_no_dates() -> None:
    text = ("Lorem ipsum dolor sit amet 2024 consectetur, 12 items at 3.50 each. " * 3000) + "Posted May 4, 2021"
    assert [d.value for d in find_dates(text)] == [date(2021, 5, 4)]
