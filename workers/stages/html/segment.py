"""A parsed page cut into text blocks: the units the block model keeps or drops.

One iterative walk of the tree (no recursion: nesting depth is unbounded) cuts the text at
block-level elements. Each block keeps its text, the element that holds it, the context flags of
its ancestors (inside a link, a list item, a table cell, a <nav>...), the vocabulary groups named
by the class/id/role/itemprop of its ancestors, and a signature of its tag path, so repeated
structures (posts of a thread, items of a listing) can be counted. Elements are numbered in
document order; each knows its parent and the range of blocks it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement

from workers.stages.html.vocab import attribute_mask, role_mask

__all__ = ["Block", "Segmented", "segment"]

BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frameset", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "button", "label",
))
SKIP_TAGS = frozenset((
    "head", "script", "style", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "select", "option", "datalist", "textarea", "input", "map", "audio", "video", "picture", "source", "track",
    "frame", "noframes", "param", "link", "meta", "base",
))

# context flags: set on an element, inherited by everything inside it
F_LINK = 1 << 0
F_LI = 1 << 1
F_TABLE = 1 << 2
F_CELL = 1 << 3
F_PRE = 1 << 4
F_QUOTE = 1 << 5
F_FORM = 1 << 6
F_BUTTON = 1 << 7
F_HEADER = 1 << 8
F_FOOTER = 1 << 9
F_NAV = 1 << 10
F_ASIDE = 1 << 11
F_ARTICLE = 1 << 12
F_MAIN = 1 << 13
F_SECTION = 1 << 14
F_FIGURE = 1 << 15
F_HIDDEN = 1 << 16
F_DL = 1 << 17
F_LABEL = 1 << 18
F_STRONG = 1 << 19
F_P = 1 << 20
F_TH = 1 << 21
F_DETAILS = 1 << 22
F_ADDRESS = 1 << 23
F_SMALL = 1 << 24
F_TIME = 1 << 25
F_CODE = 1 << 26
F_ITEMPROP_TEXT = 1 << 27  # itemprop="articleBody" / "text" / "reviewBody" / "description"
F_NOSCRIPT = 1 << 28  # what a browser without JavaScript shows (some forums serve their posts there)
N_FLAGS = 29

_TAG_FLAGS = {
    "a": F_LINK, "li": F_LI, "table": F_TABLE, "td": F_CELL, "th": F_CELL | F_TH, "pre": F_PRE, "code": F_CODE,
    "blockquote": F_QUOTE, "q": F_QUOTE, "form": F_FORM, "button": F_BUTTON, "header": F_HEADER,
    "footer": F_FOOTER, "nav": F_NAV, "aside": F_ASIDE, "article": F_ARTICLE, "main": F_MAIN,
    "section": F_SECTION, "figure": F_FIGURE, "figcaption": F_FIGURE, "dl": F_DL, "dd": F_DL, "dt": F_DL,
    "label": F_LABEL, "strong": F_STRONG, "b": F_STRONG, "p": F_P, "details": F_DETAILS, "summary": F_DETAILS,
    "address": F_ADDRESS, "small": F_SMALL, "time": F_TIME, "kbd": F_CODE, "samp": F_CODE, "tt": F_CODE,
    "fieldset": F_FORM, "legend": F_FORM, "dialog": F_HIDDEN, "noscript": F_NOSCRIPT,
}
# inline elements that format words rather than hold items of their own
_FORMATTING = frozenset((
    "b", "strong", "i", "em", "u", "s", "sup", "sub", "mark", "abbr", "font", "small", "code", "kbd", "var", "q",
    "bdi", "bdo", "wbr", "tt", "big", "strike", "ins", "del", "dfn", "samp", "cite", "acronym",
))
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TEXT_ITEMPROPS = frozenset(("articlebody", "text", "reviewbody", "description", "recipeinstructions"))
_WS = re.compile(r"\s+")
_LD_TYPE = re.compile(r'"@type"\s*:\s*(\[[^\]]*\]|"[^"]*")')

BR = "\ue000"  # marks a <br> in the text of the block being built (a private-use character)

#: a block records this many of its nearest block-level ancestors (the holder first)
ANCESTOR_LEVELS = 6


@dataclass(slots=True)
class Block:
    text: str
    link_chars: int
    holder: int  # the innermost block-level element around the text (index into the page's elements)
    ancestors: tuple[int, ...]  # the holder and its nearest block-level ancestors
    flags: int
    near_mask: int  # vocabulary groups of the holder, its parent and grandparent, and inline wrappers
    any_mask: int  # vocabulary groups of any ancestor
    heading: int  # 1..6 inside <h1>..<h6>, else 0
    depth: int
    line_breaks: int


@dataclass
class Segmented:
    """A page as blocks, the block-level elements that hold them, and page-wide facts."""

    blocks: list[Block]
    el_tag: list[str]
    el_parent: list[int]
    el_sig: list[int]  # hash of the tag path
    el_sigc: list[int]  # hash of the tag path with each element's first class
    el_first: list[int]  # first block inside the element
    el_end: list[int]  # one past the last block inside the element
    title: str = ""
    h1: str = ""
    ld_types: list[str] = field(default_factory=list)
    og_type: str = ""
    tag_counts: dict[str, int] = field(default_factory=dict)
    n_elements: int = 0


# a frame of the walk, one per open element: (holder, flags, near mask, any mask, heading level,
# is a block-level element, mask of the inline elements opened inside the holder)
_ROOT_FRAME = (-1, 0, 0, 0, 0, False, 0)


# what an attribute says, by name (the page's other attributes are skipped with one dict lookup)
_A_VOCAB, _A_ITEMPROP, _A_ROLE, _A_HIDDEN, _A_ARIA_HIDDEN, _A_STYLE = range(6)
_ATTRIBUTE_KIND = {
    "class": _A_VOCAB, "id": _A_VOCAB, "itemprop": _A_ITEMPROP, "role": _A_ROLE, "hidden": _A_HIDDEN,
    "aria-hidden": _A_ARIA_HIDDEN, "style": _A_STYLE,
}


def _attributes(items: list[tuple[str, str]]) -> tuple[int, int]:
    """(vocabulary mask, context flags) from an element's attributes (``el.items()``)."""
    mask = 0
    flags = 0
    kinds = _ATTRIBUTE_KIND
    for key, value in items:
        kind = kinds.get(key)
        if kind is None:
            continue
        if kind == _A_VOCAB:
            if value:
                mask |= attribute_mask(value)
        elif kind == _A_ITEMPROP:
            if value:
                mask |= attribute_mask(value)
                if value.lower() in _TEXT_ITEMPROPS:
                    flags |= F_ITEMPROP_TEXT
        elif kind == _A_ROLE:
            mask |= role_mask(value or "")
        elif kind == _A_HIDDEN:
            flags |= F_HIDDEN
        elif kind == _A_ARIA_HIDDEN:
            if value == "true":
                flags |= F_HIDDEN
        elif value and _HIDDEN_STYLE.search(value):
            flags |= F_HIDDEN
    return mask, flags


