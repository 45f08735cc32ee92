"""HTML cleaner: main text and the page's own metadata, from one parse of the page.

Pure stage: no Celery/Redis/Elasticsearch, no I/O, no network (nothing the page references is
ever fetched).

Design
------
1. Parse once with lxml (trafilatura's ``load_html``: encoding declarations, faulty doctypes).
2. Metadata from that tree (``html.metadata.extract_metadata``: JSON-LD, OpenGraph, meta tags,
   canonical link, <time>, bylines, <html lang>).
3. Repairs of the tree before extraction (``extract_body`` mutates it; metadata is read first):
   embedded posts (tweets) lifted out of widget wrappers trafilatura would discard, captions
   written right after an image as a short inline element dropped, and runs of loose text mixed
   with links between <br>s wrapped in <p> (trafilatura splits those around every link and loses
   the space after it).
4. Main text with trafilatura on the same tree, precision-oriented and without comments, as a
   cascade that only pays for what a page needs:
   a. the fast pass (trafilatura's own extractor, no readability/jusText comparison);
   b. when it returns little (short text, or few paragraphs for the page), the full pass, which
      adds trafilatura's readability/jusText second opinions; its result replaces the fast one
      when it is longer.
5. Block-level cleanup of the extracted tree, generic rather than per site: blocks that are mostly
   link text ("READ MORE: <link>", "DON'T MISS" link lists), promo/share/newsletter/"related"
   label lines, the headline repeated at the top (the title belongs in ``title``), and trailing
   boilerplate (share/follow/subscribe/tags lines, membership appeals).
6. Paragraphs joined by a blank line; a list is one block with one item per line (no markers); a
   leading date-only line (the page's dateline) is dropped. Nothing article-like -> empty body
   (the caller records the failure).
"""

from __future__ import annotations

import logging
import re

from lxml.etree import strip_tags

from workers.models import Extraction
from workers.stages.clean_text import _search_date  # the text cleaner's multilingual date finder
from workers.stages.html.metadata import PageMetadata, extract_metadata

__all__ = ["clean_html", "extract_body", "parse_html"]

LOGGER = logging.getLogger(__name__)

#: run the full trafilatura pass when the fast pass gives fewer characters than this ...
FULL_PASS_MIN_CHARS = 1000
#: ... or fewer than this many paragraphs
FULL_PASS_MIN_BLOCKS = 2
#: a block whose link text is at least this share of its text is navigation/promo, not prose
LINK_DENSITY_MAX = 0.5
#: ... unless it is long (a paragraph of prose with many inline links)
LINK_BLOCK_MAX_WORDS = 40
#: a fast-pass text at least this long that opens with the headline is trusted as is
ANCHORED_MIN_WORDS = 60
#: a body shorter than this (in words, and in characters for unspaced scripts) is not an article
MIN_BODY_WORDS = 10
MIN_BODY_CHARS = 80

_WORD = re.compile(r"\w+")
_WS = re.compile(r"\s+")

