"""What a page says about itself, read once for every metadata field: meta tags, JSON-LD, <title>,
headings, the visible text (with where the headline sits in it) and the elements whose class,
id, itemprop or rel mark an author or a date.

Pure: reads an already parsed lxml tree and never changes it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from workers.stages.html.metadata_jsonld import LdObject, jsonld_objects, ld_names

__all__ = ["PageSignals", "Marked", "heading_text", "norm_space", "norm_key", "read_page"]

_WS = re.compile(r"\s+")
#: characters that never show: soft hyphens, zero-width spaces and joiners, byte-order marks
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_WORD = re.compile(r"\w+")

# matched against lower-cased class and id (a case-insensitive pattern is several times slower)
_HINT = re.compile(r"author|byline|writer|date|posted|publish|user|poster|time|meta|submitted|profile")
#: elements that never carry an author, a date or a title (skipped early: svg drawings are many)
_NEVER_MARKED = frozenset((
    "path", "svg", "g", "use", "circle", "rect", "polygon", "line", "defs", "symbol", "clippath", "lineargradient",
    "stop", "mask", "ellipse", "polyline", "br", "hr", "img", "input", "option", "source", "picture", "button",
    "noscript", "style", "iframe", "textarea", "select", "col", "wbr", "track", "param", "video", "audio", "canvas",
))
#: links to an author's or a member's page
_PROFILE_LINK = re.compile(r"/(?:author|authors|writer|writers|people|person|profile|profiles|user|users|member|members|"
                           r"contributor|contributors|staff|team|u|by)/[^/?#]")
_SKIP_TEXT = frozenset(("script", "style", "noscript", "template", "svg", "select", "button", "option", "title"))
#: elements whose text is visible text (itertext over these leaves scripts and styles out)
_TEXT_TAGS = (
    "p", "div", "span", "a", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "time", "small", "strong", "em",
    "b", "i", "u", "article", "section", "header", "footer", "main", "aside", "nav", "dd", "dt", "dl", "label",
    "address", "abbr", "font", "cite", "figcaption", "blockquote", "ul", "ol", "table", "tr", "tbody", "body",
    "center", "pre", "code", "sup", "sub", "mark", "bdi", "summary", "details", "form", "figure", "caption",
)
#: text nodes read after and before the headline (where bylines and datelines sit)
_AFTER_H1 = etree.XPath("following::text()[position() <= 120]")
_BEFORE_H1 = etree.XPath("preceding::text()[position() <= 40]")
MAX_MARKED = 400
MAX_WINDOW_CHARS = 3000
MAX_PAGE_TEXT_NODES = 5000
MAX_SUBHEADINGS = 30


def norm_space(text: Any) -> str:
    # " ".join(t.split()) folds the same whitespace as _WS.sub(" ", t).strip(), several times quicker
    return " ".join(text.translate(_INVISIBLE).split()) if isinstance(text, str) else ""


def repair_mojibake(text: str) -> str:
    """UTF-8 text that was read as Latin-1 somewhere upstream ("Investorâ\x80\x99s" -> "Investor’s")."""
    if "\u00e2\u0080" not in text and "\u00c3" not in text and "\u00c2" not in text:
        return text
    for codec in ("latin-1", "cp1252"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def norm_key(text: str | None) -> str:
    """The comparison key of a text: NFKC, lower case, words only (as WCXB compares)."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text or "").lower()))


def _unescaped(value: str) -> str:
    """A meta tag's content, with entities a CMS escaped twice ("Q&amp;amp;A") read."""
    value = norm_space(value)
    return html.unescape(value) if "&" in value else value


def element_text(elem: HtmlElement) -> str:
    try:
        return norm_space(elem.text_content())
    except (ValueError, AttributeError):
        return ""


def leading_text(elem: HtmlElement, limit: int) -> str:
    """About the first ``limit`` characters of the element's text (a big container is not read whole)."""
    parts, size = [], 0
    try:
        for piece in elem.itertext():
            parts.append(piece)
            size += len(piece)
            if size >= limit:
                break
    except (ValueError, AttributeError):
        return ""
    return norm_space("".join(parts))[:limit]


def spaced_text(elem: HtmlElement) -> str:
    """The element's text with its children's texts apart ("Legacy<br>of" -> "Legacy of")."""
    try:
        return norm_space(" ".join(elem.itertext()))
    except (ValueError, AttributeError):
        return ""


