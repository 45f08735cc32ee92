"""The curated vocabulary the block model reads in class/id/role/itemprop attributes and in text.

Each group is one feature bit. A token of an attribute (split on punctuation and camelCase)
belongs to a group when it equals one of the group's words, or, for words of 4+ letters, starts
or ends with it ("commentlist", "mainnav"). Generic web vocabulary only: nothing names a site.
"""

from __future__ import annotations

import re

__all__ = ["CLASS_GROUPS", "N_CLASS_GROUPS", "N_TEXT_GROUPS", "TEXT_GROUPS", "attribute_mask", "role_mask", "text_group_hits"]

CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "article": ("article", "story", "entry", "blogpost", "hentry", "articlebody"),
    "content": ("content", "contents", "maincontent"),
    "main": ("main", "primary"),
    "body": ("body", "text", "prose", "richtext", "copy", "markdown", "wysiwyg", "rte"),
    "post": ("post", "posts", "message", "msg", "thread", "topic"),
    "comment": ("comment", "comments", "disqus", "respond", "reply", "replies", "discussion", "answer", "answers"),
    "nav": ("nav", "navbar", "navigation", "menu", "menus", "pagination", "pager", "dropdown", "megamenu", "subnav"),
    "breadcrumb": ("breadcrumb", "breadcrumbs", "crumbs", "crumb"),
    "header": ("header", "masthead", "topbar", "banner", "hdr"),
    "footer": ("footer", "colophon", "bottom", "ftr"),
    "sidebar": ("sidebar", "aside", "widget", "widgets", "rail", "side", "sidebox"),
    "related": ("related", "recommended", "recirc", "popular", "trending", "more", "also", "outbrain", "taboola"),
    "share": ("share", "sharing", "social", "facebook", "twitter", "pinterest", "whatsapp", "linkedin", "sharethis",
              "addthis"),
    "ad": ("ad", "ads", "advert", "advertisement", "sponsor", "sponsored", "promo", "promotion", "dfp", "gpt",
           "adslot", "adunit", "commercial"),
    "cookie": ("cookie", "cookies", "consent", "gdpr", "privacy"),
    "subscribe": ("newsletter", "subscribe", "signup", "subscription", "paywall", "optin"),
    "author": ("author", "byline", "writer", "bio", "contributor"),
    "meta": ("date", "time", "meta", "published", "dateline", "timestamp", "posted", "updated", "info"),
    "tags": ("tag", "tags", "category", "categories", "topics", "keywords", "label", "labels"),
    "title": ("title", "headline", "heading", "hed", "h1"),
    "media": ("caption", "figcaption", "credit", "figure", "photo", "image", "img", "media", "gallery", "video",
              "thumbnail", "thumb"),
    "hidden": ("hidden", "hide", "sr", "sronly", "invisible", "offscreen", "collapsed"),
    "modal": ("modal", "popup", "overlay", "dialog", "lightbox", "drawer", "tooltip", "toast"),
    "search": ("search", "searchbox", "searchform"),
    "account": ("login", "signin", "account", "user", "profile", "auth", "register", "logout"),
    "product": ("product", "products", "price", "cart", "buy", "sku", "stock", "offer", "checkout", "variant",
                "shop", "basket", "addtocart", "purchase", "pdp"),
    "review": ("review", "reviews", "rating", "ratings", "stars", "testimonial", "testimonials"),
    "description": ("description", "desc", "details", "detail", "summary", "overview", "about", "spec", "specs",
                    "specification", "specifications", "features"),
    "item": ("item", "items", "card", "cards", "tile", "tiles", "teaser", "list", "listing", "result", "results",
             "feed", "grid", "collection"),
    "docs": ("doc", "docs", "documentation", "api", "reference", "manual", "guide", "chapter", "toc", "wiki"),
    "code": ("code", "highlight", "syntax", "pre", "snippet", "language", "lang", "codeblock", "hljs"),
    "faq": ("faq", "faqs", "accordion", "tab", "tabs", "panel", "question", "qa", "collapse"),
    "skip": ("skip", "skiplink", "jump"),
    "logo": ("logo", "brand", "branding", "sitename"),
    "form": ("form", "input", "field", "fieldset", "button", "btn"),
    "user": ("avatar", "signature", "usercard", "postbit", "username", "member", "userinfo", "poster"),
    "vote": ("vote", "votes", "score", "likes", "upvote", "karma", "reactions"),
    "notes": ("footnote", "footnotes", "notes", "references", "citation", "citations", "bibliography"),
    "lead": ("lead", "intro", "excerpt", "standfirst", "dek", "subtitle", "abstract", "subheadline", "summary"),
    "tools": ("print", "tools", "toolbar", "actions", "utility", "utilities"),
    "legal": ("copyright", "legal", "disclaimer", "terms", "license"),
    "layout": ("container", "wrapper", "wrap", "row", "col", "column", "inner", "outer", "section", "block"),
}