# a "related"/promo label opening a block ("READ MORE: <link>", "DON'T MISS", "Also on rt.com <link>")
_PROMO_START = re.compile(
    r"^\W*(?:"
    r"(?:read|see|watch|listen)(?: to)? (?:more|also|next|now|the full(?: story| article)?)"
    r"|(?:also|more) (?:on|from|read)(?: [\w.-]+)?"
    r"|related(?: [\w-]+){0,2}|recommended(?: for you| stories| articles?| reading)?"
    r"|don'?t miss|do not miss|most (?:read|popular|viewed|shared)|trending(?: now)?"
    r"|you (?:may|might) (?:also )?(?:like|enjoy|be interested in)|more stories|top stories"
    r"|leggi anche|guarda anche|lesen sie auch|mehr zum thema|lire aussi|à lire aussi|voir aussi"
    r"|leia (?:também|mais)|veja (?:também|mais)|lea también|ver también|lees ook"
    r")",
    re.I,
)
_LABEL_END = re.compile(r"\s*(?:[:|»>\-–—…]|\.\.\.|$)")
# whole-line boilerplate anywhere in the body
_BOILER_LINE = re.compile(
    r"^\W*(?:advertisement|advertising|sponsored(?: content)?|story continues below(?: advertisement)?"
    r"|continue reading(?: below| the main story)?|scroll (?:down )?to continue|skip (?:to )?(?:ad|advertisement)"
    r"|(?:like|enjoy(?:ed)?|love)(?:d)? this (?:story|article|post)\?.*"
    r"|share (?:this|on|via|the|to)\b.*|share\s*$|tweet\s*$|email\s*$|print\s*$|comments?\s*$"
    r"|(?:sign up|subscribe|register)\b.{0,80}(?:newsletter|updates|inbox|alerts|free)\b.*"
    r"|get (?:our|the) .{0,40}newsletter.*"
    r"|follow (?:us|@\w+|[\w .&]{1,40}) on (?:twitter|facebook|instagram|linkedin|youtube|tiktok|social media)\b.*"
    r"|image (?:source|credit|copyright)\s*:.*|photo(?:graph)? credit\s*:.*|(?:photo|image|picture)s?\s*:\s*(?:getty|ap|reuters|afp|shutterstock).{0,60}"
    r")\W*$",
    re.I,
)
# lines only removed at the end of the body
_TRAILING_LINE = re.compile(
    r"^\W*(?:tags?|topics?|filed under|categories|category|related topics|keywords|posted in|"
    r"more on(?: this)?(?: story| topic)?|about the author|share(?: this)?(?: article| story| post)?)"
    r"\s*(?:[:|»>\-–]|$)",
    re.I,
)
# reader appeals closing an article (membership, donations), removed from the end of the body
_APPEAL = re.compile(
    r"^\W*(?:if you (?:enjoy|enjoyed|like|liked|value|valued|appreciate|appreciated|found)\b.{0,60}?"
    r"\b(?:article|story|post|piece|journalism|reporting|work|content)\b.{0,80}?"
    r"\b(?:join|subscri|member|donat|support|contribut|consider)"
    r"|(?:please )?(?:support|help fund|fund) (?:our|independent|quality|local)\b.{0,40}\b(?:journalism|reporting|newsroom)"
    r"|become an? (?:member|subscriber|supporter|patron)\b)",
    re.I,
)
#: a closing appeal is at most this long
APPEAL_MAX_WORDS = 120
_SENTENCE_END = re.compile(r"[.!?…][\"”’)]?\s*$")

_trafilatura = None


# ----------------------------------------------------------------------------- trafilatura import


def _load_trafilatura():
    """Import trafilatura lazily, once, and do its one-time set-up outside any page's time."""
    global _trafilatura
    if _trafilatura is None:
        import trafilatura
        import trafilatura.external
        import trafilatura.utils
        import trafilatura.xml

        # the union of jusText's stoplists (~0.2 s) is built on first use: build it now, not
        # inside the first page that needs the jusText fallback
        if trafilatura.external.JT_STOPLIST is None:
            trafilatura.external.jt_stoplist_init()
        _trafilatura = trafilatura
    return _trafilatura


# ----------------------------------------------------------------------------- parsing


# libxml2 checks every attribute of a tag against the tag's other attributes: a tag carrying 100,000
# of them (1.4 MB) took minutes to parse. A tag whose attributes run past this many characters keeps
# its name and loses its attributes (none of which is text).
MAX_TAG_ATTRIBUTE_CHARS = 32 * 1024
_OVERLONG_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9:_-]{0,63})\s[^<>]{%d,}>" % MAX_TAG_ATTRIBUTE_CHARS)
_OVERLONG_TAG_BYTES = re.compile(_OVERLONG_TAG.pattern.encode())


def strip_overlong_tags(html: str | bytes) -> str | bytes:
    """``html`` with the attributes of tags longer than ``MAX_TAG_ATTRIBUTE_CHARS`` removed."""
    if isinstance(html, bytes):
        return _OVERLONG_TAG_BYTES.sub(rb"<\1>", html)
    return _OVERLONG_TAG.sub(r"<\1>", html)


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


