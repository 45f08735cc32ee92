"""Dates and times: the one place that reads a timestamp written by someone else.

Pure (no I/O). Every datetime that leaves here is timezone-aware; a naive one is taken as UTC.
Input records (JSON Lines ``fetched_at``, WARC-Date), page metadata (JSON-LD, meta tags, <time>)
and command-line bounds all read their dates through ``parse_datetime``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from dateutil import parser as _dateparser

__all__ = ["TextDate", "as_utc", "find_dates", "parse_datetime", "plausible_publication"]

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


# ----------------------------------------------------------------------------- dates in running text

_MONTHS = (
    ("january", "jan", "januar", "jänner", "janvier", "enero", "ene", "gennaio", "gen", "janeiro", "januari"),
    ("february", "feb", "februar", "février", "fév", "fevrier", "febrero", "febbraio", "fevereiro", "fev", "februari"),
    ("march", "mar", "märz", "mär", "maerz", "mars", "marzo", "março", "marco", "maart", "mrt"),
    ("april", "apr", "avril", "avr", "abril", "abr", "aprile"),
    ("may", "mai", "mayo", "maggio", "mag", "maio", "mei"),
    ("june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho"),
    ("july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho"),
    ("august", "aug", "août", "aout", "agosto", "ago", "augustus"),
    ("september", "sep", "sept", "septembre", "septiembre", "settembre", "set", "setembro"),
    ("october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro", "out"),
    ("november", "nov", "novembre", "noviembre", "novembro"),
    ("december", "dec", "dezember", "dez", "décembre", "déc", "decembre", "diciembre", "dic", "dicembre", "dezembro"),
)
MONTH_NUMBERS: dict[str, int] = {name: number for number, names in enumerate(_MONTHS, 1) for name in names}
_MONTH = r"(?P<{}>[^\W\d_]{{3,10}})\.?"  # any word: MONTH_NUMBERS decides
_DAY = r"(?P<{}>[0-3]?\d)(?:st|nd|rd|th|er|º|\.)?"
_YEAR = r"(?P<{}>(?:19|20)\d\d)"
_TEXT_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    # 2024-03-05, 2024/03/05, 2024.03.05
    r"(?P<iy>(?:19|20)\d\d)(?P<isep>[-/.])(?P<im>[01]?\d)(?P=isep)(?P<id>[0-3]?\d)(?![\d])"
    # 03/05/2024, 5.3.2024, 05-03-2024 (and two-digit years)
    r"|(?P<na>[0-3]?\d)(?P<nsep>[-/.])(?P<nb>[0-3]?\d)(?P=nsep)(?P<ny>(?:19|20)\d\d|\d\d)(?![\d/.-]\d)"
    # March 5, 2024 / Mar. 5th 2024 / March 5 2024
    rf"|{_MONTH.format('m1')}\s+{_DAY.format('d1')},?\s+{_YEAR.format('y1')}"
    # 5 March 2024 / 5th of March, 2024 / 5. März 2024 / 5 de marzo de 2024
    rf"|{_DAY.format('d2')}\s*(?:of\s+|de\s+)?{_MONTH.format('m2')},?\s+(?:de\s+)?{_YEAR.format('y2')}"
    # March 2024 (no day)
    rf"|{_MONTH.format('m3')},?\s+{_YEAR.format('y3')}"
    r")(?![^\WT])",  # a time may follow: 2024-03-05T10:00
    re.I,
)
#: where a date can be: a year, or a numeric date with a two-digit year (the full pattern runs
#: only around these, which keeps scanning long text fast)
_DATE_SEED = re.compile(r"(?:19|20)\d\d|\d[-/.]\d\d?[-/.]\d\d(?!\d)")
_SEED_BEFORE, _SEED_AFTER = 32, 12


@dataclass(frozen=True)
class TextDate:
    """A calendar date written in running text, where it was found and how precise it is."""

    start: int
    end: int
    value: date
    has_day: bool = True
    #: day and month could be read either way round (03/05/2024); ``value`` takes month first
    #: for "/" and day first for "." and "-"
    ambiguous: bool = False


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _two_digit_year(year: str) -> int:
    value = int(year)
    if len(year) == 2:
        value += 2000 if value < 70 else 1900
    return value


def _read(match: re.Match) -> tuple[date | None, bool, bool]:
    g = match.groupdict()
    if g["iy"]:
        return _safe_date(int(g["iy"]), int(g["im"]), int(g["id"])), True, False
    if g["na"]:
        a, b, year = int(g["na"]), int(g["nb"]), _two_digit_year(g["ny"])
        month_first, ambiguous = g["nsep"] == "/", False
        if a > 12 >= b:
            month_first = False
        elif b > 12 >= a:
            month_first = True
        else:
            ambiguous = a != b
        return (_safe_date(year, a, b) if month_first else _safe_date(year, b, a)), True, ambiguous
    for m, d, y in (("m1", "d1", "y1"), ("m2", "d2", "y2"), ("m3", None, "y3")):
        if g[m]:
            month = MONTH_NUMBERS.get(g[m].lower())
            if month is None:
                return None, False, False
            return _safe_date(int(g[y]), month, int(g[d]) if d else 1), d is not None, False
    return None, False, False


def find_dates(text: str, *, limit: int = 200) -> list[TextDate]:
    """The calendar dates written in ``text`` (ISO, numeric and with month names in English,
    German, French, Spanish, Italian, Portuguese and Dutch), in order; month-and-year dates
    count as the 1st of the month with ``has_day=False``."""
    found: list[TextDate] = []
    covered = 0
    for seed in _DATE_SEED.finditer(text):
        if seed.start() < covered:
            continue
        lo = max(covered, seed.start() - _SEED_BEFORE)
        hi = min(len(text), seed.end() + _SEED_AFTER)
        position = lo
        while position < seed.end():
            match = _TEXT_DATE.search(text, position, hi)
            if match is None or match.start() >= seed.end():
                break
            position = match.start() + 1
            value, has_day, ambiguous = _read(match)
            if value is None:
                continue  # "Title 2024": not a month, try further on
            found.append(TextDate(match.start(), match.end(), value, has_day, ambiguous))
            covered = match.end()
            break
        if len(found) >= limit:
            break
    return found
