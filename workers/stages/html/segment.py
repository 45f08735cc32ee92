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


class _Frame:
    __slots__ = ("block_el", "flags", "near", "any", "heading", "is_block", "inline_mask")

    def __init__(self, block_el, flags, near, any_, heading, is_block, inline_mask):
        self.block_el = block_el
        self.flags = flags
        self.near = near
        self.any = any_
        self.heading = heading
        self.is_block = is_block
        self.inline_mask = inline_mask


def _own_mask(el) -> int:
    mask = 0
    get = el.get
    for attr in ("class", "id", "itemprop"):
        value = get(attr)
        if value:
            mask |= attribute_mask(value)
    role = get("role")
    if role:
        mask |= role_mask(role)
    return mask


def _own_flags(el, tag: str) -> int:
    flags = _TAG_FLAGS.get(tag, 0)
    if tag == "a" and el.get("href") is None:
        flags = 0
    get = el.get
    if get("hidden") is not None or get("aria-hidden") == "true":
        flags |= F_HIDDEN
    style = get("style")
    if style and _HIDDEN_STYLE.search(style):
        flags |= F_HIDDEN
    prop = get("itemprop")
    if prop and prop.lower() in _TEXT_ITEMPROPS:
        flags |= F_ITEMPROP_TEXT
    return flags


def _head_facts(root, seg: Segmented) -> None:
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
    types = []
    for match in _LD_TYPE.finditer(text[:200_000]):
        types.extend(t.strip().strip('"').lower() for t in match.group(1).strip("[]").split(",") if t.strip())
    return types


def segment(root) -> Segmented:
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
    stack: list[_Frame] = []
    block_stack: list[int] = []
    first_h1 = ""

    def flush() -> None:
        nonlocal parts, link_chars, line_breaks, first_h1
        if not parts:
            return
        text = "".join(parts)
        if line_breaks:
            text = "\n".join(filter(None, (_WS.sub(" ", line).strip() for line in text.split(BR))))
        else:
            text = _WS.sub(" ", text).strip()
        if text:
            frame = stack[-1]
            holder = frame.block_el
            blocks.append(Block(
                text, min(link_chars, len(text)), holder, tuple(block_stack[-1:-ANCESTOR_LEVELS - 1:-1]), frame.flags,
                frame.near | frame.inline_mask, frame.any | frame.inline_mask, frame.heading, len(block_stack),
                line_breaks,
            ))
            if frame.heading == 1 and not first_h1:
                first_h1 = text
        parts = []
        link_chars = 0
        line_breaks = 0

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions, entities
            if event == "end" and el.tail:
                parts.append(el.tail)
                if stack and stack[-1].flags & F_LINK:
                    link_chars += len(el.tail)
            continue
        tag = tag.lower() if not tag.islower() else tag
        if event == "start":
            tag_counts[tag] = tag_counts.get(tag, 0) + 1
            if tag in SKIP_TAGS:
                if tag == "script" and el.text and "ld+json" in (el.get("type") or ""):
                    ld_types.extend(_ld_types(el.text))
                walker.skip_subtree()
                stack.append(stack[-1] if stack else _Frame(-1, 0, 0, 0, 0, False, 0))
                continue
            parent = stack[-1] if stack else None
            mask = _own_mask(el)
            flags = _own_flags(el, tag) | (parent.flags if parent else 0)
            heading = _HEADINGS.get(tag) or (parent.heading if parent else 0)
            if tag == "br":
                parts.append(BR)
                line_breaks += 1
                stack.append(parent or _Frame(-1, 0, 0, 0, 0, False, 0))
                continue
            is_block = tag in BLOCK_TAGS
            if is_block:
                flush()
                index = len(el_tag)
                parent_index = parent.block_el if parent else -1
                el_tag.append(tag)
                el_parent.append(parent_index)
                cls = el.get("class")
                first_class = cls.split(None, 1)[0] if cls and cls.strip() else ""
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
                frame = _Frame(index, flags, near, mask | (parent.any if parent else 0), heading, True, 0)
                stack.append(frame)
                block_stack.append(index)
            else:
                inline_mask = (parent.inline_mask if parent else 0) | mask
                stack.append(_Frame(
                    parent.block_el if parent else -1, flags, parent.near if parent else 0,
                    parent.any if parent else 0, heading, False, inline_mask,
                ))
            text = el.text
            if text:
                if not is_block and parts and parts[-1][-1:].islower() and text[0].isupper():
                    parts.append(" ")  # "By Jane Doe</span><span>Published": two items shown apart
                parts.append(text)
                if flags & F_LINK:
                    link_chars += len(text)
        else:  # end
            frame = stack[-1]
            if frame.is_block and tag in BLOCK_TAGS:
                flush()
                el_end[frame.block_el] = len(blocks)
                block_stack.pop()
            stack.pop()
            tail = el.tail
            if tail:
                if not frame.is_block and parts and parts[-1][-1:].islower() and tail[0].isupper():
                    parts.append(" ")
                parts.append(tail)
                if stack and stack[-1].flags & F_LINK:
                    link_chars += len(tail)
    seg.h1 = first_h1
    seg.ld_types = ld_types
    seg.tag_counts = tag_counts
    seg.n_elements = sum(tag_counts.values())
    return seg
