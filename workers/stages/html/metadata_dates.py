"""Publication date candidates: every date the page states (JSON-LD, meta tags, <time>,
itemprop, dated elements, the text around the headline, the URL), one candidate per calendar day
with the features of all the places that state it.

Finding only: timestamps are read by ``workers.dates`` (``parse_datetime``, ``find_dates``).
The meta names come from htmldate, the library made for this, and its own choice (fast search,
original date) is one more source.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, TypeGuard

from htmldate import find_date as htmldate_find_date

from workers.dates import find_dates, parse_datetime, plausible_publication
from workers.stages.html.metadata_page import PageSignals, leading_text
from workers.stages.html.metadata_ranker import Candidate

__all__ = ["date_candidates"]

try:  # htmldate's lists of meta names that carry a publication or a modification date
    from htmldate.core import DATE_ATTRIBUTES as _HD_PUBLISHED
    from htmldate.core import NAME_MODIFIED as _HD_NAME_MODIFIED
    from htmldate.core import PROPERTY_MODIFIED as _HD_MODIFIED
except ImportError:  # pragma: no cover - htmldate moved them
    _HD_PUBLISHED, _HD_MODIFIED, _HD_NAME_MODIFIED = set(), set(), set()

_META_GENERIC = frozenset(("date", "dc.date", "dcterms.date", "meta", "timestamp", "created", "release_date"))
META_PUBLISHED = frozenset(
    {*_HD_PUBLISHED, "article:published_time", "og:published_time", "datepublished", "publishdate", "pubdate",
     "parsely-pub-date", "sailthru.date", "citation_publication_date", "dc.date.issued", "dcterms.created"}
) - _META_GENERIC
META_MODIFIED = frozenset(
    {*_HD_MODIFIED, *_HD_NAME_MODIFIED, "article:modified_time", "og:updated_time", "datemodified", "last-modified"}
) - _META_GENERIC - META_PUBLISHED

_LD_KEYS = {"datePublished": "pub", "dateCreated": "created", "dateModified": "mod", "uploadDate": "pub"}
_UPDATED_WORDS = re.compile(r"(?:updated?|modified|revised|reviewed|edited|refreshed|last\s+changed|aktualisiert|mis à jour|actualizado)\W{0,12}$|\b(?:updated?|modified|reviewed)\b(?:\s+\w+){0,2}\W{0,4}$", re.I)
_PUBLISHED_WORDS = re.compile(r"(?:published|posted|created|written|released|publié|veröffentlicht|publicado|date)\b(?:\s+\w+){0,2}\W{0,6}$", re.I)
_BY_NEAR = re.compile(r"\bby\b|\bauthor", re.I)
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[/_-](0?[1-9]|1[0-2])(?:[/_-](0?[1-9]|[12]\d|3[01]))?(?!\d)")
_HINT_UPDATED = ("updat", "modif", "revis", "edited", "last-")
_HINT_PUBLISHED = ("publish", "posted", "pubdate", "created", "entry-date", "post-date", "article-date", "datecreated")
_HINT_COMMENT = ("comment", "reply", "respon", "review", "sidebar", "related", "footer", "widget", "recent")
_VISIBLE = frozenset(("text", "page", "elem_text", "time_text"))
#: (source name, htmldate's original_date) of the htmldate runs whose answer is a date source
HTMLDATE_SOURCES: tuple[tuple[str, bool], ...] = (("htmldate_orig", True),)
MAX_TEXT_DATES = 40
MAX_PAGE_DATES = 100
MAX_ELEMENT_CHARS = 160


@dataclass
class _Seen:
    day: date
    source: str
    when: datetime | None = None
    has_day: bool = True
    order: float | None = None  # position relative to the headline (elements), None if unknown
    text_distance: int | None = None  # characters after the headline's start (<0: before)
    updated_label: bool = False
    published_label: bool = False
    comment_hint: bool = False
    ambiguous: bool = False
    page_rank: int | None = None
    #: how many dates the same source gave before this one (several <time>s, several meta tags)
    rank: int | None = None


def _day_of(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _plausible(day: date | None) -> TypeGuard[date]:
    return day is not None and 1995 <= day.year <= datetime.now(timezone.utc).year + 1


def _from_string(value: str | None) -> tuple[date | None, datetime | None, bool]:
    """(day, full datetime when written as one, has_day) of a machine-readable date string."""
    if not value or not isinstance(value, str):
        return None, None, False
    value = value.strip()
    when = plausible_publication(parse_datetime(value)) if len(value) >= 8 and value[:4].isdigit() else None
    if when is not None:
        return when.date(), when, True
    found = find_dates(value, limit=1)
    if found:
        return found[0].value, None, found[0].has_day
    when = plausible_publication(parse_datetime(value))
    return (_day_of(when), when, True) if when else (None, None, False)


def htmldate_day(sig: PageSignals, original: bool) -> str | None:
    """htmldate's publication (``original``) or last-update date of the page, fast search only
    (it reads the tree, never changes it)."""
    try:
        return htmldate_find_date(sig.root, url=sig.url, original_date=original, extensive_search=False)
    except Exception:  # noqa: BLE001 - a library failure on odd markup is no date, not an error
        return None


def _relative_order(sig: PageSignals, order: int) -> float:
    anchor = sig.h1_order if sig.h1_order is not None else 0
    return (order - anchor) / max(sig.n_elements, 1)


def _collect(sig: PageSignals) -> list[_Seen]:
    seen: list[_Seen] = []

    def add(source: str, raw: str | None, **kw: Any) -> None:
        day, when, has_day = _from_string(raw)
        if _plausible(day):
            seen.append(_Seen(day, source, when, has_day, **kw))
            offset = when.utcoffset() if when is not None else None
            if when is not None and offset:  # written in local time: the same instant in UTC may fall on another day
                utc_day = (when - offset).date()
                if utc_day != day:
                    seen.append(_Seen(utc_day, source + "_utc", None, True, **kw))

    family: str | None
    # JSON-LD: the article-like object first, then the page, then anything else
    for obj in sig.ld:
        kind = obj.kind
        for key, family in _LD_KEYS.items():
            raw = obj.str_value(key)
            if raw:
                add(f"ld_{kind}_{family}", raw)
    # meta tags
    for name, values in sig.metas.items():
        family = "pub" if name in META_PUBLISHED else "mod" if name in META_MODIFIED else "gen" if name in _META_GENERIC else None
        if family is None:
            if "publish" in name or "pubdate" in name or "created" in name:
                family = "pubx"
            elif "modif" in name or "updated" in name:
                family = "modx"
            elif "date" in name or name.endswith("time"):
                family = "genx"
            else:
                continue
        for rank, raw in enumerate(values[:5]):
            add(f"meta_{family}", raw, rank=rank)
    # dated elements
    n_times_after = 0
    for item in sig.marked:
        elem, hint = item.elem, item.hint
        order = _relative_order(sig, item.order)
        upd = any(t in hint for t in _HINT_UPDATED)
        pub = any(t in hint for t in _HINT_PUBLISHED)
        comment = any(t in hint for t in _HINT_COMMENT)
        itemprop = (elem.get("itemprop") or "").lower()
        if itemprop in ("datepublished", "datecreated"):
            pub = True
        elif itemprop in ("datemodified", "dateupdated"):
            upd = True
        attr = elem.get("datetime") or elem.get("content") if elem.tag != "meta" else None
        if elem.tag == "time" or attr:
            source = "time" if elem.tag == "time" else "attr"
            if elem.get("pubdate") is not None:
                pub = True
            element_rank: int | None = None
            if order >= 0:
                element_rank, n_times_after = n_times_after, n_times_after + 1
            add(f"{source}_attr", attr, order=order, updated_label=upd, published_label=pub, comment_hint=comment,
                rank=element_rank)
        if elem.tag == "h1":
            continue
        text = leading_text(elem, MAX_ELEMENT_CHARS)
        if text:
            for found in find_dates(text, limit=2):
                if _plausible(found.value):
                    before = text[: found.start]
                    seen.append(_Seen(
                        found.value, "time_text" if elem.tag == "time" else "elem_text", None, found.has_day, order,
                        updated_label=upd or bool(_UPDATED_WORDS.search(before[-40:])),
                        published_label=pub or bool(_PUBLISHED_WORDS.search(before[-40:])),
                        comment_hint=comment, ambiguous=found.ambiguous,
                    ))
    # the text around the headline
    for found in find_dates(sig.text, limit=MAX_TEXT_DATES):
        if not _plausible(found.value):
            continue
        before = sig.text[max(0, found.start - 40): found.start]
        seen.append(_Seen(
            found.value, "text", None, found.has_day, text_distance=found.start - sig.h1_offset,
            updated_label=bool(_UPDATED_WORDS.search(before)), published_label=bool(_PUBLISHED_WORDS.search(before)),
            ambiguous=found.ambiguous,
        ))
    # the whole page's text: how often and how early a date is written
    page_dates = [d for d in find_dates(sig.page_text, limit=MAX_PAGE_DATES) if d.has_day and _plausible(d.value)]
    for rank, found in enumerate(page_dates):
        seen.append(_Seen(found.value, "page", None, True, text_distance=None, page_rank=rank))
    # htmldate, the library made for this: its choice among the page's dates
    for source, original in HTMLDATE_SOURCES:
        add(source, htmldate_day(sig, original))
    # the URL
    if sig.url:
        match = _URL_DATE.search(sig.url)
        if match:
            try:
                day = date(int(match[1]), int(match[2]), int(match[3] or 1))
            except ValueError:
                day = None
            if _plausible(day):
                seen.append(_Seen(day, "url_day" if match[3] else "url_month", None, bool(match[3])))
    return seen


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


#: families of date sources (for the combination features): structured published, structured
#: modified, htmldate's choice, shown to the reader, labelled "updated", labelled "published"
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ld_pub", ("src_ld_article_pub", "src_ld_page_pub", "src_ld_other_pub")),
    ("meta_pub", ("src_meta_pub", "src_meta_pubx")),
    ("mod", ("src_ld_article_mod", "src_ld_page_mod", "src_meta_mod", "src_meta_modx", "src_ld_other_mod")),
    ("hd", tuple(f"src_{name}" for name, _ in HTMLDATE_SOURCES)),
    ("vis", ("visible",)),
    ("updl", ("upd_any",)),
    ("publ", ("pub_any",)),
)


#: where the day sits among the page's days and its text (joined with each family that states it)
_POSITIONS = ("earliest", "latest", "text_near", "first_text_after_h1", "page_first", "elem_after_h1", "has_time",
              "text_before_h1")


def _combination_features(f: dict[str, float]) -> None:
    """Which families state the day together: one feature for the whole combination and one per
    pair, so the ranker can weigh "published in JSON-LD and shown" apart from either alone; and
    each family joined with where the day sits ("the earliest of the modified days")."""
    combination = [name for name, keys in _FAMILIES if any(f.get(k) for k in keys)]
    f["sig=" + "+".join(combination)] = 1.0
    for i, first in enumerate(combination):
        for second in combination[i + 1:]:
            f[f"pair={first}&{second}"] = 1.0
    for position in _POSITIONS:
        if f.get(position) == 1.0:
            for family in combination:
                f[f"{family}&{position}"] = 1.0


def _page_context_features(candidates: list[Candidate]) -> None:
    """What the other days on the page are (a modified day shown to the reader, no published day
    shown) joined with the candidate's combination, and how long before the page's latest day it is."""
    shown_modified = any(c.features.get("mod_visible") for c in candidates)
    shown_published = any(c.features.get("pub_visible") for c in candidates)
    latest = max(date.fromisoformat(c.key) for c in candidates)
    for cand in candidates:
        f = cand.features
        combination = next(name for name in f if name.startswith("sig="))
        if shown_modified:
            f["page_shows_mod&" + combination] = 1.0
        if not shown_published:
            f["page_hides_pub&" + combination] = 1.0
        f["months_before_latest"] = _log((latest - date.fromisoformat(cand.key)).days / 30)


def date_candidates(sig: PageSignals) -> list[Candidate]:
    """One candidate per calendar day the page states, with the features of every mention."""
    seen = _collect(sig)
    if not seen:
        return []
    by_day: dict[date, list[_Seen]] = defaultdict(list)
    for item in seen:
        by_day[item.day].append(item)
    days = sorted(by_day)
    exact_days = sorted(d for d, items in by_day.items() if any(i.has_day for i in items))
    text_days = [i.day for i in seen if i.source == "text" and (i.text_distance or 0) >= 0 and i.has_day]
    first_text_after = text_days[0] if text_days else None
    n_days = len(days)
    pub_days = sorted(d for d, items in by_day.items() if any(i.source.endswith(("_pub", "_pubx", "_created")) for i in items))
    mod_days = sorted(d for d, items in by_day.items() if any(i.source.endswith(("_mod", "_modx")) for i in items))
    candidates = []
    for day, items in by_day.items():
        f: dict[str, float] = {}
        for item in items:
            f[f"src_{item.source}"] = 1.0
            if item.updated_label:
                f[f"upd_{item.source}"] = 1.0
                f["upd_any"] = 1.0
            if item.published_label:
                f[f"pub_{item.source}"] = 1.0
                f["pub_any"] = 1.0
            if item.comment_hint:
                f["comment_hint"] = 1.0
            if item.ambiguous:
                f["ambiguous"] = 1.0
            if item.rank == 0:
                f[f"first_{item.source}"] = 1.0
        sources = {i.source for i in items}
        visible = bool(sources & _VISIBLE)
        structured_pub = any(s.endswith(("_pub", "_pubx", "_created")) for s in sources)
        structured_mod = any(s.endswith(("_mod", "_modx")) for s in sources)
        f["visible"] = float(visible)
        f["pub_visible"] = float(structured_pub and visible)
        f["pub_hidden"] = float(structured_pub and not visible)
        f["mod_visible"] = float(structured_mod and visible)
        f["mod_hidden"] = float(structured_mod and not visible)
        f["visible_only"] = float(visible and not structured_pub and not structured_mod)
        f["n_sources"] = _log(len(sources))
        f["n_mentions"] = _log(len(items))
        f["has_day"] = float(any(i.has_day for i in items))
        f["only_month"] = 1.0 - f["has_day"]
        f["has_time"] = float(any(i.when is not None and (i.when.hour or i.when.minute) for i in items))
        f["n_days"] = _log(n_days)
        f["single"] = float(n_days == 1)
        if exact_days:
            f["earliest"] = float(day == exact_days[0])
            f["latest"] = float(day == exact_days[-1])
            f["rank_frac"] = exact_days.index(day) / max(len(exact_days) - 1, 1) if day in exact_days else 0.5
        if pub_days:
            f["earliest_pub"] = float(day == pub_days[0])
            f["n_pub_days"] = _log(len(pub_days))
        if mod_days:
            f["latest_mod"] = float(day == mod_days[-1])
        distances = [i.text_distance for i in items if i.text_distance is not None]
        if distances:
            after = [d for d in distances if d >= 0]
            if after:
                f["text_after_h1"] = 1.0
                f["text_distance"] = _log(min(after) / 100)
                f["text_near"] = float(min(after) < 400)
            if any(d < 0 for d in distances):
                f["text_before_h1"] = 1.0
        f["first_text_after_h1"] = float(day == first_text_after)
        ranks = [i.page_rank for i in items if i.page_rank is not None]
        if ranks:
            f["page_first"] = float(ranks[0] == 0)
            f["page_rank"] = _log(ranks[0])
            f["page_mentions"] = _log(len(ranks))
        orders = [i.order for i in items if i.order is not None]
        if orders:
            nearest = min(orders, key=abs)
            f["elem_after_h1"] = float(nearest >= 0)
            f["elem_distance"] = min(abs(nearest) * 20, 3.0)
        today = datetime.now(timezone.utc).date()
        f["future"] = float(day > today)
        f["no_h1"] = float(sig.h1_order is None)
        when = next((i.when for i in items if i.when is not None and i.source.startswith(("ld_", "meta_"))), None)
        when = when or next((i.when for i in items if i.when is not None), None)
        value = when if when is not None and when.date() == day else datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        _combination_features(f)
        candidates.append(Candidate(key=day.isoformat(), value=value, features=f))
    candidates.sort(key=lambda c: c.key)
    _page_context_features(candidates)
    return candidates
