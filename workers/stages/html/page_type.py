"""Page-type features: what kind of page this is (the seven WCXB types).

Read from the URL (path words, depth, slug shape), the page's own declarations (JSON-LD @type,
og:type), tag counts, and block statistics (how much text sits in lists, tables, code, repeated
structures, and which class/id vocabulary the text blocks sit under).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np
from lxml.html import HtmlElement

from workers.stages.html.features import PAGE_TYPES, BlockText
from workers.stages.html.segment import F_CELL, F_CODE, F_LI, F_PRE, Segmented
from workers.stages.html.vocab import CLASS_GROUPS, TEXT_GROUPS

__all__ = ["PAGE_TYPES", "PAGE_TYPE_FEATURE_NAMES", "declared_url", "page_type_features"]

URL_GROUPS: dict[str, tuple[str, ...]] = {
    "forum": ("forum", "forums", "thread", "threads", "topic", "topics", "showthread", "viewtopic", "discussion",
              "discussions", "community", "questions", "question", "answers", "board", "boards", "comments", "t", "r"),
    "product": ("product", "products", "p", "dp", "item", "items", "buy", "sku", "gp"),
    "shop": ("shop", "store", "catalog", "catalogue", "collections", "collection", "category", "categories", "c",
             "brand", "brands", "department", "shopping", "browse"),
    "listing": ("list", "lists", "search", "results", "tag", "tags", "archive", "archives", "directory", "events",
                "jobs", "page", "index", "all", "latest", "topics", "authors", "author"),
    "docs": ("docs", "doc", "documentation", "api", "reference", "manual", "guide", "guides", "tutorial",
             "tutorials", "wiki", "help", "kb", "learn", "developer", "developers", "sdk", "man", "howto", "faq",
             "support", "knowledge", "en-us", "latest", "stable", "v1", "v2", "v3"),
    "service": ("services", "service", "pricing", "plans", "about", "contact", "solutions", "features",
                "careers", "programs", "program", "admissions", "tuition", "company", "team", "industries",
                "consulting", "locations", "treatments", "practice", "legal", "insurance"),
    "article": ("news", "article", "articles", "blog", "blogs", "post", "posts", "story", "stories", "opinion",
                "magazine", "press", "editorial", "review", "reviews", "features", "recipes", "recipe"),
}
LD_GROUPS: dict[str, tuple[str, ...]] = {
    "article": ("article", "newsarticle", "blogposting", "reportagenewsarticle", "opinionnewsarticle",
                "analysisnewsarticle", "liveblogposting", "recipe", "review", "howto", "scholarlyarticle"),
    "product": ("product", "offer", "aggregateoffer", "aggregaterating", "productgroup", "individualproduct",
                "vehicle", "book", "softwareapplication", "course"),
    "forum": ("discussionforumposting", "qapage", "question", "answer", "comment", "socialmediaposting"),
    "collection": ("collectionpage", "offercatalog", "searchresultspage"),
    "list": ("itemlist", "listitem"),
    "docs": ("techarticle", "apireference", "softwaresourcecode"),
    "service": ("service", "organization", "localbusiness", "faqpage", "professionalservice", "medicalorganization",
                "educationalorganization", "collegeoruniversity", "corporation", "contactpage", "aboutpage",
                "event", "place", "legalservice", "financialservice", "medicalclinic", "dentist", "physician"),
    "web": ("webpage", "website", "breadcrumblist", "searchaction", "imageobject", "person", "videoobject"),
}
OG_TYPES = ("article", "product", "website", "profile", "video", "book", "og:product", "product.item", "business")
COUNT_TAGS = ("p", "a", "li", "h1", "h2", "h3", "h4", "table", "tr", "form", "input", "button", "img", "pre", "code",
              "article", "section", "nav", "aside", "time", "blockquote", "select", "dl", "dt", "figure", "iframe",
              "ul", "ol", "span", "div", "footer", "header", "main", "label", "textarea", "video", "svg", "meta")

_WORD = re.compile(r"[a-z0-9]+")
_COMMERCE = list(TEXT_GROUPS).index("commerce")
_DATE = list(TEXT_GROUPS).index("date")
_BREADCRUMB = 1 << list(CLASS_GROUPS).index("breadcrumb")
_YEAR = re.compile(r"/(?:19|20)\d\d/")
_DIGITS = re.compile(r"\d{4,}")


def _names() -> list[str]:
    names = [f"url_{g}" for g in URL_GROUPS]
    names += ["url_depth", "url_last_len", "url_last_hyphens", "url_has_year", "url_has_id", "url_html", "url_query",
              "url_root", "url_trailing_slash"]
    names += [f"ld_{g}" for g in LD_GROUPS] + ["ld_any"]
    names += ["og_" + re.sub(r"\W", "_", t) for t in OG_TYPES]
    names += [f"tags_{t}" for t in COUNT_TAGS]
    names += ["log_blocks", "log_words", "link_ratio", "mean_words", "max_words_share", "top5_words_share",
              "li_share", "cell_share", "pre_share", "code_share", "heading_blocks", "long_blocks", "title_words",
              "has_h1", "rep_max", "rep_words_share", "rep_groups"]
    names += [f"text_{g}" for g in TEXT_GROUPS]
    names += [f"cls_{g}" for g in CLASS_GROUPS]
    names += [f"title_{g}" for g in URL_GROUPS] + [f"h1_{g}" for g in URL_GROUPS]
    names += ["linked_headings", "linked_heading_share", "price_blocks", "date_blocks", "has_breadcrumb",
              "rep_linked_items", "block_text_groups"]
    return names


PAGE_TYPE_FEATURE_NAMES = _names()
_URL_LOOKUP = {w: i for i, words in enumerate(URL_GROUPS.values()) for w in words}
_LD_LOOKUP = {w: i for i, words in enumerate(LD_GROUPS.values()) for w in words}


def declared_url(root: HtmlElement) -> str | None:
    """The URL a page states for itself (``<link rel=canonical>``, else ``og:url``): what the page-type
    features read when the page comes without one (a file, an archive record without its URL)."""
    head = root.find("head")
    if head is None:
        return None
    og = None
    for el in head.iter("link", "meta"):
        if el.tag == "link":
            if el.get("href") and "canonical" in (el.get("rel") or "").lower().split():
                return el.get("href").strip() or None
        elif og is None and (el.get("property") or el.get("name") or "").lower() == "og:url":
            og = (el.get("content") or "").strip() or None
    return og


def page_type_features(seg: Segmented, stats: BlockText, url: str | None) -> np.ndarray:
    feats: list[float] = []
    url_hits = [0.0] * len(URL_GROUPS)
    path, query = "", ""
    try:
        parts = urlsplit(url or "")
        path, query = parts.path.lower(), parts.query
    except ValueError:
        pass
    segments = [s for s in path.split("/") if s]
    for segment in segments:
        for token in {segment, *segment.split("-"), *segment.split("_"), segment.split(".")[0]}:
            i = _URL_LOOKUP.get(token)
            if i is not None:
                url_hits[i] += 1.0
    feats += url_hits
    last = segments[-1] if segments else ""
    feats += [len(segments), len(last), last.count("-"), float(bool(_YEAR.search(path))),
              float(bool(_DIGITS.search(path))), float(path.endswith((".html", ".htm", ".php", ".aspx"))),
              float(bool(query)), float(not segments), float(path.endswith("/"))]

    ld_hits = [0.0] * len(LD_GROUPS)
    for t in seg.ld_types:
        i = _LD_LOOKUP.get(t.split("/")[-1])
        if i is not None:
            ld_hits[i] = 1.0
    feats += ld_hits + [float(bool(seg.ld_types))]
    feats += [float(seg.og_type == t) for t in OG_TYPES]
    feats += [float(np.log1p(seg.tag_counts.get(t, 0))) for t in COUNT_TAGS]

    blocks = seg.blocks
    n = len(blocks)
    words = stats.words if n else np.zeros(1)
    total = max(float(words.sum()), 1.0)
    flags = np.fromiter((b.flags for b in blocks), dtype=np.int64, count=n) if n else np.zeros(1, dtype=np.int64)
    link = np.fromiter((b.link_chars for b in blocks), dtype=np.float64, count=n) if n else np.zeros(1)
    chars = np.maximum(stats.chars, 1.0) if n else np.ones(1)
    text_words = words * (1 - link / chars)
    sorted_words = np.sort(words)[::-1]

    def share(flag: int) -> float:
        return float(words[(flags & flag) != 0].sum() / total)

    headings = sum(1 for b in blocks if b.heading)
    feats += [np.log1p(n), np.log1p(total), float((words * link / chars).sum() / total), total / max(n, 1),
              float(sorted_words[0] / total), float(sorted_words[:5].sum() / total), share(F_LI), share(F_CELL),
              share(F_PRE), share(F_CODE), float(headings), float((words >= 30).sum()),
              float(len(seg.title.split())), float(bool(seg.h1))]
    # repeated structures: the most repeated parent path among blocks with prose
    counts: dict[int, list[float]] = {}
    text_word_list = text_words.tolist()  # Python floats: the same values, read quicker one by one
    for i, b in enumerate(blocks):
        if len(b.ancestors) > 1 and text_word_list[i] >= 5:
            key = seg.el_sigc[b.ancestors[1]]
            entry = counts.setdefault(key, [0.0, 0.0])
            entry[0] += 1
            entry[1] += text_word_list[i]
    if counts:
        best = max(counts.values(), key=lambda e: e[0])
        feats += [np.log1p(best[0]), best[1] / total, float(sum(1 for e in counts.values() if e[0] >= 5))]
    else:
        feats += [0.0, 0.0, 0.0]
    if n:
        feats += list((stats.groups * words[:, None]).sum(axis=0) / total)
        near = np.fromiter((b.near_mask for b in blocks), dtype=np.int64, count=n)
        bits = (near[:, None] >> np.arange(len(CLASS_GROUPS))[None, :]) & 1
        feats += list((bits * words[:, None]).sum(axis=0) / total)
    else:
        feats += [0.0] * (len(TEXT_GROUPS) + len(CLASS_GROUPS))
    # the words of the title and the main heading, read with the URL's vocabulary
    for text in (seg.title, seg.h1):
        hits = [0.0] * len(URL_GROUPS)
        for token in _WORD.findall(text.lower()):
            i = _URL_LOOKUP.get(token)
            if i is not None and len(token) > 2:
                hits[i] += 1.0
        feats += hits
    # teasers: headings that are links (listings, collections), prices, dates, a breadcrumb trail
    heading_links = [b for b in blocks if b.heading and 2 * b.link_chars >= len(b.text)]
    groups = stats.groups if n else np.zeros((1, len(TEXT_GROUPS)))
    linked_items = 0
    if n:
        item_keys: dict[int, int] = {}
        word_list = words.tolist()
        for i, b in enumerate(blocks):
            if 2 * b.link_chars >= len(b.text) and len(b.ancestors) > 1 and 3 <= word_list[i] <= 25:
                key = seg.el_sigc[b.ancestors[1]]
                item_keys[key] = item_keys.get(key, 0) + 1
        linked_items = max(item_keys.values(), default=0)
    feats += [float(np.log1p(len(heading_links))), float(len(heading_links) / max(headings, 1)),
              float(np.log1p((groups[:, _COMMERCE] > 0).sum())), float(np.log1p((groups[:, _DATE] > 0).sum())),
              float(any(b.near_mask & _BREADCRUMB for b in blocks)), float(np.log1p(linked_items)),
              float((groups.sum(axis=1) > 0).mean())]
    out = np.asarray(feats, dtype=np.float32)
    assert len(out) == len(PAGE_TYPE_FEATURE_NAMES), (len(out), len(PAGE_TYPE_FEATURE_NAMES))
    return out