def cap_nesting(html: str | bytes, max_depth: int = MAX_NESTING) -> str | bytes:
    """``html`` with the start and end tags of elements nested deeper than ``max_depth`` removed (a
    space in their place), so that their text joins the element at ``max_depth``; paragraphs,
    headings, list items and table cells keep theirs for ``TEXT_BLOCK_EXTRA_DEPTH`` levels more. Nesting is
    followed the way a browser mostly does: void elements open nothing, an end tag closes what was
    opened after its start tag, ``<p>`` after ``<p>`` is a sibling; raw-text elements (script,
    style...) are skipped to their end tag."""
    is_bytes = isinstance(html, bytes)
    token = _TOKEN_BYTES if is_bytes else _TOKEN_STR
    space = b" " if is_bytes else " "
    out: list = []
    stack: list[tuple[str, bool]] = []  # (name, kept) of every open element
    open_count: dict[str, int] = {}
    kept_depth = 0
    pos = last = 0
    while (match := token.search(html, pos)) is not None:
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
                out += [html[last:match.start()], space]
                last = pos
            continue
        if name in _SELF_CLOSING_SIBLINGS and stack and stack[-1][0] == name:
            _, kept_sibling = stack.pop()
            open_count[name] -= 1
            kept_depth -= kept_sibling
        kept = kept_depth < max_depth + (TEXT_BLOCK_EXTRA_DEPTH if name in _TEXT_BLOCK_TAGS else 0)
        if name in _RAW_TEXT_TAGS:
            end = re.compile((rb"</" if is_bytes else "</") + re.escape(raw) + (rb"\s*>" if is_bytes else r"\s*>"),
                             re.I).search(html, pos)
            pos = end.end() if end else len(html)
            continue  # opened and closed here: its depth does not matter, only its parent's
        stack.append((name, kept))
        open_count[name] = open_count.get(name, 0) + 1
        kept_depth += kept
        if not kept:
            out += [html[last:match.start()], space]
            last = pos
    if not out:
        return html
    out.append(html[last:])
    return (b"" if is_bytes else "").join(out)


def _too_deep(parser) -> bool:
    return any(e.type_name == "ERR_RESOURCE_LIMIT" and "depth" in e.message for e in parser.error_log)


def parse_html(html: str | bytes):
    """An lxml.html tree of the page, or None if it is not HTML at all."""
    if not html:
        return None
    traf = _load_trafilatura()
    try:
        html = strip_overlong_tags(html)
        tree = traf.utils.load_html(html)
        if _too_deep(traf.utils.HTML_PARSER):
            tree = traf.utils.load_html(cap_nesting(html))
        return tree
    except Exception as err:  # noqa: BLE001 - malformed input must not crash the stage
        LOGGER.debug("parse failed: %s", err)
        return None


# ----------------------------------------------------------------------------- body


def _norm_text(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _tokens_key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _block_text(elem) -> str:
    return _norm_text("".join(elem.itertext()))


def _link_text_len(elem) -> int:
    """Characters of link text in a block; e-mail links (a byline's address) are not navigation."""
    return sum(
        len(_norm_text("".join(ref.itertext())))
        for ref in elem.iter("ref")
        if not (ref.get("target") or "").lower().startswith("mailto:")
    )


def _run_trafilatura(tree, url: str | None, fast: bool):
    traf = _load_trafilatura()
    return traf.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=True,
        include_comments=False,
        include_links=True,  # kept to measure link density, stripped before serialization
        include_tables=True,
        include_images=False,
        include_formatting=False,
        output_format="python",
    )


def _body_len(doc) -> tuple[int, int]:
    if doc is None or doc.body is None:
        return 0, 0
    text = doc.text or ""
    return len(text), len(doc.body)


def _is_title(text_key: str, title_keys: set[str]) -> bool:
    if not text_key:
        return False
    for key in title_keys:
        if text_key == key:
            return True
        # title with a site suffix or a kicker/section label glued on
        if len(key) >= 20 and (text_key.startswith(key) or text_key.endswith(key)) and len(text_key) <= len(key) * 1.5:
            return True
    return False


