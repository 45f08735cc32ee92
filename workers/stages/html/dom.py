"""One bounded parse of a page into an lxml tree.

- libxml2 stops at a nesting depth of 256 (2,048 with ``huge_tree``) and then returns a tree
  without any of the page's text: the parser runs with ``huge_tree``, and a page that still hits
  the limit is parsed again with the elements past ``MAX_NESTING`` levels reduced to their content
  (``cap_nesting``; their text stays).
- libxml2 compares every attribute of a tag with the tag's other attributes: a tag whose
  attributes run past ``MAX_TAG_ATTRIBUTE_CHARS`` keeps its name and loses them (none is text).
"""

from __future__ import annotations

import logging
import re
from typing import Any, overload

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

__all__ = ["MAX_NESTING", "cap_nesting", "parse_html", "strip_overlong_tags"]

LOGGER = logging.getLogger(__name__)

MAX_TAG_ATTRIBUTE_CHARS = 32 * 1024

_PARSER = lxml.html.HTMLParser(
    huge_tree=True, remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False, encoding="utf-8"
)
# lxml.html picks each element's class in a Python callback (forms, inputs and labels get classes of
# their own), paid every time the stage touches an element; nothing here uses those classes, and
# one class for every element lets lxml choose in C.
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
))
_OVERLONG_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9:_-]{0,63})\s[^<>]{%d,}>" % MAX_TAG_ATTRIBUTE_CHARS)
_OVERLONG_TAG_TEXT = re.compile(_OVERLONG_TAG.pattern.decode())


@overload
def strip_overlong_tags(html: str) -> str: ...
@overload
def strip_overlong_tags(html: bytes) -> bytes: ...
def strip_overlong_tags(html: str | bytes) -> str | bytes:
    """``html`` with the attributes of tags longer than ``MAX_TAG_ATTRIBUTE_CHARS`` removed."""
    if len(html) <= MAX_TAG_ATTRIBUTE_CHARS:
        return html
    if isinstance(html, str):
        return _OVERLONG_TAG_TEXT.sub(r"<\1>", html)
    return _OVERLONG_TAG.sub(rb"<\1>", html)


# libxml2 stops building the tree at 256 levels of nesting (2,048 with XML_PARSE_HUGE, lxml's
# huge_tree) and drops everything deeper: an article inside 300 nested <div>s lost its text. A page
# that hits the limit is parsed again with the elements past this depth reduced to their content.
MAX_NESTING = 128
_VOID_TAGS = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source",
    "track", "wbr",
))
_RAW_TEXT_TAGS = frozenset(("script", "style", "textarea", "title", "xmp", "noscript", "template", "iframe"))
# elements a start tag of the same name closes (<p>a<p>b are siblings, not nested)
_SELF_CLOSING_SIBLINGS = frozenset(("p", "li", "dt", "dd", "option", "tr", "td", "th"))
# paragraphs and their like keep their tags for a few levels more: their text stays apart
_TEXT_BLOCK_TAGS = frozenset((
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table",
    "tbody", "thead", "tr", "td", "th", "figcaption", "caption",
))
TEXT_BLOCK_EXTRA_DEPTH = 64
_TOKEN = r"<!--.*?(?:-->|\Z)|<[!?][^>]*>|<(/?)([A-Za-z][^\s/>]*)[^>]*>"
_TOKEN_STR = re.compile(_TOKEN, re.S)
_TOKEN_BYTES = re.compile(_TOKEN.encode(), re.S)


@overload
def cap_nesting(html: str, max_depth: int = ...) -> str: ...
@overload
def cap_nesting(html: bytes, max_depth: int = ...) -> bytes: ...
def cap_nesting(html: str | bytes, max_depth: int = MAX_NESTING) -> str | bytes:
    """``html`` with the start and end tags of elements nested deeper than ``max_depth`` removed (a
    space in their place), so that their text joins the element at ``max_depth``; paragraphs,
    headings, list items and table cells keep theirs for ``TEXT_BLOCK_EXTRA_DEPTH`` levels more. Nesting is
    followed the way a browser mostly does: void elements open nothing, an end tag closes what was
    opened after its start tag, ``<p>`` after ``<p>`` is a sibling; raw-text elements (script,
    style...) are skipped to their end tag."""
    doc: Any = html  # str or bytes: the same steps on either
    is_bytes = isinstance(doc, bytes)
    token: re.Pattern[Any] = _TOKEN_BYTES if is_bytes else _TOKEN_STR
    space = b" " if is_bytes else " "
    out: list[Any] = []
    stack: list[tuple[str, bool]] = []  # (name, kept) of every open element
    open_count: dict[str, int] = {}
    kept_depth = 0
    pos = last = 0
    while (match := token.search(doc, pos)) is not None:
        pos = match.end()
        if match.group(2) is None:  # comment, doctype, processing instruction
            continue
        raw = match.group(2)
        name = (raw.decode("latin-1") if is_bytes else raw).lower()
        if name in _VOID_TAGS:
            continue
        if match.group(1):  # an end tag
            if not open_count.get(name):
                continue  # closes nothing
            while stack:
                top, kept = stack.pop()
                open_count[top] -= 1
                kept_depth -= kept
                if top == name:
                    break
            if not kept:
                out += [doc[last:match.start()], space]
                last = pos
            continue
        if name in _SELF_CLOSING_SIBLINGS and stack and stack[-1][0] == name:
            _, kept_sibling = stack.pop()
            open_count[name] -= 1
            kept_depth -= kept_sibling
        kept = kept_depth < max_depth + (TEXT_BLOCK_EXTRA_DEPTH if name in _TEXT_BLOCK_TAGS else 0)
        if name in _RAW_TEXT_TAGS:
            end = re.compile((rb"</" if is_bytes else "</") + re.escape(raw) + (rb"\s*>" if is_bytes else r"\s*>"),
                             re.I).search(doc, pos)
            pos = end.end() if end else len(doc)
            continue  # opened and closed here: its depth does not matter, only its parent's
        stack.append((name, kept))
        open_count[name] = open_count.get(name, 0) + 1
        kept_depth += kept
        if not kept:
            out += [doc[last:match.start()], space]
            last = pos
    if not out:
        return doc
    out.append(doc[last:])
    return (b"" if is_bytes else "").join(out)


def _parse(data: bytes) -> HtmlElement | None:
    try:
        return lxml.html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, ValueError, TypeError) as err:  # empty document, ...
        LOGGER.debug("parse failed: %s", err)
        return None


def _hit_depth_limit() -> bool:
    return any(e.type_name == "ERR_RESOURCE_LIMIT" and "depth" in e.message for e in _PARSER.error_log)


def parse_html(html: str | bytes) -> HtmlElement | None:
    """An lxml.html tree of the page (root ``<html>``), or None when there is nothing to parse."""
    if not html:
        return None
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    data = strip_overlong_tags(data)
    tree = _parse(data)
    if _hit_depth_limit():
        tree = _parse(cap_nesting(data))
    return tree
