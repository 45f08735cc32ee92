"""Metadata of a text dump, read from the lines around the main content: headline, standfirst,
bylines, publication date and tags. The site's name is in ``site_name.py``."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from workers.dates import parse_written_date, plausible_publication
from workers.stages.textdump.body import strip_bullet
from workers.stages.textdump.lines import Line, stopwords
from workers.stages.textdump.patterns import WORD_RE

__all__ = ["find_title", "find_authors", "find_published", "find_description", "find_tags", "parse_authors"]

# How far above the main content the header (title, standfirst, byline, dateline) is looked for.
HEADER_LINES = 25
TITLE_MARGIN = 0.35
_NOT_TITLE_RE = re.compile(r"@\w|https?://|www\.|\s[>»]\s|^[(\[{>»—–-]|\b(?:published|updated|posted)\b|\d{1,2}:\d{2}", re.I)
_SLUG_SPLIT_RE = re.compile(r"[^\w]+|_")
_LEADING_DATE_RE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b", re.I)
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|[^\d])")
_DATE_LABEL_RE = re.compile(
    r"\b(published|posted|publicado|pubblicato|publié|veröffentlicht|updated|modified|atualizado|"
    r"aggiornato|mis à jour|aktualisiert)\b",
    re.I,
)
_UPDATED_RE = re.compile(r"updated|modified|atualizado|aggiornato|mis à jour|aktualisiert", re.I)


def _meta_line(line: Line) -> bool:
    """A byline or a dateline."""
    return line.kind == "byline" or (line.has_date and line.units <= 14)


# Kept lines above a byline or dateline at the head of the kept lines: at most this many, within
# this many lines of the first.
STANDFIRST_MAX_LINES = 2
STANDFIRST_MAX_SPAN = 8


def split_standfirst(lines: list[Line], kept: list[Line]) -> tuple[list[Line], list[Line]]:
    """(standfirst, story): kept lines standing above a byline or dateline that heads the story
    belong to the page's header (a standfirst under the headline), not to the body."""
    first = kept[0].idx if kept else 0
    for n in range(1, min(STANDFIRST_MAX_LINES, len(kept) - 1) + 1):
        a, b = kept[n - 1].idx, kept[n].idx
        if b - first > STANDFIRST_MAX_SPAN:
            break
        if any(_meta_line(line) for line in lines[a + 1:b]):
            return kept[:n], kept[n:]
    return [], kept


def header_window(lines: list[Line], start: int, count: int = HEADER_LINES) -> list[Line]:
    """Up to ``count`` lines above ``start``, nearest first (share buttons are passed over free)."""
    out: list[Line] = []
    seen = 0
    j = start - 1
    while j >= 0 and seen < count:
        out.append(lines[j])
        if lines[j].kind not in ("social", "furniture"):
            seen += 1
        j -= 1
    return out


def _is_headline(line: Line) -> bool:
    return (line.kind is None and not line.bullet and 2 <= line.units <= 30
            and line.text[-1:] not in ",;:" and len(line.text) <= 300 and not line.text.endswith(")"))


def _content_words(text: str, stop: frozenset[str]) -> set[str]:
    return {w for w in WORD_RE.findall(text.lower()) if len(w) > 2 and w not in stop}


def _slug_words(url: str | None) -> set[str]:
    if not url:
        return set()
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return {w for w in _SLUG_SPLIT_RE.split(path.lower()) if len(w) > 2 and not w.isdigit()}


def find_title(lines: list[Line], start: int, lead: str, url: str | None) -> Line | None:
    """The headline among the lines just above the main content (which begins at line ``start``).

    Headline-shaped lines score for sharing words with the lead (and the URL slug when known), for
    standing next to a byline/dateline, and lose a little with distance."""
    window = header_window(lines, start)
    stop = stopwords()
    slug = _slug_words(url)
    lead_words = _content_words(lead, stop)
    scored: list[tuple[int, int, float]] = []
    d = -1
    for pos, line in enumerate(window):
        if line.kind not in ("social", "furniture"):
            d += 1
        if not _is_headline(line) or _meta_line(line) or _NOT_TITLE_RE.search(line.text):
            continue
        words = _content_words(line.text, stop)
        if not words:
            continue
        score = 2.0 * len(words & lead_words) / (len(words) + 1.5) - 0.04 * d
        if any(_meta_line(x) for x in window[max(0, pos - 4):pos + 4] if x is not line):
            score += 0.7
        if 5 <= line.units <= 25:
            score += 0.3
        elif line.units <= 2:
            score -= 0.3
        if " | " in line.text or line.dup > 2:
            score -= 0.5
        if slug:
            score += 2.0 * len(words & slug) / max(len(words), len(slug))
        if score > 0:
            scored.append((pos, d, score))
    if not scored:
        return None
    pos, d, score = max(scored, key=lambda x: x[2])
    # Headline then standfirst: when the best candidate reads like a sentence (a standfirst), a
    # similar candidate just above it is the headline.
    if window[pos].cap_ratio < 0.4:
        for pos2, d2, score2 in scored:
            if d < d2 <= d + 4 and score2 >= score - TITLE_MARGIN:
                pos, d, score = pos2, d2, score2
    return window[pos]


