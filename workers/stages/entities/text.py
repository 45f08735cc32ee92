"""Text preparation: title + body, paragraphs, the lead, and body lines that are page furniture."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Longest text (title + body) looked at; the rest of a very long page is ignored.
MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True)
class EntityInput:
    """What the enrich stage needs of a page.

    ``body`` has paragraphs separated by blank lines; ``tags`` are the page's own tags (they help
    canonicalize names, they never create entities); ``language`` is ISO 639-1 if known.
    """

    title: str | None
    body: str
    tags: tuple[str, ...] = ()
    language: str | None = None


@dataclass
class Prepared:
    """A page's text as the model reads it, with the offsets the later steps need."""

    text: str
    body_start: int  # offset of the body in ``text`` (0 without a title)
    para_starts: list[int]  # body paragraph start offsets, ascending
    lead_end: int
    has_title: bool
    tags: tuple[str, ...]
    title_end: int = 0  # end of the title in ``text``
    #: body lines that are not article text: ``(start, end, kind)``, ascending
    boiler: list[tuple[int, int, str]] = field(default_factory=list)


def normalize_newlines(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\r", "\n")


def prepare(page: EntityInput, model_lang: str, max_chars: int = MAX_TEXT_CHARS) -> Prepared | None:
    lang = (page.language or "").strip().lower().replace("_", "-").split("-")[0]
    if lang and model_lang and lang != model_lang.lower():
        return None
    title = " ".join((page.title or "").split())
    body = normalize_newlines(page.body or "").strip()
    if not body and not title:
        return None
    prefix = f"{title}\n\n" if title else ""
    text = prefix + body
    if len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars)
        if cut < max_chars // 2:
            cut = text.rfind(" ", 0, max_chars)
        if cut < max_chars // 2:
            cut = max_chars
        text = text[:cut]
    body_start = len(prefix) if len(text) > len(prefix) else len(text)
    para_starts = paragraph_starts(text, body_start)
    body_len = len(text) - body_start
    if len(para_starts) >= 3:
        second_end = para_starts[2]
    else:
        second_end = len(text)
    lead_end = min(second_end, body_start + max(int(0.2 * body_len), 600))
    title_end = min(len(title), len(text))
    return Prepared(text, body_start, para_starts, lead_end, bool(title), tuple(page.tags or ()),
                     title_end, boilerplate_lines(text, body_start))


def paragraph_starts(text: str, body_start: int) -> list[int]:
    """Start offsets of the body's paragraphs: blank-line separated, else one per line."""
    seps = list(re.finditer(r"\n[ \t]*\n\s*", text[body_start:]))
    if not seps:
        seps = list(re.finditer(r"\n\s*", text[body_start:]))
    return [body_start] + [body_start + m.end() for m in seps if body_start + m.end() < len(text)]


# Body lines that are page furniture even when the cleaner kept them. Every mention on such a
# line is dropped ("kind" says why; a byline counts only when a PERSON starts right after "By").
_CREDIT_LINE = re.compile(
    r"^\W{0,3}(?:additional\s+)?(?:reporting|writing|editing|edited|compiled|reported|written|"
    r"research|translation|translated|produced|photos?|photographs?|images?|pictures?|video|graphics?)"
    r"(?:\s+and\s+\w+)?\s+by\b",
    re.IGNORECASE,
)
_CREDIT_AGAIN = re.compile(r"(?:;|\b(?:editing|edited|writing|written|reporting|compiled)\s+by\b.*"
                           r"\b(?:editing|edited|writing|written|reporting|compiled)\s+by\b)", re.IGNORECASE)
_CONTRIBUTED = re.compile(
    r"\bcontributed\s+(?:additional\s+)?(?:reporting|research|to\s+(?:this|the)\s+(?:report|story|article))\b",
    re.IGNORECASE,
)
_CAPTION_LINE = re.compile(
    r"^\W{0,3}(?:(?:image|photo|picture|video|media)s?\s+(?:caption|copyright|credit|source)s?\b|"
    r"(?:captions?|credits?|sources?|photo|image|picture)\s*:)",
    re.IGNORECASE,
)
_SOCIAL = r"(?:facebook|twitter|instagram|youtube|linkedin|tiktok|snapchat|pinterest|flipboard|telegram|whatsapp|email)"
_CALL_TO_ACTION = re.compile(
    r"^\W{0,3}(?:share\s+(?:on|via|this)\b|"
    rf"(?:follow|(?:like|find|join)\s+us|connect\s+with)\s.{{0,80}}?\b(?:on|via)\s+{_SOCIAL}\b|"
    r"listen\s+(?:to\s.{0,60}?\blive\b|back\b))",
    re.IGNORECASE,
)
# a caption that ends with its picture credit: "... in Nogales, Ariz. (AP)", "( NASA/JPL-Caltech/ASU )"
_CREDIT_PAREN = re.compile(
    r"\(\s*(?:(?:AP|AFP|Reuters|EPA|UPI|PA|Getty(?:\s+Images)?|Shutterstock|iStock)(?:\s+Photos?)?"
    r"(?:\s*/[^()]*)?|[A-Z][^()\s/]*(?:\s*/\s*[A-Z][^()\s/]*)+)\s*\)\s*\.?$"
)
_BYLINE = re.compile(r"^\W{0,3}by\s+(?=[A-Z])", re.IGNORECASE)
#: A caption that starts with its picture credit: "© John Brecher Needle poking skin during ...";
#: not the page's copyright notice ("© 2019 Associated Press. All Rights Reserved.").
_COPYRIGHT_LEAD = re.compile(r"^\W{0,3}(?:©|\(c\)\s|copyright\b)(?!\s*(?:\(c\)\s*)?(?:\d{4}|copyright))",
                             re.IGNORECASE)
#: A picture credit of name and agency alone on its line: "Michael Conroy, AP", "Tom Davies Associated Press".
_NAME_AND_AGENCY = re.compile(
    r"^[A-Z][\w.'’\-]+(?:\s[A-Z][\w.'’\-]+){1,3},?\s+(?:the\s+)?(?:AP|AFP|Reuters|EPA|UPI|Getty(?:\s+Images)?|"
    r"Associated\s+Press|Agence\s+France[\s\-]Presse|Shutterstock|iStock|Bloomberg|Xinhua)(?:\s+Photos?)?\W{0,2}$",
)


def boilerplate_lines(text: str, body_start: int) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of the body lines that are credits, captions, bylines, share buttons."""
    out: list[tuple[int, int, str]] = []
    pos = body_start
    for line in text[body_start:].split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        words = len(stripped.split())
        kind = None
        if _CREDIT_LINE.match(stripped) and (words <= 15 or _CREDIT_AGAIN.search(stripped)):
            kind = "credit"
        elif words <= 25 and _CONTRIBUTED.search(stripped):
            kind = "credit"
        elif words <= 60 and _CAPTION_LINE.match(stripped):
            kind = "caption"
        elif words <= 60 and _CALL_TO_ACTION.match(stripped):
            kind = "social"
        elif words <= 60 and _CREDIT_PAREN.search(stripped):
            kind = "caption"
        elif words <= 60 and _COPYRIGHT_LEAD.match(stripped):
            kind = "caption"
        elif words <= 12 and _NAME_AND_AGENCY.match(stripped):
            kind = "credit"
        elif words <= 20 and (m := _BYLINE.match(stripped)):
            kind = f"byline:{start + (len(line) - len(line.lstrip())) + m.end()}"
        if kind:
            out.append((start, end, kind))
    return out