def _is_promo(text: str, link_chars: int) -> bool:
    """A promo label used as one: followed by a separator or nothing, short, or carrying a link."""
    match = _PROMO_START.match(text)
    if not match:
        return False
    return bool(
        _LABEL_END.match(text, match.end())
        or len(_WORD.findall(text)) <= 8
        or link_chars >= 0.3 * len(text)
    )


def _title_keys(meta: PageMetadata | None) -> set[str]:
    if meta is None:
        return set()
    keys = {_tokens_key(t) for t in [meta.title, meta.h1, *meta.raw_titles] if t}
    keys.discard("")
    return keys


def _anchored(doc, title_keys: set[str]) -> bool:
    """The fast pass found the article itself: its text opens with the page's headline."""
    if doc is None or doc.body is None or not title_keys or len(_WORD.findall(doc.text or "")) < ANCHORED_MIN_WORDS:
        return False
    return any(_is_title(_tokens_key(_block_text(elem)), title_keys) for elem in doc.body[:2])


def _drop(elem) -> None:
    """Remove ``elem`` but keep its tail (loose text after it belongs to the next paragraph)."""
    parent = elem.getparent()
    if parent is None:
        return
    tail = elem.tail
    if tail and tail.strip():
        prev = elem.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(elem)


_CONTAINERS = frozenset(("div", "section", "article", "main", "body", "span"))
_BLOCKS = frozenset(("p", "head", "list", "quote", "table", "div", "section", "article", "main", "code", "h1", "h2", "h3", "h4", "ul", "ol"))


def _leaf_blocks(parent):
    """Paragraph-level elements; containers (readability's fallback output nests divs) are opened."""
    for elem in parent:
        if not isinstance(elem.tag, str):
            continue
        if elem.tag in _CONTAINERS and any(child.tag in _BLOCKS for child in elem):
            yield from _leaf_blocks(elem)
        elif elem.tag in _BLOCKS or parent.tag == "body":
            yield elem  # inline elements (links, emphasis) between blocks stay with their text


def _clean_blocks(body, meta: PageMetadata | None) -> None:
    """Remove promo/link blocks, a repeated headline at the top and trailing boilerplate, in place."""
    blocks = list(_leaf_blocks(body))
    kept = []
    for elem in blocks:
        text = _block_text(elem)
        if not text:
            _drop(elem)
            continue
        words = len(_WORD.findall(text))
        links = _link_text_len(elem)
        if (
            links
            and links >= LINK_DENSITY_MAX * len(text)
            and words <= LINK_BLOCK_MAX_WORDS
            and not (words >= 6 and _SENTENCE_END.search(text))  # a linked sentence is still prose
        ):
            _drop(elem)
            continue
        if elem.tag != "list" and words <= 30 and (_is_promo(text, links) or _BOILER_LINE.match(text)):
            _drop(elem)
            continue
        kept.append(elem)

    # the headline repeated as the first block(s)
    title_keys = _title_keys(meta)
    if title_keys and kept:
        for _ in range(2):
            if kept and kept[0].tag in ("head", "p") and _is_title(_tokens_key(_block_text(kept[0])), title_keys):
                _drop(kept.pop(0))

    # trailing boilerplate: short label/share/tag lines at the very end
    while kept:
        last = kept[-1]
        text = _block_text(last)
        words = len(_WORD.findall(text))
        if words <= 40 and (_TRAILING_LINE.match(text) or _BOILER_LINE.match(text) or _is_promo(text, _link_text_len(last))):
            _drop(kept.pop())
            continue
        if words <= APPEAL_MAX_WORDS and _APPEAL.match(text):
            _drop(kept.pop())
            continue
        if last.tag == "head" and len(kept) > 1:  # a heading with nothing after it
            _drop(kept.pop())
            continue
        break


