"""Page metadata from an HTML tree: JSON-LD, OpenGraph, meta tags, canonical link, bylines, lang.

Pure and cheap: it only reads an already parsed lxml tree (never fetches anything the page
references) and is kept apart from main-text extraction, as trafilatura does, so either side can
change on its own. ``clean_html`` parses the page once and hands the same tree to both.

Precedence, per field (first non-empty wins):

- title: og:title, JSON-LD headline, first <h1>, twitter:title, <title>; a " | Site" / " - Site"
  suffix (or "Site | " prefix) is cut when it names the site (og:site_name, JSON-LD publisher,
  domain), and from <title> also when it is a short trailing segment.
- authors: JSON-LD author(s), <meta name=author> and friends, article:author (names, not URLs),
  then byline elements (rel=author, itemprop=author, class*=byline/author).
- published_at: JSON-LD datePublished/dateCreated, article:published_time and common meta
  names, <time itemprop=datePublished>, <time pubdate>, then the first <time datetime>.
- description: og:description, meta description, JSON-LD description, twitter:description.
- site_name: og:site_name, JSON-LD publisher / WebSite name, application-name.
- canonical_url: <link rel=canonical>, og:url, JSON-LD url / mainEntityOfPage (made absolute).
- tags: article:tag, JSON-LD keywords, news_keywords; meta keywords only when those are empty.
- language: <html lang>, Content-Language, JSON-LD inLanguage, og:locale (ISO 639-1).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

from workers.dates import parse_datetime, plausible_publication

__all__ = ["PageMetadata", "extract_metadata", "strip_site_suffix"]

ARTICLE_TYPES = frozenset(
    t.lower()
    for t in (
        "Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
        "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting",
        "TechArticle", "ScholarlyArticle", "SocialMediaPosting", "Report", "AdvertiserContentArticle",
        "SatiricalArticle", "Review", "Posting", "DiscussionForumPosting", "Blog", "MedicalScholarlyArticle",
        "HowTo", "Recipe", "VideoObject", "AskPublicNewsArticle",
    )
)
_PAGE_TYPES = frozenset(("webpage", "itempage", "collectionpage", "aboutpage", "profilepage"))

_WS = re.compile(r"\s+")
_URLISH = re.compile(r"^(?:https?:|www\.|//)|\.(?:com|org|net|html?)(?:/|$)|@\w+\.\w", re.I)
_BY_PREFIX = re.compile(
    r"^\s*(?:(?:written|posted|reported|published|text|story|words|article|photos?)\s+)?"
    r"(?:by|von|par|por|di|door|av|af|de)\s*[:\-]?\s+",
    re.I,
)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\||\b(?:and|AND|And|und|et|y|e)\b)\s*")
_AUTHOR_ROLE = re.compile(
    r"\b(?:writer|editor|editors|reporter|correspondent|contributor|columnist|staff|desk|team|"
    r"producer|photographer|intern|analyst|critic)s?\b",
    re.I,
)
_CREDENTIAL = re.compile(r"^(?:[A-Z]{2,4}|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?|MBA|Esq\.?)$")
_AUTHOR_NOISE = re.compile(
    r"^(?:staff|admin|administrator|editor|editors|editorial staff|guest|anonymous|unknown|"
    r"the editors|newsroom|redaction|rédaction|reporter|correspondent|contributor|author)$",
    re.I,
)
_DATEISH = re.compile(
    r"\b(?:\d{1,2}[:/.]\d{2}|\d{4}|updated|published|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\b",
    re.I,
)
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " // ", " « ", " » ", " : ")
_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_].*)?$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


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


# ----------------------------------------------------------------------------- small helpers


def _norm(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return _WS.sub(" ", text).strip()


def _first(*values: Any) -> str | None:
    for value in values:
        value = _norm(value)
        if value:
            return value
    return None


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


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


def _absolute(link: str | None, base: str | None) -> str | None:
    link = _norm(link)
    if not link or link.startswith(("javascript:", "mailto:", "data:", "#")):
        return None
    try:
        absolute = urljoin(base, link) if base else link
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _domain_words(url: str | None) -> set[str]:
    if not url:
        return set()
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return set()
    labels = [lbl for lbl in host.lower().split(".") if lbl not in ("www", "m", "amp")]
    words = set()
    if labels:
        core = labels[0] if len(labels) <= 2 else labels[-3] if labels[-2] in ("co", "com", "org", "net", "ac", "gov") else labels[-2]
        words.add(core)
        words.add(".".join(labels))
    return words


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


# ----------------------------------------------------------------------------- title


def strip_site_suffix(title: str | None, site_names: Iterable[str] = (), aggressive: bool = False) -> str | None:
    """Cut " | Site Name" / " - Site" (or "Site | ") from a title.

    A segment is cut when it names the site (``site_names``: site name, domain words). With
    ``aggressive`` (the <title> tag, where a suffix is the rule) a short last segment (at most
    4 words, and shorter than what remains) is cut too.
    """
    title = _norm(title)
    if not title:
        return None
    names = {_squash(n) for n in site_names if n and _squash(n)}

    def names_site(segment: str) -> bool:
        sq = _squash(segment)
        if not sq:
            return True
        if len(segment.split()) > 6:
            return False
        return any(sq == n or (len(n) >= 4 and (sq.startswith(n) or n.startswith(sq) or n in sq)) for n in names)

    for _ in range(3):  # "Title | Section | Site"
        changed = False
        for sep in _TITLE_SEPARATORS:
            if sep not in title:
                continue
            head, _, tail = title.rpartition(sep)
            if head and tail and (names_site(tail) or (aggressive and len(tail.split()) <= 4 and len(tail) < len(head) and sep != " : ")):
                title, changed = head.strip(), True
                break
            first, _, rest = title.partition(sep)
            if first and rest and names_site(first) and len(rest.split()) >= 2:
                title, changed = rest.strip(), True
                break
        if not changed:
            break
    return title or None


# ----------------------------------------------------------------------------- JSON-LD


def _load_json(text: str) -> Any:
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


def _walk_jsonld(data: Any, depth: int = 0) -> Iterable[dict]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk_jsonld(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _walk_jsonld(graph, depth + 1)
        main = data.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _walk_jsonld(main, depth + 1)


def _types(obj: dict) -> set[str]:
    return {t.lower().rsplit("/", 1)[-1] for t in _as_list(obj.get("@type")) if isinstance(t, str)}


def _jsonld_name(value: Any) -> list[str]:
    names = []
    for item in _as_list(value):
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(n for n in name if isinstance(n, str))
            if not isinstance(name, str) and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName') or ''} {item.get('familyName') or ''}"
            if isinstance(name, str):
                names.append(name)
    return names


def _jsonld_keywords(value: Any) -> list[str]:
    out = []
    for item in _as_list(value):
        if isinstance(item, str):
            out.extend(item.split(","))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(item["name"])
    return out


def _jsonld(tree) -> dict:
    """The fields we use from the page's JSON-LD, article-like objects first."""
    found: dict = {}
    articles, pages, others = [], [], []
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        data = _load_json(script.text or "")
        for obj in _walk_jsonld(data):
            types = _types(obj)
            if types & ARTICLE_TYPES:
                articles.append(obj)
            elif types & _PAGE_TYPES:
                pages.append(obj)
            else:
                others.append(obj)
    n_articles = len(articles)
    for index, obj in enumerate(articles + pages):
        for key in ("headline", "name", "description", "datePublished", "dateCreated", "inLanguage", "url"):
            if key in ("headline", "name") and n_articles and index >= n_articles:
                continue  # a WebPage's name is the <title>, suffix and all
            if key not in found and isinstance(obj.get(key), str) and obj[key].strip():
                found[key] = obj[key]
        if "author" not in found:
            names = _jsonld_name(obj.get("author")) or _jsonld_name(obj.get("creator"))
            if names:
                found["author"] = names
        if "keywords" not in found:
            kw = _jsonld_keywords(obj.get("keywords"))
            if kw:
                found["keywords"] = kw
        if "publisher" not in found:
            names = _jsonld_name(obj.get("publisher"))
            if names:
                found["publisher"] = names[0]
        if "mainEntityOfPage" not in found:
            mep = obj.get("mainEntityOfPage")
            if isinstance(mep, dict):
                mep = mep.get("@id") or mep.get("url")
            if isinstance(mep, str):
                found["mainEntityOfPage"] = mep
    for obj in others:
        types = _types(obj)
        if "website" in types and "website" not in found:
            names = _jsonld_name(obj)
            if names:
                found["website"] = names[0]
        if types & {"organization", "newsmediaorganization"} and "organization" not in found:
            names = _jsonld_name(obj)
            if names:
                found["organization"] = names[0]
    found["_article"] = bool(articles)
    return found