#: parts of a heading a reader does not see as its text: buttons ("Copy item path"), drawings,
#: scripts, text meant for screen readers only
_HEADING_SKIP = frozenset(("button", "svg", "script", "style", "noscript", "template", "select", "option", "img"))
_SCREEN_READER = ("sr-only", "screen-reader", "visually-hidden", "visuallyhidden", "a11y-hidden")


def _text_parts(elem: HtmlElement, skip: frozenset[str], screen_reader: bool) -> list[str] | None:
    """The texts of an element and its children in document order, leaving out the children
    named in ``skip`` (and screen-reader-only ones unless ``screen_reader``); None on odd markup."""
    parts: list[str] = []

    def walk(node: HtmlElement, depth: int) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            tag = child.tag
            if isinstance(tag, str) and depth < 12 and tag not in skip:
                cls = child.get("class")
                if screen_reader or not (cls and any(h in cls for h in _SCREEN_READER)):
                    walk(child, depth + 1)
            if child.tail:
                parts.append(child.tail)

    try:
        walk(elem, 0)
    except (ValueError, AttributeError):
        return None
    return parts


def heading_text(elem: HtmlElement) -> str:
    """A heading's visible text, its children's texts apart, without buttons, drawings and
    screen-reader-only text."""
    parts = _text_parts(elem, _HEADING_SKIP, screen_reader=False)
    return norm_space(" ".join(parts)) if parts else ""


_NOT_TEXT = frozenset(("script", "style", "noscript", "template"))


def _joined_text(elem: HtmlElement) -> str | None:
    """An element's text as the DOM's textContent gives it (inline parts not spaced apart)."""
    parts = _text_parts(elem, _NOT_TEXT, screen_reader=True)
    text = norm_space("".join(parts)) if parts else ""
    return text if 0 < len(text) <= 300 else None


@dataclass
class Marked:
    """An element that may carry an author or a date, with where it sits."""

    elem: Any
    order: int
    hint: str  # lower-cased class + id + itemprop + rel


