"""Plain-text news items: a headline, maybe a byline, a dateline ("LONDON 1996-08-30", "WIGAN,
England Aug. 31, 1996") and the story, with no page around it.

Such an item is all content, however short and however list-like (a results table, a standings
list): the layout says so, not the wording. It is recognised by its head (the first line a
headline, then a dateline: a place of a few capitalised words and a date, nothing else; or, for
an undated item, the headline standing apart above text the classifier reads as content) and by
the absence of page chrome after it: a page dump that merely starts like one but carries menus,
share rows or footers goes to the line classifier instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from workers.dates import parse_written_date, plausible_publication, search_written_date
from workers.stages.textdump.body import join_lines
from workers.stages.textdump.lines import Line

__all__ = ["NewsItem", "find_item", "split_dateline"]

HEADLINE_MAX_UNITS = 40
DATELINE_MAX_UNITS = 12
PLACE_MAX_WORDS = 6
# An item may carry a little chrome (a copyright line, a contact line) but not a page's worth.
MAX_CHROME_SHARE = 0.1
_CHROME_KINDS = frozenset({"section", "comments", "legal", "furniture", "social"})
_PLACE_RE = re.compile(r"^[A-Z][\w.'’-]*(?:(?:\s+|,\s*)(?:[A-Z][\w.'’-]*|of|de|la|el|upon|on))*$")
_BYLINE_NAME_RE = re.compile(r"^[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|da|di|bin|al)){1,4}$")
_BY_PREFIX_RE = re.compile(r"^(?:by|por|par|von)\s+", re.I)
_AGENCY_RE = re.compile(r"\s*\((?:[A-Z][\w. ]{1,30})\)\s*$")


@dataclass(frozen=True)
class NewsItem:
    """An item's parts: the dateline's place and date are metadata, the body is the story alone."""

    title: str
    published_at: datetime | None
    place: str | None
    authors: list[str]
    body: str


def split_dateline(text: str) -> tuple[str | None, datetime] | None:
    """("LONDON", 1996-08-30) from "LONDON 1996-08-30"; (None, date) for a bare date; None when
    the line holds anything but a place and a date."""
    m = search_written_date(text)
    if m is None:
        return None
    when = parse_written_date(text)
    if when is None:
        return None
    before = text[:m.start()].strip(" ,-–—:|")
    after = text[m.end():].strip(" ,-–—:|.")
    before = _AGENCY_RE.sub("", before)
    if after and not _AGENCY_RE.fullmatch(" " + after):
        return None
    if not before:
        return None, when
    if not _is_place(before):
        return None
    return before, when


def _is_place(text: str) -> bool:
    """A few capitalised words: "LONDON", "WIGAN, England", "FARMINGTON HILLS, Mich."."""
    text = text.strip(" ,-–—")
    return 0 < len(text.split()) <= PLACE_MAX_WORDS and _PLACE_RE.match(text) is not None


def strip_byline(text: str) -> str:
    return _BY_PREFIX_RE.sub("", text.strip())


def _titlecase(name: str) -> str:
    return " ".join(w.capitalize() for w in name.split()) if name.isupper() else name


def _looks_like_headline(line: Line) -> bool:
    return (line.kind is None and not line.bullet and 1 <= line.units <= HEADLINE_MAX_UNITS
            and not line.has_url and len(line.text) <= 300)


def _chrome(line: Line) -> bool:
    return line.kind in _CHROME_KINDS or (line.bullet and line.units < 5) or line.dup > 2


def _dateline(lines: list[Line], at: int) -> tuple[int, str | None, datetime] | None:
    """(index of the first story line, place, date) when a dateline starts at ``at``."""
    first = lines[at]
    if not first.has_date and at + 2 < len(lines) and _is_place(first.text) and lines[at + 1].has_date:
        parsed = split_dateline(lines[at + 1].text)  # "FARMINGTON HILLS, Mich." then "1996-08-30"
        if parsed is None or parsed[0] is not None or lines[at + 1].units > DATELINE_MAX_UNITS:
            return None
        return at + 2, first.text.strip(" ,-–—"), parsed[1]
    if first.units > DATELINE_MAX_UNITS or not first.has_date:
        return None
    parsed = split_dateline(first.text)
    return None if parsed is None else (at + 1, parsed[0], parsed[1])


def find_item(lines: list[Line], p: np.ndarray, threshold: float) -> NewsItem | None:
    """The news item the dump is, or None when it is not one (``p``: the classifier's line
    probabilities; an item without a dateline needs a line the classifier reads as content)."""
    if len(lines) < 2 or not _looks_like_headline(lines[0]):
        return None
    at = 1
    authors: list[str] = []
    if not lines[1].has_date and _BYLINE_NAME_RE.match(strip_byline(lines[1].text)) and len(lines) > 2:
        authors = [_titlecase(strip_byline(lines[1].text))]  # "Larry Fine" between headline and dateline
        at = 2
    head = _dateline(lines, at)
    place: str | None = None
    when: datetime | None = None
    if head is not None:
        at, place, when = head
    elif not lines[0].blank_after or not np.any(p[at:] >= threshold):
        return None  # undated: the headline stands apart and the classifier sees content below it
    rest = lines[at:]
    if not rest or sum(1 for line in rest if _chrome(line)) > MAX_CHROME_SHARE * len(rest):
        return None
    while rest and rest[-1].kind in _CHROME_KINDS:  # a copyright or contact line closing the item
        rest = rest[:-1]
    if not rest:
        return None
    body = join_lines(rest)
    return NewsItem(title=lines[0].text, published_at=plausible_publication(when) if when else None,
                    place=place, authors=authors, body=body)
