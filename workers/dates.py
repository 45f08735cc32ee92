"""Dates and times: the one place that reads a timestamp written by someone else.

Pure (no I/O). Every datetime that leaves here is timezone-aware; a naive one is taken as UTC.
Input records (JSON Lines ``fetched_at``, WARC-Date), page metadata (JSON-LD, meta tags, <time>)
and command-line bounds all read their dates through ``parse_datetime``; dates written in running
text are listed by ``find_dates`` and read with their time and zone ("Published Sept. 23, 2020
00:32", datelines of text dumps) by ``search_written_date``/``parse_written_date``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from dateutil import parser as _dateparser

__all__ = [
    "TextDate", "as_utc", "find_dates", "parse_datetime", "parse_written_date", "plausible_publication",
    "search_written_date",
]

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


# --------------------------------------------------------------------------- a date and its time in text
# (parse_written_date: datelines of text dumps, with the time and zone; find_dates above lists dates.)
# Month names (English, French, Portuguese, Spanish, Italian, German) mapped to numbers.
_MONTH_NAMES = {
    1: "january jan janvier janv janeiro enero ene gennaio gen januar jänner",
    2: "february feb février févr fevereiro fev febrero febbraio februar",
    3: "march mar mars março marzo märz",
    4: "april apr avril abril aprile",
    5: "may mai maio mayo maggio",
    6: "june jun juin junho junio giugno juni",
    7: "july jul juillet julho julio luglio juli",
    8: "august aug août agosto ago",
    9: "september sep sept septembre setembro set septiembre settembre",
    10: "october oct octobre outubro out octubre ottobre oktober okt",
    11: "november nov novembre novembro noviembre",
    12: "december dec décembre déc dezembro dez diciembre dic dicembre dezember",
}
_MONTH_NUM = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_WRITTEN_MONTHS = "|".join(sorted(_MONTH_NUM, key=len, reverse=True))
_YEAR_RE = re.compile(r"\d{4}")
_WRITTEN_DATE_RE = re.compile(
    rf"\b(?:(?:{_WRITTEN_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º|°)?\.?\s+(?:de\s+)?(?:{_WRITTEN_MONTHS})\.?,?\s+(?:de\s+)?\d{{4}}"
    r"|\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{4}[./]\d{1,2}[./]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4}"
    r"|\d{4}\s*[年년]\s*\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]?)"
    r"(?:(?:,|\s+(?:at|às|as|a las|alle|um|à|kl\.?)|\s*[•|·-])?\s+\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*\(?[A-Z]{2,4}\)?(?![a-z]))?)?",
    re.I,
)
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?")
_CJK_DATE_RE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})")
_NUMERIC_DATE_RE = re.compile(r"(\d{1,4})[./](\d{1,2})[./](\d{1,4})")
_TIME_RE = re.compile(r"(?<!\d)(\d{1,2})[:.h](\d{2})(?::(\d{2}))?\s*([ap])?\.?\s?m?\.?(?![\w])", re.I)
_TZ_WORD_RE = re.compile(r"\b([A-Z]{1,4})\b")
_TZ_OFFSETS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "IST": 5.5, "SGT": 8, "HKT": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12,
    "EST": -5, "EDT": -4, "ET": -5, "CST": -6, "CDT": -5, "CT": -6, "MST": -7, "MDT": -6, "MT": -7,
    "PST": -8, "PDT": -7, "PT": -8, "AKST": -9, "HST": -10,
}


def search_written_date(text: str) -> re.Match[str] | None:
    """The first date written in ``text`` ("Sept. 23, 2020 00:32", "23 de março de 2024",
    "2020-09-23", "2024년 3월 5일"); the costly pattern only runs around 4-digit numbers."""
    for year in _YEAR_RE.finditer(text):
        m = _WRITTEN_DATE_RE.search(text, max(0, year.start() - 32), year.end() + 40)
        if m is not None:
            return m
    return None


def parse_written_date(text: str) -> datetime | None:
    """A timezone-aware datetime from the first date written in ``text`` (UTC when no zone is
    given, a time before the date is read too: "2:16 AM EST Nov 20, 2019"); None if there is none."""
    m = search_written_date(text)
    if m is None:
        return None
    s = m.group(0)
    try:
        iso = _ISO_RE.match(s)
        if iso:
            tz = timezone.utc
            if iso[7] and iso[7] != "Z":
                sign = 1 if iso[7][0] == "+" else -1
                off = iso[7][1:].replace(":", "")
                tz = timezone(sign * timedelta(hours=int(off[:2]), minutes=int(off[2:])))
            return datetime(int(iso[1]), int(iso[2]), int(iso[3]), int(iso[4] or 0), int(iso[5] or 0),
                            int(iso[6] or 0), tzinfo=tz)
        num = _CJK_DATE_RE.match(s) or _NUMERIC_DATE_RE.match(s)
        if num:
            p1, p2, p3 = int(num[1]), int(num[2]), int(num[3])
            if p1 > 31:  # Y/M/D
                y, mo, d = p1, p2, p3
            elif p1 > 12 or "." in s[:6]:  # D/M/Y (dots are day-first)
                d, mo, y = p1, p2, p3
            else:  # M/D/Y
                mo, d, y = p1, p2, p3
            rest = s[num.end():]
        else:
            words = re.findall(r"[^\W\d_]+|\d+", s)
            mo = next(_MONTH_NUM[w.lower()] for w in words if w.lower() in _MONTH_NUM)
            nums = re.findall(r"(?<![:.\d])\d{1,4}(?![:\d])", s)
            y = next(int(n) for n in nums if len(n) == 4)
            d = next(int(n) for n in nums if len(n) <= 2)
            rest = s
        hh = mm = 0
        tm = _TIME_RE.search(rest) or _TIME_RE.search(text[max(0, m.start() - 20):m.start()])
        if tm:
            hh, mm = int(tm[1]), int(tm[2])
            if tm[4]:
                if tm[4].lower() == "p" and hh < 12:
                    hh += 12
                elif tm[4].lower() == "a" and hh == 12:
                    hh = 0
        tz = timezone.utc
        for abbr in _TZ_WORD_RE.findall(text[max(0, m.start() - 12):m.end() + 8]):
            if abbr in _TZ_OFFSETS:
                tz = timezone(timedelta(hours=_TZ_OFFSETS[abbr]))
                break
        return datetime(y, mo, d, hh, mm, tzinfo=tz)
    except (ValueError, StopIteration, OverflowError):
        return None