def find_description(header: list[Line]) -> str | None:
    """A standfirst: a sentence between the headline and the byline / main content."""
    for line in header:
        if _meta_line(line):
            return None
        if line.kind is None and not line.bullet and 8 <= line.units <= 80 and line.text[-1:] in ".!?”\"":
            return line.text
    return None


# --------------------------------------------------------------------------- authors
_BY_RE = re.compile(r"(?:^|[\s|•·,(])(?:by|BY|By|por|par|von|door)\s*:?\s+(.+)$")
_NAME_STOP_RE = re.compile(r"\s*(?:[|•·–—(\[]|\s-\s|,\s*(?!and\b)|\s(?:on|at|in|for|published|updated|posted)\s|\d).*$", re.I)
_NAME_SPLIT_RE = re.compile(r"\s*(?:,|&|\band\b|\bund\b|\be\b|\by\b|\bet\b)\s*")
_NAME_PARTICLES = frozenset("de da do dos das del della di van von der den la le du bin al ibn".split())
_ROLE_WORDS = frozenset(
    "writer columnist contributor correspondent reporter editor producer journalist photographer "
    "analyst critic author".split()
)
_ROLE_QUALIFIERS = frozenset(
    "staff senior business contributing political chief associate deputy managing news science "
    "tech technology health sports special foreign national opinion investigative digital".split()
)


def _titlecase_name(name: str) -> str:
    """"CELIA JEAN" -> "Celia Jean", "O'BRIEN" -> "O'Brien"; mixed-case names are kept."""
    if not name.isupper():
        return name
    out = []
    for word in name.split():
        low = word.lower()
        out.append(low if low in _NAME_PARTICLES else re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), low))
    return " ".join(out)


def _strip_role(words: list[str]) -> list[str]:
    """"Meg James Staff Writer" -> "Meg James"."""
    for k, w in enumerate(words):
        if k and w.lower() in _ROLE_WORDS:
            if k > 1 and words[k - 1].lower() in _ROLE_QUALIFIERS:
                k -= 1
            return words[:k]
    return words


def parse_authors(text: str) -> list[str]:
    """The names of a "By ..." line."""
    m = _BY_RE.search(text)
    if m is None:
        return []
    names = _NAME_STOP_RE.sub("", m.group(1)).strip(" .:")
    out = []
    for name in _NAME_SPLIT_RE.split(names):
        words = _strip_role(name.strip(" .:").split())
        if not 1 <= len(words) <= 5 or not words[0][:1].isupper():
            continue
        if any(not (w[:1].isupper() or w.lower() in _NAME_PARTICLES) for w in words):
            continue
        out.append(_titlecase_name(" ".join(words)))
    return out


def find_authors(candidates: list[Line]) -> list[str]:
    """Names of the first byline(s) among ``candidates`` (header lines, in reading order)."""
    authors: list[str] = []
    for line in candidates:
        if line.units <= 25 and "by" in line.text.lower() and (line.kind == "byline" or line.has_date):
            for name in parse_authors(line.text):
                if name.lower() not in {x.lower() for x in authors}:
                    authors.append(name)
        if authors and line.kind != "byline":
            break
    return authors


