"""One bounded parse of a page into an lxml tree.

- libxml2 stops at a nesting depth of 256 (2,048 with ``huge_tree``) and then returns a tree
  without any of the page's text: the parser runs with ``huge_tree``, and a page that still hits
  the limit is parsed again with the tags beyond ``MAX_DEPTH`` levels taken out (their text stays).
- libxml2 compares every attribute of a tag with the tag's other attributes: a tag whose
  attributes run past ``MAX_TAG_ATTRIBUTE_CHARS`` keeps its name and loses them (none is text).
"""

from __future__ import annotations

import logging
import re

import lxml.html
from lxml import etree

__all__ = ["MAX_DEPTH", "flatten_deep_nesting", "parse_html", "strip_overlong_tags"]

LOGGER = logging.getLogger(__name__)

MAX_TAG_ATTRIBUTE_CHARS = 32 * 1024
#: tags opened deeper than this are dropped on the second parse (libxml2's limit is 2,048)
MAX_DEPTH = 1000

_PARSER = lxml.html.HTMLParser(
    huge_tree=True, remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False, encoding="utf-8"
)
_OVERLONG_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9:_-]{0,63})\s[^<>]{%d,}>" % MAX_TAG_ATTRIBUTE_CHARS)
_OVERLONG_TAG_TEXT = re.compile(_OVERLONG_TAG.pattern.decode())
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9:_-]{0,63})(?:\s[^<>]*)?(/?)>")
_VOID = frozenset(
    b"area base br col embed hr img input link meta param source track wbr basefont frame isindex keygen".split()
)
# raw-text elements: their content is not markup, so keeping them adds one level at most
_RAW_TEXT = frozenset(b"script style textarea title xmp plaintext noscript iframe noembed noframes".split())
_BLOCKISH = frozenset(
    b"address article aside blockquote dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 header "
    b"li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_DEPTH_ERROR = "Excessive depth"


def strip_overlong_tags(html: str | bytes) -> str | bytes:
    """``html`` with the attributes of tags longer than ``MAX_TAG_ATTRIBUTE_CHARS`` removed."""
    if len(html) <= MAX_TAG_ATTRIBUTE_CHARS:
        return html
    if isinstance(html, str):
        return _OVERLONG_TAG_TEXT.sub(r"<\1>", html)
    return _OVERLONG_TAG.sub(rb"<\1>", html)


def flatten_deep_nesting(html: bytes, max_depth: int = MAX_DEPTH) -> bytes:
    """``html`` with the tags that would open deeper than ``max_depth`` levels removed.

    A removed block-level tag becomes a line break, so the text on either side stays apart;
    the closing tags of removed elements are removed with them (innermost first, as they close).
    """
    out: list[bytes] = []
    pos = 0
    stack: list[bytes] = []
    dropped: dict[bytes, int] = {}
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID or self_closing:
            continue
        if not closing:
            if len(stack) < max_depth or name in _RAW_TEXT:
                stack.append(name)
                continue
            dropped[name] = dropped.get(name, 0) + 1
        elif dropped.get(name):
            dropped[name] -= 1
        else:
            if name in stack:
                while stack and stack.pop() != name:
                    pass
            continue
        out.append(html[pos : match.start()])
        out.append(b"<br>" if name in _BLOCKISH else b"")
        pos = match.end()
    if not out:
        return html
    out.append(html[pos:])
    return b"".join(out)


def _parse(data: bytes):
    try:
        return lxml.html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, ValueError, TypeError) as err:  # empty document, ...
        LOGGER.debug("parse failed: %s", err)
        return None


def _hit_depth_limit() -> bool:
    return any(_DEPTH_ERROR in entry.message for entry in _PARSER.error_log)


def parse_html(html: str | bytes):
    """An lxml.html tree of the page (root ``<html>``), or None when there is nothing to parse."""
    if not html:
        return None
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    data = strip_overlong_tags(data)
    tree = _parse(data)
    if _hit_depth_limit():
        tree = _parse(flatten_deep_nesting(data))
    return tree