def _serialize(body) -> str:
    traf = _load_trafilatura()
    # trafilatura's own extractor emits flat paragraphs; nested divs mean the readability fallback
    fragmented = body.find(".//div") is not None
    strip_tags(body, "ref")  # links only served the link-density test
    _flatten_lists(body)
    # source line breaks inside a paragraph are not paragraph breaks (<lb/> elements are)
    for elem in body.iter():
        if elem.text and "\n" in elem.text:
            elem.text = elem.text.replace("\n", " ")
        if elem.tail and "\n" in elem.tail:
            elem.tail = elem.tail.replace("\n", " ")
    try:
        text = traf.xml.xmltotxt(body, False)
    except Exception:  # noqa: BLE001 - fall back to raw text
        text = "\n".join(_block_text(elem) for elem in body)
    paragraphs = [p for p in (_norm_text(line) for line in text.split("\n")) if p]
    if fragmented:
        paragraphs = _merge_fragments(paragraphs)
    while paragraphs and _is_dateline(paragraphs[0]):  # the page's dateline, kept as loose text
        paragraphs.pop(0)
    paragraphs = [_ITEM_SEP_RE.sub("\n", p).strip() for p in paragraphs]
    return "\n\n".join(p for p in paragraphs if p)


# joins the items of a flattened list inside one paragraph until the very end (no whitespace or
# control character: the paragraph split, whitespace collapsing and trafilatura leave it alone)
_ITEM_SEP = " ~gleaner~item~ "
_ITEM_SEP_RE = re.compile(r"\s*(?:~gleaner~item~\s*)+")


def _flatten_lists(body) -> None:
    """A simple list becomes one block, its items one per line and without markers ("- "),
    like the text-dump cleaner's lists (trafilatura would make every item a paragraph)."""
    for lst in list(body.iter("list")):
        parent = lst.getparent()
        if parent is None or lst.find(".//list") is not None or any(a.tag == "list" for a in lst.iterancestors()):
            continue
        items = [_norm_text("".join(item.itertext())) for item in lst.iter("item")]
        items = [item for item in items if item]
        if not items:
            continue
        para = lst.makeelement("p")
        para.text = _ITEM_SEP.join(items)
        para.tail = lst.tail
        parent.replace(lst, para)


#: a dateline is a date with at most this many other words (weekday, "Published", "às")
DATELINE_MAX_OTHER_WORDS = 3


def _is_dateline(text: str) -> bool:
    """A short line that is only a date ("sexta-feira, 22 de outubro de 2010 às 20:13")."""
    if len(text) > 80 or not any(c.isdigit() for c in text):
        return False
    match = _search_date(text)
    return match is not None and len(_WORD.findall(text[: match.start()] + " " + text[match.end() :])) <= DATELINE_MAX_OTHER_WORDS


_CONTINUATION = re.compile(r"^(?:[,.;:)\]!?…]|[a-z][a-z\s])")


def _merge_fragments(paragraphs: list[str]) -> list[str]:
    """Rejoin sentences that readability's output splits around links ("cited by" / "DigiTimes" / ". A")."""
    merged: list[str] = []
    for para in paragraphs:
        if merged and _CONTINUATION.match(para):
            sep = "" if para[0] in ",.;:)]!?…" else " "
            merged[-1] = f"{merged[-1]}{sep}{para}"
        else:
            merged.append(para)
    return merged


def _safe_run(tree, url: str | None, fast: bool):
    try:
        return _run_trafilatura(tree, url, fast)
    except Exception as err:  # noqa: BLE001 - RecursionError on absurd nesting, lxml errors...
        LOGGER.debug("trafilatura (fast=%s) failed: %s %s", fast, type(err).__name__, url)
        return None


# inline elements that stay inside a run of loose text; anything else (br, blocks) ends the run
_INLINE_TAGS = frozenset((
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font",
    "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
    "tt", "u", "var", "wbr",
))
# elements whose loose text runs are not re-wrapped (they are paragraphs already, or not prose)
_NO_WRAP = frozenset((
    "p", "li", "dt", "pre", "code", "h1", "h2", "h3", "h4", "h5", "h6", "a", "ul", "ol", "dl", "table",
    "tbody", "thead", "tr", "head", "title", "select", "option", "button", "label", "textarea", "script",
    "style", "noscript", "template", "figcaption", "caption",
))


def _is_inline(elem) -> bool:
    tag = elem.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return True
    if tag not in _INLINE_TAGS:
        return False
    # an inline element holding blocks or line breaks is a boundary, not part of a sentence
    return not any(isinstance(d.tag, str) and (d.tag == "br" or d.tag not in _INLINE_TAGS) for d in elem.iterdescendants())


