from datetime import datetime, timedelta, timezone

import pytest

from workers.dates import as_utc, parse_datetime, parse_written_date, plausible_publication, search_written_date

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-09-23T00:32:00Z", datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)),
        ("2020-09-23", datetime(2020, 9, 23, tzinfo=timezone.utc)),
        ("Wed, 23 Sep 2020 03:32:00 +0300", datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)),
        ("September 23, 2020 00:32", datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)),
        ("20200923T003200", datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)),
    ],
)
def test_parse_datetime_reads_common_forms_as_utc_aware(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected
    assert parse_datetime(text).tzinfo is not None


@pytest.mark.parametrize("value", [None, "", "   ", "not a date at all", "x" * 100])
def test_parse_datetime_refuses_what_is_not_a_date(value: object) -> None:
    assert parse_datetime(value) is None


def test_naive_datetimes_become_utc_and_aware_ones_keep_their_offset() -> None:
    plus3 = timezone(timedelta(hours=3))
    assert as_utc(datetime(2020, 1, 1)).tzinfo == timezone.utc
    assert as_utc(datetime(2020, 1, 1, tzinfo=plus3)).tzinfo == plus3


def test_plausible_publication_refuses_old_and_far_future_dates() -> None:
    assert plausible_publication(datetime(1970, 1, 1, tzinfo=timezone.utc)) is None
    assert plausible_publication(datetime(2999, 1, 1, tzinfo=timezone.utc)) is None
    ok = datetime(2020, 9, 23, tzinfo=timezone.utc)
    assert plausible_publication(ok) == ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SEPTEMBER 23, 2020 00:32", datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)),
        ("Published: March 3, 2024", datetime(2024, 3, 3, tzinfo=timezone.utc)),
        ("Published 2:16 AM EST Nov 20, 2019", datetime(2019, 11, 20, 2, 16, tzinfo=timezone(timedelta(hours=-5)))),
        ("Monday November 18, 2019 7:45 am PST", datetime(2019, 11, 18, 7, 45, tzinfo=timezone(timedelta(hours=-8)))),
        ("2024-03-05T10:20:00+02:00", datetime(2024, 3, 5, 10, 20, tzinfo=timezone(timedelta(hours=2)))),
        ("19 November 2019 • 1:16pm", datetime(2019, 11, 19, 13, 16, tzinfo=timezone.utc)),
        ("terça-feira, 5 de março de 2024 às 14:30", datetime(2024, 3, 5, 14, 30, tzinfo=timezone.utc)),
        ("LONDON 1996-08-30", datetime(1996, 8, 30, tzinfo=timezone.utc)),
        ("2024년 3월 5일", datetime(2024, 3, 5, tzinfo=timezone.utc)),
        ("23.09.2020", datetime(2020, 9, 23, tzinfo=timezone.utc)),
    ],
)
def test_dates_written_in_text(text: str, expected: datetime) -> None:
    assert parse_written_date(text) == expected


@pytest.mark.parametrize("text", ["", "no date here", "call 2024 people", "31 February 2024"])
def test_text_without_a_valid_date(text: str) -> None:
    assert parse_written_date(text) is None


def test_search_written_date_gives_the_span() -> None:
    m = search_written_date("By CELIA JEAN | SEPTEMBER 23, 2020 00:32 | Updated")
    assert m is not None and m.group(0).startswith("SEPTEMBER 23, 2020")