# --------------------------------------------------------------------------- dates
def find_published(lines: list[Line], header: list[Line], url: str | None) -> datetime | None:
    """Publication date: a dated header line ("Published ..." preferred over "Updated ..."),
    else a leading ``date YYYY-MM-DD`` line, else a /YYYY/MM/DD/ URL path."""
    published = updated = plain = None
    for line in header:
        if line.units > 40 or not line.has_year:
            continue
        parts = _DATE_LABEL_RE.split(line.text)  # "By X | Nov 18, 2019 - Updated Nov 18 at 4:46 PM"
        label = None
        for part in parts:
            if _DATE_LABEL_RE.fullmatch(part):
                label = part.lower()
                continue
            if not part.strip():
                continue
            found = plausible_publication(parse_written_date(part))
            if found is None:
                continue
            if label is None:
                plain = plain or found
            elif _UPDATED_RE.match(label):
                updated = updated or found
            else:
                published = published or found
    found = published or plain
    if found is None and lines:
        m = _LEADING_DATE_RE.match(lines[0].text)
        if m:
            found = plausible_publication(parse_written_date(m.group(1)))
    if found is None and url:
        m = _URL_DATE_RE.search(url)
        if m:
            try:
                found = plausible_publication(datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc))
            except ValueError:
                found = None
    return found or updated


# --------------------------------------------------------------------------- tags
_TAG_SEP_RE = re.compile(r"\s*(?:[,;|•·]|\s/\s|\s{2,})\s*")
_GLUE_RE = re.compile(r"(?<=[a-z0-9]{3})(?=[A-Z][a-z])|(?<=[a-z]{3})(?=[A-Z]{2,}\b)")
_TAG_PREFIX_RE = re.compile(
    r"^[\W_]*(?:related tags|tags?|tagged(?: with| in)?|topics?|keywords|filed under|etiquetas|schlagworte|"
    r"palavras-chave)\b\s*[:\-–]?\s*(.*)$",
    re.I,
)


def _norm_phrase(text: str) -> str:
    return " ".join(re.findall(r"[\w'’-]+", text.replace("’", "'")))


def _split_run_together(text: str, article: str) -> list[str]:
    """Split "Benny Gantz Jared Kushner" into tags with the longest phrases found in the article
    (``article``: normalised, padded with spaces); the rest is taken two words at a time."""
    tokens = text.split()
    tags: list[str] = []
    unmatched: list[str] = []

    def flush() -> None:
        i = 0
        while i < len(unmatched):
            take = 2 if len(unmatched) - i != 3 else 3
            tags.append(" ".join(unmatched[i:i + take]))
            i += take
        unmatched.clear()

    i = 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + 6), i + 1, -1):
            phrase = " ".join(tokens[i:j])
            if f" {_norm_phrase(phrase)} " in article:
                flush()
                tags.append(phrase)
                i = j
                break
        else:
            unmatched.append(tokens[i])
            i += 1
    flush()
    return tags


def _split_tags(text: str, article: str) -> list[str]:
    if _TAG_SEP_RE.search(text):
        return [t for t in _TAG_SEP_RE.split(text) if t]
    out: list[str] = []
    for piece in (p.strip() for p in _GLUE_RE.split(text) if p.strip()):
        out.extend([piece] if len(piece.split()) <= 2 else _split_run_together(piece, article))
    return out


def find_tags(lines: list[Line], start: int, end: int, article_text: str) -> list[str]:
    """The items of the first "Tags" line (or "Tags:" heading and its list) between ``start`` and ``end``."""
    article = " " + _norm_phrase(article_text) + " "
    for i in range(max(0, start), min(len(lines), end)):
        line = lines[i]
        if line.units > 40:
            continue
        m = _TAG_PREFIX_RE.match(strip_bullet(line.text))
        if m is None:
            continue
        rest = m.group(1).strip()
        items: list[str] = []
        if rest:
            items = _split_tags(rest, article)
        else:
            for nxt in lines[i + 1:i + 15]:
                if nxt.units > 12 or nxt.kind in ("section", "comments", "legal", "social"):
                    break
                if items and (nxt.blank_before or not nxt.bullet):
                    break
                text = strip_bullet(nxt.text)
                items.extend(_split_tags(text, article) if not nxt.bullet else [text.rstrip(",;|")])
        items = [t.strip(" .:#") for t in items]
        items = [t for t in items if t and len(t) <= 60]
        if items:
            seen: set[str] = set()
            unique: list[str] = []
            for t in items:
                if t.lower() not in seen:
                    seen.add(t.lower())
                    unique.append(t)
            return unique
    return []