def _has_words(text: str | None) -> bool:
    return bool(text) and _WORD.search(text) is not None


def _wrap_loose_runs(tree) -> None:
    """Wrap runs of loose text mixed with inline elements (``text<br><br>a <a>link</a> is...``) in <p>.

    Article text written as a container's own text between <br>s is otherwise cut by trafilatura
    into one paragraph per text node: a sentence is split around each link or bold name, and the
    space after the inline element is lost ("<strong><a>Adorama</a></strong> is" -> "Adoramais").
    As paragraphs, the runs keep their inline elements and spacing.
    """
    parents = []
    seen = set()
    for br in tree.iter("br"):
        parent = br.getparent()
        if parent is None or parent in seen:
            continue
        seen.add(parent)
        if not isinstance(parent.tag, str) or parent.tag in _NO_WRAP:
            continue
        if any(anc.tag in _NO_WRAP for anc in parent.iterancestors()):
            continue
        loose = _has_words(parent.text) or any(_has_words(child.tail) for child in parent)
        mixed = any(
            isinstance(child.tag, str) and child.tag in _INLINE_TAGS and _has_words(child.text_content())
            for child in parent
        )
        if loose and mixed:
            parents.append(parent)
    for parent in parents:
        segments = []
        anchor, lead, members = None, parent.text, []
        for child in parent:
            # a text-only <div> among the runs is a paragraph like them; left a <div>, trafilatura
            # would skip it once the runs count as paragraphs
            if child.tag == "div" and _has_words(child.text_content()) and all(
                isinstance(d.tag, str) and d.tag in _INLINE_TAGS for d in child.iterdescendants()
            ):
                child.tag = "p"
                child.attrib.clear()
            if _is_inline(child):
                members.append(child)
            else:
                segments.append((anchor, lead, members))
                anchor, lead, members = child, child.tail, []
        segments.append((anchor, lead, members))
        for anchor, lead, members in segments:
            if not (_has_words(lead) or any(
                _has_words(m.tail) or (isinstance(m.tag, str) and _has_words(m.text_content())) for m in members
            )):
                continue
            para = parent.makeelement("p")
            para.text = lead
            if anchor is None:
                parent.text = None
                parent.insert(0, para)
            else:
                anchor.tail = None
                anchor.addnext(para)
            for member in members:
                para.append(member)


_EMBED_CLASS = re.compile(r"\b(?:twitter-tweet|instagram-media|tiktok-embed)\b")
_SCRIPTISH = frozenset(("script", "noscript", "style", "template"))


def _only_child(elem, child) -> bool:
    """``child`` is ``elem``'s only content (scripts, comments and whitespace aside)."""
    if elem.text and elem.text.strip():
        return False
    for other in elem:
        if other.tail and other.tail.strip():
            return False
        if other is not child and isinstance(other.tag, str) and other.tag not in _SCRIPTISH:
            return False
    return True


def _unwrap_embeds(tree) -> None:
    """Lift embedded posts (tweets, Instagram) out of their widget wrappers.

    The quoted post is part of the story, but the wrapper's class ("article-widget",
    "embed-container"...) makes trafilatura discard it with its boilerplate tokens. The
    <blockquote> itself replaces the wrappers that hold nothing else.
    """
    for quote in [q for q in tree.iter("blockquote") if _EMBED_CLASS.search(q.get("class") or "")]:
        top = quote
        parent = quote.getparent()
        while parent is not None and parent.tag in ("div", "figure", "section", "span", "aside") and _only_child(parent, top):
            top, parent = parent, parent.getparent()
        quote.attrib.clear()
        if top is not quote and parent is not None:
            quote.tail = top.tail
            parent.replace(top, quote)


# elements that hold an image's caption when they come right after it
_CAPTION_TAGS = frozenset(("span", "em", "i", "small", "center", "font", "cite"))
_CAPTION_CLASS = re.compile(r"caption|credit", re.I)
#: a caption is at most this many words
CAPTION_MAX_WORDS = 30