def _head_facts(root: HtmlElement, seg: Segmented) -> None:
    head = root.find("head")
    if head is not None:
        title = head.find("title")
        if title is not None and title.text:
            seg.title = _WS.sub(" ", title.text).strip()
        for meta in head.iter("meta"):
            if (meta.get("property") or meta.get("name") or "").lower() == "og:type":
                seg.og_type = (meta.get("content") or "").strip().lower()
                break


def _ld_types(text: str) -> list[str]:
    types: list[str] = []
    for match in _LD_TYPE.finditer(text[:200_000]):
        types.extend(t.strip().strip('"').lower() for t in match.group(1).strip("[]").split(",") if t.strip())
    return types


def segment(root: HtmlElement) -> Segmented:
    """Cut the page under ``root`` into text blocks, in document order."""
    blocks: list[Block] = []
    el_tag: list[str] = []
    el_parent: list[int] = []
    el_sig: list[int] = []
    el_sigc: list[int] = []
    el_first: list[int] = []
    el_end: list[int] = []
    el_mask: list[int] = []
    seg = Segmented(blocks, el_tag, el_parent, el_sig, el_sigc, el_first, el_end)
    _head_facts(root, seg)
    tag_counts: dict[str, int] = {}
    ld_types: list[str] = []

    parts: list[str] = []
    link_chars = 0
    line_breaks = 0
    stack: list[tuple] = []
    block_stack: list[int] = []
    first_h1 = ""
    item_ended = False  # the last thing walked was the end of an inline item with nothing after it
    last_break = -1  # index in parts of the last <br> of the block being built

    def flush(frame: tuple) -> None:
        nonlocal parts, link_chars, line_breaks, first_h1, last_break
        text = "".join(parts)
        # " ".join(t.split()) is _WS.sub(" ", t).strip(): the same whitespace, several times quicker
        if line_breaks:
            text = "\n".join(filter(None, (" ".join(line.split()) for line in text.split(BR))))
        else:
            text = " ".join(text.split())
        if text:
            inline = frame[6]
            blocks.append(Block(
                text, min(link_chars, len(text)), frame[0], tuple(block_stack[-1:-ANCESTOR_LEVELS - 1:-1]), frame[1],
                frame[2] | inline, frame[3] | inline, frame[4], len(block_stack), line_breaks,
            ))
            if frame[4] == 1 and not first_h1:
                first_h1 = text
        parts = []
        link_chars = 0
        line_breaks = 0
        last_break = -1

    walker = etree.iterwalk(root, events=("start", "end"))
    tag_flags = _TAG_FLAGS
    headings = _HEADINGS
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions, entities
            if event == "end" and el.tail:
                parts.append(el.tail)
                if stack and stack[-1][1] & F_LINK:
                    link_chars += len(el.tail)
            continue
        if not tag.islower():
            tag = tag.lower()
        if event == "start":
            tag_counts[tag] = tag_counts.get(tag, 0) + 1
            parent = stack[-1] if stack else _ROOT_FRAME
            if tag in SKIP_TAGS:
                if tag == "script" and el.text and "ld+json" in (el.get("type") or ""):
                    ld_types.extend(_ld_types(el.text))
                walker.skip_subtree()
                stack.append(parent)
                continue
            if tag == "br":
                stack.append(parent)
                if parts and last_break >= 0 and all(p.isspace() for p in parts[last_break + 1 :]):
                    # a blank line (<br><br>) ends a paragraph: the text after it is a block of its own
                    del parts[last_break:]
                    line_breaks -= 1
                    if parts:
                        flush(parent)
                    last_break = -1
                    continue
                if not parts or all(p.isspace() for p in parts):
                    continue  # a break before any text of the block
                last_break = len(parts)
                parts.append(BR)
                line_breaks += 1
                continue
            flags = tag_flags.get(tag, 0)
            keys = el.items()
            if keys:
                mask, own = _attributes(keys)
                flags |= own
                if tag == "a" and el.get("href") is None:
                    flags -= F_LINK
            else:
                mask = 0
                if tag == "a":
                    flags = 0
            flags |= parent[1]
            heading = headings.get(tag) or parent[4]
            is_block = tag in BLOCK_TAGS
            if is_block:
                if parts:
                    flush(parent)
                index = len(el_tag)
                parent_index = parent[0]
                el_tag.append(tag)
                el_parent.append(parent_index)
                cls = el.get("class") if keys else None
                first_class = cls.split(None, 1)[0] if cls and not cls.isspace() else ""
                if parent_index >= 0:
                    el_sig.append(hash((el_sig[parent_index], tag)))
                    el_sigc.append(hash((el_sigc[parent_index], tag, first_class)))
                else:
                    el_sig.append(hash(tag))
                    el_sigc.append(hash((tag, first_class)))
                el_first.append(len(blocks))
                el_end.append(len(blocks))
                el_mask.append(mask)
                # near: this element, its parent and its grandparent block-level elements
                near = mask
                if parent_index >= 0:
                    near |= el_mask[parent_index]
                    grand = el_parent[parent_index]
                    if grand >= 0:
                        near |= el_mask[grand]
                stack.append((index, flags, near, mask | parent[3], heading, True, 0))
                block_stack.append(index)
            else:
                stack.append((parent[0], flags, parent[2], parent[3], heading, False, parent[6] | mask))
                # two items written side by side ("<a>Shoe</a><span>$99</span>", "Jane Doe</span><span>
                # Published"): a page's style sets them apart, the text gets a space between them
                if item_ended and tag not in _FORMATTING and parts and not parts[-1][-1:].isspace():
                    parts.append(" ")
            item_ended = False
            text = el.text
            if text:
                if not is_block and parts and parts[-1][-1:].islower() and text[0].isupper():
                    parts.append(" ")
                parts.append(text)
                if flags & F_LINK:
                    link_chars += len(text)
        else:  # end
            frame = stack.pop()
            if frame[5] and tag in BLOCK_TAGS:
                if parts:
                    flush(frame)
                el_end[frame[0]] = len(blocks)
                block_stack.pop()
            tail = el.tail
            item_ended = not frame[5] and tag not in _FORMATTING and not tail
            if tail:
                if not frame[5] and parts and parts[-1][-1:].islower() and tail[0].isupper():
                    parts.append(" ")
                parts.append(tail)
                if stack and stack[-1][1] & F_LINK:
                    link_chars += len(tail)
    seg.h1 = first_h1
    seg.ld_types = ld_types
    seg.tag_counts = tag_counts
    seg.n_elements = sum(tag_counts.values())
    return seg
