"""Dates and times: the one place that reads a timestamp written by someone else.

Pure (no I/O). Every datetime that leaves here is timezone-aware; a naive one is taken as UTC.
Input records (JSON Lines ``fetched_at``, WARC-Date), page metadata (JSON-LD, meta tags, <time>)
and command-line bounds all read their dates through ``parse_datetime``; dates written in running
text (datelines, "Published Sept. 23, 2020") are found by ``search_written_date``/``parse_written_date``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from dateutil import parser as _dateparser

__all__ = ["as_utc", "parse_datetime", "parse_written_date", "plausible_publication", "search_written_date"]

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


# --------------------------------------------------------------------------- dates written in text
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
_MONTHS = "|".join(sorted(_MONTH_NUM, key=len, reverse=True))
_YEAR_RE = re.compile(r"\d{4}")
_WRITTEN_DATE_RE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º|°)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+)?\d{{4}}"
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