def _image_block(img):
    """The outermost element around ``img`` that holds nothing else (the image's wrapper)."""
    top = img
    parent = img.getparent()
    while parent is not None and parent.tag in ("div", "a", "span", "p", "figure", "picture", "center") and _only_child(parent, top):
        top, parent = parent, parent.getparent()
    return top


def _drop_image_captions(tree) -> None:
    """Drop the caption written right after an image as a short inline element.

    ``<div><img></div><br><span class="small">Apple's new laptop</span>`` or
    ``<img><center><em>The keyboard via iFixit</em></center>``: trafilatura keeps such captions as
    a line of the text (read as a subheading, or glued to the next paragraph). <figcaption> is
    handled by trafilatura itself.
    """
    captions = []
    for img in tree.iter("img"):
        top = _image_block(img)
        if top.tail and top.tail.strip():
            continue  # text runs on after the image: no caption element
        nxt = top.getnext()
        while nxt is not None and (not isinstance(nxt.tag, str) or nxt.tag == "br") and not (nxt.tail and nxt.tail.strip()):
            nxt = nxt.getnext()
        if nxt is None or not isinstance(nxt.tag, str):
            continue
        if not (nxt.tag in _CAPTION_TAGS or (nxt.tag in ("div", "p") and _CAPTION_CLASS.search(nxt.get("class") or ""))):
            continue
        if nxt.tail and nxt.tail.strip():
            continue  # the start of a run of text, not a line of its own
        if any(isinstance(d.tag, str) and d.tag not in _INLINE_TAGS for d in nxt.iterdescendants()):
            continue
        text = nxt.text_content()
        if _has_words(text) and len(_WORD.findall(text)) <= CAPTION_MAX_WORDS:
            captions.append(nxt)
    for caption in captions:
        if caption.getparent() is not None:
            caption.drop_tree()  # keeps its tail


def extract_body(tree, url: str | None = None, meta: PageMetadata | None = None) -> str:
    """Main text of a parsed page, paragraphs separated by blank lines ("" if none)."""
    if tree is None:
        return ""
    try:
        _unwrap_embeds(tree)
        _drop_image_captions(tree)
        _wrap_loose_runs(tree)
    except Exception as err:  # noqa: BLE001 - a best-effort repair, never a reason to fail
        LOGGER.debug("repairing the tree failed: %s %s", type(err).__name__, url)
    doc = _safe_run(tree, url, fast=True)
    n_chars, n_blocks = _body_len(doc)
    if (n_chars < FULL_PASS_MIN_CHARS or n_blocks < FULL_PASS_MIN_BLOCKS) and not _anchored(doc, _title_keys(meta)):
        full = _safe_run(tree, url, fast=False)
        if _body_len(full)[0] > n_chars:
            doc = full
    if doc is None or doc.body is None or not len(doc.body):
        return ""
    try:
        _clean_blocks(doc.body, meta)
        body = _serialize(doc.body)
    except Exception as err:  # noqa: BLE001 - a page must never crash the stage
        LOGGER.debug("post-processing failed: %s %s", type(err).__name__, url)
        return ""
    if len(_WORD.findall(body)) < MIN_BODY_WORDS and len(body) < MIN_BODY_CHARS:
        return ""
    return body


# ----------------------------------------------------------------------------- stage


def clean_html(html: str, url: str | None = None) -> Extraction:
    """Clean one HTML page: main content in ``body`` plus the page's own metadata."""
    tree = parse_html(html)
    if tree is None:
        return Extraction(body="")
    try:
        meta = extract_metadata(tree, url)
    except Exception as err:  # noqa: BLE001 - metadata is best effort, the body still counts
        LOGGER.debug("metadata failed: %s %s", type(err).__name__, url)
        meta = PageMetadata()
    body = extract_body(tree, url, meta)
    return Extraction(
        body=body,
        title=meta.title,
        description=meta.description,
        authors=meta.authors,
        published_at=meta.published_at,
        site_name=meta.site_name,
        canonical_url=meta.canonical_url,
        tags=meta.tags,
        language=meta.language,
    )
