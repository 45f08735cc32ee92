"""Dates and times: the one place that reads a timestamp written by someone else.

Pure (no I/O). Every datetime that leaves here is timezone-aware; a naive one is taken as UTC.
Input records (JSON Lines ``fetched_at``, WARC-Date), page metadata (JSON-LD, meta tags, <time>)
and command-line bounds all read their dates through ``parse_datetime``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from dateutil import parser as _dateparser

__all__ = ["as_utc", "parse_datetime", "plausible_publication"]

#: a string longer than this is prose, not a date
MAX_DATE_CHARS = 64


def as_utc(value: datetime) -> datetime:
    """``value`` with a timezone: naive datetimes are UTC."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def parse_datetime(value: Any, *, fuzzy: bool = False) -> datetime | None:
    """A timezone-aware datetime from ISO 8601, RFC 2822 or a looser written date; ``None`` when
    ``value`` is empty or not a date. The standard library reads most inputs (WARC-Date, ISO 8601
    in JSON and JSON-LD) and is tried first, as the fastest."""
    if isinstance(value, datetime):
        return as_utc(value)
    if not value:
        return None
    text = " ".join(str(value).split())
    if not text or len(text) > MAX_DATE_CHARS:
        return None
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return as_utc(_dateparser.isoparse(text))
    except (ValueError, OverflowError):
        pass
    try:
        return as_utc(_dateparser.parse(text, fuzzy=fuzzy))
    except (ValueError, OverflowError, TypeError):
        return None


def plausible_publication(value: datetime | None, *, earliest_year: int = 1990) -> datetime | None:
    """``value`` when it can be a web page's publication date (not before ``earliest_year``, not
    more than a year ahead), else ``None``."""
    if value is None or not (earliest_year <= value.year <= datetime.now(timezone.utc).year + 1):
        return None
    return value
