"""Page metadata from an HTML tree: title, authors, publication date, description, site name,
canonical URL, tags and language.

Pure and cheap: it only reads an already parsed lxml tree (never fetches anything the page
references) and is kept apart from main-text extraction, as trafilatura does, so either side can
change on its own. ``clean_html`` parses the page once and hands the same tree to both.

Title, authors and date are chosen among candidates from every source the page has
(``metadata_title``, ``metadata_authors``, ``metadata_dates``) by small learned rankers
(``metadata_ranker``; models in ``model/``, trained by ``ops/train/train_metadata.py`` on the WCXB
dev split). The other fields take the first source that has them:

- description: og:description, meta description, JSON-LD description, twitter:description.
- site_name: og:site_name, JSON-LD publisher / WebSite name, application-name.
- canonical_url: <link rel=canonical>, og:url, JSON-LD url / mainEntityOfPage (made absolute).
- tags: article:tag, JSON-LD keywords, news_keywords; meta keywords only when those are empty.
- language: <html lang>, Content-Language, JSON-LD inLanguage, og:locale (ISO 639-1).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml.html import HtmlElement

from workers.stages.html.metadata_authors import author_candidates, clean_author
from workers.stages.html.metadata_dates import date_candidates
from workers.stages.html.metadata_jsonld import ld_keywords, ld_names
from workers.stages.html.metadata_page import PageSignals, absolute_url, norm_space, read_page
from workers.stages.html.metadata_ranker import best, load_ranker
from workers.stages.html.metadata_title import strip_site_suffix, title_candidates

__all__ = ["PageMetadata", "clean_author", "extract_metadata", "strip_site_suffix"]

_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_].*)?$")

#: without a model file, the first candidate that has one of these features wins
TITLE_FALLBACK = ["src_og_cut", "src_og_raw", "src_ld_article_headline_raw", "src_h1_raw", "src_title_cut", "src_title_raw"]
AUTHOR_FALLBACK = ["src_ld_article", "src_meta_author", "src_itemprop_author", "src_rel_author", "src_class_byline"]
DATE_FALLBACK = ["src_ld_article_pub", "src_meta_pub", "src_ld_page_pub", "src_time_attr", "src_text"]


@dataclass
class PageMetadata:
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    # not part of Extraction: kept for the body extractor as hints
    h1: str | None = None
    raw_titles: list[str] = field(default_factory=list)


def _first(*values: Any) -> str | None:
    for value in values:
        value = norm_space(value)
        if value:
            return value
    return None


def _dedup(items: Iterable[str], limit: int = 50) -> list[str]:
    seen, out = set(), []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            out.append(item)
            if len(out) >= limit:
                break
    return out


def _clean_tag(tag: Any) -> str | None:
    text = norm_space(html.unescape(tag) if isinstance(tag, str) else "").strip(" ;#|\"'")
    if not text or len(text) > 100 or text.startswith("@") or not any(ch.isalpha() for ch in text):
        return None
    if text.casefold() in ("&quot", "quot", "null", "none", "undefined"):
        return None
    return text


def _language(value: Any) -> str | None:
    match = _LANG.match(norm_space(value))
    return match.group(1).lower() if match else None


def _ld_first(sig: PageSignals, key: str, kinds: tuple[str, ...] = ("article", "page")) -> str | None:
    for kind in kinds:
        for obj in sig.ld:
            if obj.kind == kind:
                value = obj.str_value(key)
                if value:
                    return value
    return None


def _simple_fields(sig: PageSignals, md: PageMetadata) -> None:
    site_ld = next((n for o in sig.ld if o.kind == "site" for n in ld_names(o.data)), None)
    publisher = next((n for o in sig.ld if "publisher" in o.data for n in ld_names(o.data["publisher"], sig.ld_by_id)), None)
    twitter_site = sig.meta("twitter:site")
    md.site_name = _first(
        sig.meta("og:site_name"), publisher, site_ld, sig.meta("application-name"),
        twitter_site if twitter_site and not twitter_site.startswith("@") else None,
    )
    mep = None
    for obj in sig.ld:
        value = obj.data.get("mainEntityOfPage")
        value = value.get("@id") or value.get("url") if isinstance(value, dict) else value
        if isinstance(value, str):
            mep = value
            break
    md.canonical_url = (
        next((u for u in (absolute_url(link, sig.base) for link in sig.links_canonical) if u), None)
        or absolute_url(sig.meta("og:url"), sig.base) or absolute_url(_ld_first(sig, "url"), sig.base)
        or absolute_url(mep, sig.base)
    )
    md.description = _first(sig.meta("og:description"), sig.meta("description"), _ld_first(sig, "description"),
                            sig.meta("twitter:description"))
    tags: list[str] = []
    for value in sig.metas.get("article:tag", ()):
        tags.extend(value.split(","))
    for obj in sig.ld:
        if obj.kind == "article":
            tags.extend(ld_keywords(obj.data.get("keywords")))
    for value in sig.metas.get("news_keywords", ()):
        tags.extend(value.split(","))
    if not tags:
        for value in sig.metas.get("keywords", ()):
            tags.extend(value.split(","))
    md.tags = _dedup(t for t in map(_clean_tag, tags) if t)
    root = sig.root
    md.language = (
        _language(root.get("lang"))
        or _language(root.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or _language(sig.meta("content-language", "language", "dc.language"))
        or _language(_ld_first(sig, "inLanguage", ("article", "page", "site")))
        or _language(sig.meta("og:locale"))
    )


def extract_metadata(tree: HtmlElement, url: str | None = None, *, model_dir: Path | None = None) -> PageMetadata:
    """Metadata of a parsed page (an lxml.html tree). Never raises on odd markup.

    ``model_dir`` (settings ``model_dir``, ``GLEANER_MODEL_DIR``) holds ranker files that replace
    the shipped ones of the same name."""
    md = PageMetadata()
    if tree is None:
        return md
    sig = read_page(tree, url)
    _simple_fields(sig, md)
    md.h1 = sig.h1s[0] if sig.h1s else None
    md.raw_titles = [t for t in dict.fromkeys((sig.meta("og:title"), _ld_first(sig, "headline"), md.h1,
                                               sig.meta("twitter:title"), sig.title_tag)) if t]

    title = best(title_candidates(sig), load_ranker("title", model_dir), TITLE_FALLBACK)
    md.title = title.value if title else None
    authors = best(author_candidates(sig), load_ranker("authors", model_dir), AUTHOR_FALLBACK)
    md.authors = _dedup(authors.value, limit=20) if authors else []
    published = best(date_candidates(sig), load_ranker("date", model_dir), DATE_FALLBACK)
    md.published_at = published.value if published else None
    return md
