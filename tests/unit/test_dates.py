from datetime import datetime, timedelta, timezone

import pytest

from workers.dates import as_utc, parse_datetime, plausible_publication

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