@dataclass
class PageSignals:
    root: Any
    url: str | None
    base: str | None
    metas: dict[str, list[str]]
    ld: list[LdObject]
    title_tag: str | None
    h1s: list[str]
    #: the visible text around the headline: ``text[:h1_offset]`` comes before the first <h1>,
    #: ``text[h1_offset:]`` is the <h1> and what follows it (without an <h1>: the top of <main>)
    text: str
    h1_offset: int
    #: elements that may carry an author or a date, in document order
    marked: list[Marked]
    #: document order of the first <h1> and of the last element (positions are relative to them)
    h1_order: int | None
    n_elements: int
    links_canonical: list[str] = field(default_factory=list)
    #: where the first <h1> sits: "link" (in or around an <a>), "header" (a page header, logo or
    #: navigation), "main" (an <article>, <main> or content block); and how many <h1>s there are
    h1_context: frozenset[str] = frozenset()
    n_h1: int = 0
    #: the first <h2>/<h3> texts of the body, in document order
    subheadings: list[str] = field(default_factory=list)
    #: the first <h1>'s text with its parts joined as the DOM's textContent joins them (no space
    #: between inline parts: "<span>Brand</span><span>Name</span>" -> "BrandName")
    h1_joined: str | None = None

    def meta(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.metas.get(key, ()):
                value = _unescaped(value)
                if value:
                    return value
        return None

    def meta_all(self, key: str) -> list[str]:
        return [v for v in (_unescaped(x) for x in self.metas.get(key, ())) if v]

    @cached_property
    def page_text(self) -> str:
        """All visible text of the page, a line per text node."""
        body = self.root.find("body")
        if body is None:
            return ""
        try:
            return "\n".join(islice(body.itertext(*_TEXT_TAGS), MAX_PAGE_TEXT_NODES))
        except Exception:  # noqa: BLE001 - exotic trees
            return ""

    @cached_property
    def ld_by_id(self) -> dict[str, dict]:
        return {o.data["@id"]: o.data for o in self.ld if isinstance(o.data.get("@id"), str)}

    @cached_property
    def site_names(self) -> list[str]:
        """Names the page gives its site, then the words of its domain."""
        names = [self.meta("og:site_name"), self.meta("application-name"), self.meta("apple-mobile-web-app-title")]
        for obj in self.ld:
            if obj.kind == "site" or "publisher" in obj.data:
                for name in ld_names(obj.data if obj.kind == "site" else obj.data.get("publisher"), self.ld_by_id):
                    names.append(name)
        twitter = self.meta("twitter:site")
        if twitter:
            names.append(twitter.lstrip("@"))
        out = [n for n in dict.fromkeys(norm_space(n) for n in names if n) if n and len(n) <= 80]
        return out + sorted(self.domain_words)

    @cached_property
    def domain_words(self) -> set[str]:
        url = self.url or self.meta("og:url")
        try:
            host = (urlsplit(url).hostname or "") if url else ""
        except ValueError:
            host = ""
        labels = [lbl for lbl in host.lower().split(".") if lbl not in ("www", "m", "amp", "")]
        if not labels:
            return set()
        if len(labels) >= 3 and labels[-2] in ("co", "com", "org", "net", "ac", "gov", "edu"):
            core = labels[-3]
        else:
            core = labels[-2] if len(labels) >= 2 else labels[0]
        return {core, ".".join(labels[-2:]) if len(labels) >= 2 else core}

    @cached_property
    def slug_words(self) -> set[str]:
        """Words of the URL's path (its last meaningful segment first of all)."""
        if not self.url:
            return set()
        try:
            path = unquote(urlsplit(self.url).path)
        except ValueError:
            return set()
        return set(norm_key(re.sub(r"[-_+/.]", " ", path)).split()) - {"html", "htm", "php", "aspx", "www"}


def _meta_map(root: HtmlElement) -> dict[str, list[str]]:
    metas: dict[str, list[str]] = {}
    for meta in root.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                for token in key.lower().split() if attr == "itemprop" else (key.strip().lower(),):
                    metas.setdefault(token, []).append(content)
    return metas


def _absolute(link: str | None, base: str | None) -> str | None:
    link = norm_space(link)
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


def _window(nodes: Iterable[HtmlElement], limit: int = MAX_WINDOW_CHARS) -> list[str]:
    parts, size = [], 0
    for node in nodes:
        parent = getattr(node, "getparent", None)
        parent = parent() if parent else None
        if parent is not None and not node.is_tail and parent.tag in _SKIP_TEXT:
            continue
        text = norm_space(str(node))
        if text:
            parts.append(text)
            size += len(text) + 1
            if size >= limit:
                break
    return parts


def read_page(tree: HtmlElement, url: str | None = None) -> PageSignals:
    """Everything the metadata fields are chosen from, in one pass over ``tree`` and two short
    reads of the text around the headline."""
    try:
        root = tree.getroottree().getroot()
    except AttributeError:
        root = tree
    metas: dict[str, list[str]] = {}
    scripts: list[str] = []
    canonical: list[str] = []
    marked: list[Marked] = []
    title_tag = base_href = None
    h1s: list[str] = []
    h1_elem = h1_order = main_elem = None
    subheadings: list[str] = []
    h1_joined = None
    n_h1 = 0
    hinted: dict[str, bool] = {}
    order = 0
    for order, elem in enumerate(root.iter(tag=etree.Element)):
        tag = elem.tag
        if tag in _NEVER_MARKED:
            continue
        if tag == "meta":
            content = elem.get("content")
            if content is not None:
                for attr in ("property", "name", "itemprop", "http-equiv"):
                    key = elem.get(attr)
                    if key:
                        for token in key.lower().split() if attr == "itemprop" else (key.strip().lower(),):
                            metas.setdefault(token, []).append(content)
            continue
        if tag == "script":
            if (elem.get("type") or "").strip().lower() == "application/ld+json":
                scripts.append(elem.text or "")
            continue
        if tag == "link":
            if "canonical" in (elem.get("rel") or "").lower().split() and elem.get("href"):
                canonical.append(elem.get("href"))
            continue
        if tag == "title":
            if title_tag is None:
                title_tag = element_text(elem)
            continue
        if tag == "base":
            base_href = base_href or elem.get("href")
            continue
        if main_elem is None and (tag in ("main", "article") or elem.get("role") == "main"):
            main_elem = elem
        if tag == "h1":
            n_h1 += 1
            text = heading_text(elem)
            if not text:  # <h1><p>Title</p></h1>: the parser closes the h1 before the <p>
                following = elem.getnext()
                text = heading_text(following) if following is not None else ""
                text = text if len(text) <= 300 else ""
            if text and len(h1s) < 5:
                h1s.append(text)
                if h1_elem is None:
                    h1_elem, h1_order = elem, order
                    h1_joined = _joined_text(elem)
        elif tag in ("h2", "h3") and len(subheadings) < MAX_SUBHEADINGS:
            text = heading_text(elem)
            if text and len(text) <= 300:
                subheadings.append(text)
        cls, ident, itemprop = elem.get("class"), elem.get("id"), elem.get("itemprop")
        keep = tag in ("h1", "time") or itemprop is not None or elem.get("datetime") is not None
        if not keep and (cls or ident):
            attrs = f"{cls} {ident}" if cls and ident else cls or ident
            hint_found = hinted.get(attrs)
            if hint_found is None:  # pages repeat their class names: each distinct one is searched once
                hint_found = hinted[attrs] = _HINT.search(attrs.lower()) is not None
            keep = hint_found
        profile = tag == "a" and bool(_PROFILE_LINK.search(elem.get("href") or ""))
        rel = elem.get("rel") if tag in ("a", "link") else None
        if (keep or profile or (rel and "author" in rel.lower())) and len(marked) < MAX_MARKED:
            hint = " ".join(filter(None, (cls, ident, itemprop, rel))).lower()
            marked.append(Marked(elem, order, f"{hint} href-profile" if profile else hint))

    base = url
    if base_href:
        base = _absolute(base_href, url) or url

    before: list[str] = []
    try:
        if h1_elem is not None:
            before = _window(reversed(_BEFORE_H1(h1_elem)), 600)[::-1]
            after = _window([*h1_elem.itertext(), *_AFTER_H1(h1_elem)])
        elif main_elem is not None:
            after = _window(islice(main_elem.itertext(*_TEXT_TAGS), 200))
        else:
            after = []
    except Exception:  # noqa: BLE001 - exotic trees: no text signals
        after = []
    head = "\n".join(before)
    text = head + "\n" + "\n".join(after) if before else "\n".join(after)
    return PageSignals(
        root=root, url=url, base=base, metas=metas, ld=jsonld_objects(scripts), title_tag=title_tag or None,
        h1s=h1s, text=text, h1_offset=len(head) + 1 if before else 0, marked=marked, h1_order=h1_order,
        n_elements=order + 1, links_canonical=canonical, h1_context=_h1_context(h1_elem), n_h1=n_h1,
        subheadings=subheadings, h1_joined=h1_joined,
    )


_HEADER_HINTS = ("header", "masthead", "logo", "brand", "navbar", "site-title", "nav")
_MAIN_HINTS = ("content", "post", "entry", "article", "main", "story")


#: classes that hide an element from sight: "sr_only" ones keep it for screen readers, "hidden"
#: ones (a bare utility class) may be undone by a responsive one ("hidden md:block")
_SR_ONLY_CLASSES = ("sr-only", "visually-hidden", "visuallyhidden", "screen-reader", "screenreader", "a11y-hidden", "offscreen")
_HIDDEN_CLASSES = frozenset(("hidden", "d-none", "is-hidden", "hide", "invisible"))


def _hidden(elem: HtmlElement, hint: str) -> str | None:
    """How an element is hidden from sight, if it is: "hidden_attr" (hidden, aria-hidden,
    display:none), "hidden_sr" (screen-reader-only class) or "hidden_class"."""
    style = (elem.get("style") or "").replace(" ", "").lower()
    if elem.get("hidden") is not None or elem.get("aria-hidden") == "true" or "display:none" in style \
            or "visibility:hidden" in style:
        return "hidden_attr"
    if not hint.strip():
        return None
    if any(h in hint for h in _SR_ONLY_CLASSES):
        return "hidden_sr"
    if _HIDDEN_CLASSES.intersection(hint.split()):
        return "hidden_class"
    return None


def _h1_context(h1: HtmlElement | None) -> frozenset[str]:
    if h1 is None:
        return frozenset()
    context = set()
    if h1.find(".//a") is not None:
        context.add("link")
    for depth, anc in enumerate((h1, *h1.iterancestors())):
        if depth > 12:
            break
        tag = anc.tag
        hint = f"{anc.get('class') or ''} {anc.get('id') or ''}".lower()
        hidden = _hidden(anc, hint)
        if hidden:
            context.add(hidden)
        if anc is h1:
            continue
        if tag == "a":
            context.add("link")
        if tag in ("header", "nav") or any(h in hint for h in _HEADER_HINTS):
            context.add("header")
        if tag in ("article", "main") or anc.get("role") == "main" or any(h in hint for h in _MAIN_HINTS):
            context.add("main")
    return frozenset(context)


def absolute_url(link: str | None, base: str | None) -> str | None:
    return _absolute(link, base)