# ARIA landmark roles say outright what a region is
_ROLES = {
    "main": "main", "navigation": "nav", "banner": "header", "contentinfo": "footer", "complementary": "sidebar",
    "article": "article", "search": "search", "dialog": "modal", "alertdialog": "modal", "menu": "nav",
    "menubar": "nav", "tablist": "faq", "tabpanel": "faq", "form": "form", "button": "form",
}

# Patterns run over the lower-cased page text. None starts with "\b": a pattern that starts with
# a literal lets the regex engine skip ahead; a match starting inside a word is discarded after.
TEXT_GROUPS: dict[str, str] = {
    "social": r"(?:share|shares|tweet|facebook|twitter|pinterest|linkedin|whatsapp|instagram|youtube|tiktok|reddit)\b",
    "account": r"(?:sign in|sign up|log in|login|logout|log out|register|my account|create account|password)\b",
    "legal": r"(?:©|copyright\b|all rights reserved|privacy\b|terms of (?:use|service)|cookies?\b)",
    "promo": r"(?:subscribe|newsletter|advertisement|advertising|sponsored|promoted|download the app)\b",
    "nav": r"(?:home|menu|search|skip to|back to top|previous|next|load more|show more|see all|view all|more)\b",
    "related": r"(?:related|read more|read next|recommended|you may also like|popular|trending|most read|also read)\b",
    "meta": r"(?:posted|published|updated|written by|min read|minutes? read|views|by)\b",
    "reply": r"(?:reply|replies|quote|report|permalink|joined|posts:|likes?|upvotes?|comments?)\b",
    "commerce": r"(?:[$€£¥]\s?\d|add to (?:cart|bag|basket)|buy now|in stock|out of stock|free shipping|checkout|wishlist)",
    "date": r"(?:(?:19|20)\d\d\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}\b|\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b)",
    "contact": r"(?:@\w+\.\w{2,}|contact\b|phone\b|tel\b|email\b|\+\d[\d\s().-]{8,}\d)",
}

_GROUP_NAMES = list(CLASS_GROUPS)
_GROUP_BIT = {name: 1 << i for i, name in enumerate(_GROUP_NAMES)}
_EXACT: dict[str, int] = {}
for _name, _words in CLASS_GROUPS.items():
    for _word in _words:
        _EXACT[_word] = _EXACT.get(_word, 0) | _GROUP_BIT[_name]
_AFFIXES = sorted((w for w in _EXACT if len(w) >= 4), key=len, reverse=True)
_PREFIX = re.compile("|".join(_AFFIXES))
_SUFFIX = re.compile(f"(?:{'|'.join(_AFFIXES)})$")
_ROLE_BIT = {role: _GROUP_BIT[group] for role, group in _ROLES.items()}

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_TOKEN = re.compile(r"[a-z]+")
_TEXT_PATTERNS = [(re.compile(pattern), 1 << i) for i, pattern in enumerate(TEXT_GROUPS.values())]

_token_cache: dict[str, int] = {}
_attr_cache: dict[str, int] = {}
_CACHE_MAX = 200_000


def _token_mask(token: str) -> int:
    mask = _token_cache.get(token)
    if mask is None:
        mask = _EXACT.get(token, 0)
        if len(token) >= 4:
            match = _PREFIX.match(token)
            if match:
                mask |= _EXACT[match.group()]
            match = _SUFFIX.search(token, max(0, len(token) - 24))
            if match:
                mask |= _EXACT[match.group()]
        if len(_token_cache) < _CACHE_MAX:
            _token_cache[token] = mask
    return mask


def attribute_mask(value: str) -> int:
    """The vocabulary groups named by a class/id/itemprop value."""
    mask = _attr_cache.get(value)
    if mask is None:
        mask = 0
        for token in _TOKEN.findall(_CAMEL.sub(r"\1 \2", value).lower()):
            mask |= _token_mask(token)
        if len(_attr_cache) < _CACHE_MAX:
            _attr_cache[value] = mask
    return mask


def role_mask(role: str) -> int:
    return _ROLE_BIT.get(role.strip().lower(), 0)


def text_group_hits(lowered: str) -> list[list[int]]:
    """Start positions of each text group's matches in lower-cased text (whole words only)."""
    out = []
    for pattern, _bit in _TEXT_PATTERNS:
        hits = []
        for match in pattern.finditer(lowered):
            start = match.start()
            if start and lowered[start].isalnum() and lowered[start - 1].isalnum():
                continue
            hits.append(start)
        out.append(hits)
    return out


N_CLASS_GROUPS = len(CLASS_GROUPS)
N_TEXT_GROUPS = len(TEXT_GROUPS)
