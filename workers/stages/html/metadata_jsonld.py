"""JSON-LD of a page: the objects it declares, read leniently (comments, CDATA, trailing commas).

Pure: reads an lxml tree, never fetches what the page references.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["ARTICLE_TYPES", "LdObject", "jsonld_objects", "ld_names", "ld_keywords"]

ARTICLE_TYPES = frozenset(
    t.lower()
    for t in (
        "Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
        "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting",
        "TechArticle", "ScholarlyArticle", "SocialMediaPosting", "Report", "AdvertiserContentArticle",
        "SatiricalArticle", "Review", "Posting", "DiscussionForumPosting", "Blog", "MedicalScholarlyArticle",
        "HowTo", "Recipe", "VideoObject", "AskPublicNewsArticle", "QAPage", "Question", "Course", "Event",
        "Product", "MedicalWebPage", "FAQPage",
    )
)
PAGE_TYPES = frozenset(("webpage", "itempage", "collectionpage", "aboutpage", "profilepage", "searchresultspage"))
SITE_TYPES = frozenset(("website", "organization", "newsmediaorganization", "corporation", "localbusiness"))

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
MAX_OBJECTS = 200


@dataclass(frozen=True)
class LdObject:
    """One JSON-LD object and what kind of thing it describes."""

    data: dict
    types: frozenset[str]
    order: int

    @property
    def kind(self) -> str:
        """article (any creative work the page is about), page, site, person, other."""
        if self.types & ARTICLE_TYPES:
            return "article"
        if self.types & PAGE_TYPES:
            return "page"
        if self.types & SITE_TYPES:
            return "site"
        if "person" in self.types:
            return "person"
        return "other"

    def str_value(self, key: str) -> str | None:
        value = self.data.get(key)
        if isinstance(value, list) and value and isinstance(value[0], str):
            value = value[0]
        return _unescape(value.strip()) or None if isinstance(value, str) else None


def _unescape(text: str) -> str:
    """JSON-LD strings often carry HTML entities ("Q&amp;A")."""
    return html.unescape(text) if "&" in text else text


def _load(text: str) -> Any:
    text = text.strip()
    if text.startswith("<!--"):
        text = text[4:]
    if text.endswith("-->"):
        text = text[:-3]
    text = text.replace("<![CDATA[", "").replace("]]>", "").strip().rstrip(";")
    if not text:
        return None
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except ValueError:
        return None


def _walk(data: Any, depth: int = 0) -> Iterator[dict]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "itemReviewed"):
            inner = data.get(key)
            if isinstance(inner, (dict, list)):
                yield from _walk(inner, depth + 1)


def _types(obj: dict) -> frozenset[str]:
    return frozenset(t.lower().rsplit("/", 1)[-1] for t in _as_list(obj.get("@type")) if isinstance(t, str))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def jsonld_objects(scripts: Iterable[str]) -> list[LdObject]:
    """Every object of the page's JSON-LD blocks (``@graph`` and ``mainEntity`` unfolded), in order."""
    found: list[LdObject] = []
    for text in scripts:
        for obj in _walk(_load(text or "")):
            found.append(LdObject(obj, _types(obj), len(found)))
            if len(found) >= MAX_OBJECTS:
                return found
    return found


def ld_names(value: Any, by_id: dict[str, dict] | None = None) -> list[str]:
    """Names of the people or organisations in an ``author``/``publisher``-like value."""
    names = []
    for item in _as_list(value):
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            if by_id and set(item) <= {"@id", "@type"} and isinstance(item.get("@id"), str):
                item = by_id.get(item["@id"], item)
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(n for n in name if isinstance(n, str))
            if not isinstance(name, str) and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName') or ''} {item.get('familyName') or ''}"
            if isinstance(name, str):
                names.append(name)
    return [_unescape(n) for n in names]


def ld_keywords(value: Any) -> list[str]:
    out = []
    for item in _as_list(value):
        if isinstance(item, str):
            out.extend(item.split(","))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(item["name"])
    return out