# ----------------------------------------------------------------------------- dates


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime (naive -> UTC) from an ISO-like or common date string, when it
    can be a publication date."""
    return plausible_publication(parse_datetime(value)) if isinstance(value, str) else None


# ----------------------------------------------------------------------------- authors


def clean_author(name: Any) -> list[str]:
    """Split and clean one author string: no "By ", no URLs/handles, no dates, no roles."""
    text = _norm(name)
    if not text:
        return []
    text = _BY_PREFIX.sub("", text)
    parts = []
    for part in _AUTHOR_SPLIT.split(text):
        part = _BY_PREFIX.sub("", part).strip(" .:-–—@\u00a0")
        if not part or _URLISH.search(part) or _AUTHOR_NOISE.match(part):
            continue
        if _DATEISH.search(part) and any(ch.isdigit() for ch in part):
            continue
        words = part.split()
        if not (1 <= len(words) <= 5) or len(part) > 60 or not any(ch.isalpha() for ch in part):
            continue
        if part.isupper() and len(part) > 4:
            part = part.title()  # "STEVE PEOPLES" -> "Steve Peoples"
        parts.append(part)
    # "Jane Doe, AP Science Writer": a role next to a name goes; a byline that is only a desk stays
    # "Ilana Muhlstein, MS, RDN": credentials next to a name go too
    people = [p for p in parts if not _AUTHOR_ROLE.search(p) and not _CREDENTIAL.match(p)]
    return people or parts[:1]


# ----------------------------------------------------------------------------- main


def _clean_tag(tag: Any) -> str | None:
    text = _norm(html.unescape(tag) if isinstance(tag, str) else "").strip(" ;#|\"'")
    if not text or len(text) > 100 or text.startswith("@") or not any(ch.isalpha() for ch in text):
        return None
    if text.casefold() in ("&quot", "quot", "null", "none", "undefined"):
        return None
    return text


def _meta_map(tree) -> dict[str, list[str]]:
    metas: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                for token in key.lower().split() if attr == "itemprop" else (key.strip().lower(),):
                    metas.setdefault(token, []).append(content)
    return metas


def _language(value: Any) -> str | None:
    match = _LANG.match(_norm(value))
    return match.group(1).lower() if match else None


def _text(elem) -> str:
    try:
        return _norm(elem.text_content())
    except (ValueError, AttributeError):
        return ""


def extract_metadata(tree, url: str | None = None) -> PageMetadata:
    """Metadata of a parsed page (an lxml.html tree). Never raises on odd markup."""
    md = PageMetadata()
    if tree is None:
        return md
    try:
        root = tree.getroottree().getroot()
    except AttributeError:
        root = tree
    metas = _meta_map(root)

    def meta(*keys: str) -> str | None:
        for key in keys:
            for value in metas.get(key, ()):
                value = _norm(value)
                if value:
                    return value
        return None

    ld = _jsonld(root)

    # base for relative links (a <base href> counts if absolute)
    base = url
    base_elem = root.find(".//base[@href]")
    if base_elem is not None:
        base = _absolute(base_elem.get("href"), url) or url

    # site name
    md.site_name = _first(
        meta("og:site_name"), ld.get("publisher"), ld.get("website"), meta("application-name"),
        meta("twitter:site") if not (meta("twitter:site") or "").startswith("@") else None,
    )

    # canonical url
    canonical = None
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel:
            canonical = _absolute(link.get("href"), base)
            if canonical:
                break
    md.canonical_url = canonical or _absolute(meta("og:url"), base) or _absolute(ld.get("url"), base) or _absolute(
        ld.get("mainEntityOfPage"), base
    )

    # title
    h1 = None
    for elem in root.iter("h1"):
        h1 = _text(elem)
        if h1:
            break
    md.h1 = h1
    title_tag = None
    title_elem = root.find(".//title")
    if title_elem is not None:
        title_tag = _text(title_elem)
    site_names = [n for n in (md.site_name, ld.get("publisher"), ld.get("website"), ld.get("organization")) if n]
    site_names += list(_domain_words(url or md.canonical_url))
    candidates = [
        strip_site_suffix(meta("og:title"), site_names),
        strip_site_suffix(ld.get("headline") or ld.get("name"), site_names),
        strip_site_suffix(h1, site_names) if h1 and len(h1) < 300 else None,
        strip_site_suffix(meta("twitter:title"), site_names),
        strip_site_suffix(title_tag, site_names, aggressive=True),
    ]
    md.raw_titles = [t for t in dict.fromkeys((meta("og:title"), ld.get("headline"), h1, meta("twitter:title"), title_tag)) if t]
    md.title = _first(*candidates)
    h1_clean = candidates[2]
    if md.title and h1_clean and md.title != h1_clean:
        key, h1_key = _squash(md.title), _squash(h1_clean)
        # "Opinion | Headline" or "Headline - Section": the h1 is the headline without the label
        if len(h1_key) >= 0.5 * len(key) and len(h1_clean.split()) >= 3 and (key.startswith(h1_key) or key.endswith(h1_key)):
            md.title = h1_clean

    # description
    md.description = _first(meta("og:description"), meta("description"), ld.get("description"), meta("twitter:description"))

    # authors
    authors: list[str] = []
    for name in ld.get("author", ()):
        authors.extend(clean_author(name))
    if not authors:
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl", "citation_author"):
            for value in metas.get(key, ()):
                authors.extend(clean_author(value))
            if authors:
                break
    if not authors:
        authors = _byline_authors(root)
    md.authors = _dedup(authors, limit=20)

    # date
    published = None
    for value in (
        ld.get("datePublished"), ld.get("dateCreated"),
        meta("article:published_time", "og:article:published_time", "article:published", "article.published", "datepublished",
             "publishdate", "pubdate", "publish-date", "date", "dc.date.issued", "dc.date", "dcterms.created",
             "sailthru.date", "parsely-pub-date", "citation_publication_date", "og:published_time", "dateCreated".lower()),
    ):
        published = parse_date(value)
        if published:
            break
    if published is None:
        published = _time_element_date(root)
    md.published_at = published

    # tags
    tags: list[str] = []
    for value in metas.get("article:tag", ()):
        tags.extend(value.split(","))
    tags.extend(ld.get("keywords", ()))
    for value in metas.get("news_keywords", ()):
        tags.extend(value.split(","))
    if not tags:
        for value in metas.get("keywords", ()):
            tags.extend(value.split(","))
    md.tags = _dedup(t for t in map(_clean_tag, tags) if t)

    # language
    md.language = (
        _language(root.get("lang"))
        or _language(root.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or _language(meta("content-language", "language", "dc.language"))
        or _language(ld.get("inLanguage"))
        or _language(meta("og:locale"))
    )
    return md


def _byline_authors(root) -> list[str]:
    authors: list[str] = []
    try:
        elems = root.xpath(
            './/*[@rel="author" or @itemprop="author"]'
            ' | .//*[self::a or self::span or self::div or self::p or self::address]'
            '[contains(@class, "byline") or contains(@class, "author")]'
        )
    except Exception:  # lxml XPath errors on exotic trees
        return authors
    for elem in elems[:10]:
        name_elem = elem.find('.//*[@itemprop="name"]')
        text = _text(name_elem if name_elem is not None else elem)
        if name_elem is None and elem.get("itemprop") == "author" and elem.get("content"):
            text = elem.get("content")
        if not text or len(text) > 120:
            continue
        authors.extend(clean_author(text))
        if authors:
            break
    return authors


def _time_element_date(root) -> datetime | None:
    best = None
    try:
        for xpath in (
            './/*[@itemprop="datePublished"]',
            ".//time[@pubdate]",
            './/article//time[@datetime] | .//header//time[@datetime]',
            ".//time[@datetime]",
        ):
            for elem in root.xpath(xpath)[:3]:
                best = parse_date(elem.get("datetime") or elem.get("content") or _text(elem))
                if best:
                    return best
    except Exception:
        return None
    return best
